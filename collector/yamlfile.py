"""YAML files a user writes (campaigns, hosts files): safe loading that refuses duplicate keys,
which plain YAML loaders accept silently (the last one wins)."""

from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError


class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return dict(loader.construct_mapping(node, deep=True))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path: Path, what: str) -> Any:
    """The document in ``path``; an empty file is None. Errors name the file."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such {what}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read this {what} ({exc})") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 — a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
