"""Where the reporter keeps what it can compute again: parsed runs and rendered SVGs.
$DPB_REPORT_CACHE overrides it (the report benchmark measures cold builds that way)."""

import os
from pathlib import Path


def cache_root() -> Path:
    explicit = os.environ.get("DPB_REPORT_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dataplane-bench"
