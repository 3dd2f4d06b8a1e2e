"""`invoke collect`: choose or resume a campaign, show progress, summarise. Library, not glue."""

import signal
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import campaign as campaign_mod
from . import lab, plan
from .adaptive import FIXED, RuleFactory
from .archive import Archive
from .collect import NewArchive, restore_hosts, run_campaign
from .collect import Progress as Hooks
from .console import console, say
from .errors import UsageError
from .lab.sshd import banner


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def load_campaign(path: str, spec: lab.LabSpec) -> tuple[campaign_mod.Campaign, str | None]:
    if path:
        text = Path(path).read_text() if Path(path).is_file() else None
        raw = campaign_mod.read(Path(path))
        if spec.machines:
            _refuse_nested_guests(raw, Path(path))
        c = campaign_mod.parse_file(raw, Path(path), spec.hosts_file)
        return c, text
    return campaign_mod.lab_default(spec.hosts_file), None


def _refuse_nested_guests(raw: Any, path: Path) -> None:
    """On the machine lab, `vm` would boot a TCG guest inside a TCG guest: refuse it by name
    before anything starts (the collector itself would only say the hosts list no VMs)."""
    if not isinstance(raw, dict) or raw.get("hosts", "lab") != "lab":
        return
    configurations = raw.get("configurations")
    if isinstance(configurations, list) and "vm" in configurations:
        raise UsageError(f"{path}: configurations: vm is not offered on the machine lab: its "
                         "hosts are qemu guests already, and a guest inside a TCG guest would "
                         "measure nothing but emulation",
                         "drop vm from configurations, or measure it on the namespace lab "
                         "(`invoke lab.down`, then `invoke lab.up --vms`)")


def uses_lab(c: campaign_mod.Campaign, spec: lab.LabSpec) -> bool:
    return any(h.known_hosts == str(spec.state_dir / "known_hosts") for h in c.hosts)


@dataclass(frozen=True)
class Collected:
    root: Path
    counts: dict[str, int]


def plan_only(campaign_path: str, spec: lab.LabSpec) -> tuple[dict[str, Any], list[str]]:
    """`--dry-run`: the plan's figures and its run ids in execution order; no host touched."""
    c, _ = load_campaign(campaign_path, spec)
    c.check_credentials()
    runs = plan.runs(c)
    return plan.figures(c, runs), [r.run_id for r in runs]


def collect(campaign_path: str, out: Path, resume: str, spec: lab.LabSpec,
            stopping: RuleFactory = FIXED) -> Collected:
    """Run (or resume) a campaign; ``stopping`` judges adaptive rounds (made only when the
    campaign has adaptive repetitions)."""
    into: Archive | NewArchive
    if resume:
        into = Archive.open(Path(resume))
        c = campaign_mod.parse(into.manifest["campaign"], f"{resume}/manifest.json",
                               spec.hosts_file)
        if uses_lab(c, spec) and not all(banner(h.ssh_host, h.port) for h in c.hosts):
            # Only when the lab is down (a reboot): a lab that answers may hold a killed
            # campaign's state (OVS owning the wire), which the collector itself undoes.
            lab.up(spec, say=say)
    else:
        if not campaign_path:
            say(f"no campaign file: the default campaign on the embedded lab {spec.lab_id}")
            lab.up(spec, say=say)  # idempotent: builds only what is missing
        c, text = load_campaign(campaign_path, spec)
        into = NewArchive(out, Archive.new_name(c.name), text)
    c.check_credentials()
    first_round = plan.runs(c)
    figures = plan.figures(c, first_round)
    root = into.root if isinstance(into, Archive) else out / into.name
    runs, how = ((f"{figures['runs']}", "") if "runs_max" not in figures else
                 (f"{figures['runs']}–{figures['runs_max']}", f" ({figures['repetitions']})"))
    say(f"campaign {c.name}: {runs} runs in {figures['cells']} cells{how}, "
        f"{figures['builds']} builds, seed {c.seed}; "
        + (f"archive {root}" if isinstance(into, Archive) else
           f"the archive goes to {root} once the hosts pass their checks"))
    planned = len(into.manifest["plan"]) if isinstance(into, Archive) else figures["runs"]
    previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=console, transient=False)
    try:
        with bar:
            task = bar.add_task("connecting to the hosts", total=planned)
            hooks = Hooks(on_start=lambda cell, done: bar.update(task, description=cell,
                                                                 completed=done),
                          on_done=lambda rec, done: bar.update(task, completed=done),
                          on_plan=lambda total: bar.update(task, total=total))
            archive, counts = run_campaign(c, first_round, into, hooks, stopping)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return Collected(archive.root, counts)


def restore(archive_path: str, spec: lab.LabSpec) -> list[str]:
    """`invoke restore`: the hosts of an archive's campaign as they were before it (see
    collect.restore_hosts); the archive itself is not changed and can still be resumed."""
    into = Archive.open(Path(archive_path))
    c = campaign_mod.parse(into.manifest["campaign"], f"{archive_path}/manifest.json",
                           spec.hosts_file)
    c.check_credentials()
    return restore_hosts(c, into)
