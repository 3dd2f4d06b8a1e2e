"""Bring the embedded two-host lab up, down, and report on it."""

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace

from .. import local
from ..errors import BenchError
from ..hosts import load_hosts, load_vms
from ..remote import Remote, connect_vm
from . import machine
from .credentials import Credentials
from .guest import Guest, describe_boot
from .machine import Machine
from .network import Bridge, Component, ManagementLink, Namespace, Wire, WireBridge
from .spec import HOST_LETTERS, LETTERS, LabSpec
from .sshd import Sshd
from .switch import SlowLink, WirePort


def components(spec: LabSpec, say: Callable[[str], None] = print,
               removing: bool = False) -> list[Component]:
    """Every piece of the lab, in build order; for removal, every piece of either kind of lab
    and of any number of hosts (removal goes in reverse)."""
    machines: list[Component] = [WireBridge(spec), *(Machine(spec, x, say) for x in HOST_LETTERS)]
    if spec.machines and not removing:
        return [Credentials(spec), Bridge(spec), *machines]
    letters = LETTERS if removing else spec.letters
    guests = [Guest(spec, x, say) for x in HOST_LETTERS] if spec.vms or removing else []
    wires: list[Component] = ([Wire(spec)] if not spec.switched or removing else [])
    if spec.switched or removing:
        wires += [WireBridge(spec), *(WirePort(spec, x) for x in letters), SlowLink(spec)]
    return [
        Credentials(spec),
        *(Namespace(spec, x) for x in letters),
        Bridge(spec),
        *(ManagementLink(spec, x) for x in letters),
        *wires,
        *(Sshd(spec, x) for x in letters),
        *guests,
        *(machines if removing else []),
    ]


@dataclass(frozen=True)
class Check:
    component: str
    problem: str | None


@dataclass(frozen=True)
class LabStatus:
    spec: LabSpec
    checks: list[Check]
    namespaces_present: int

    @property
    def state(self) -> str:
        """"up" (healthy), "down" (no namespace of the lab exists) or "broken" (anything else)."""
        if all(c.problem is None for c in self.checks):
            return "up"
        return "down" if self.namespaces_present == 0 else "broken"


def _preflight(what: str) -> None:
    local.require_root(what)
    local.require_netns()
    if shutil.which("ssh-keygen") is None or not shutil.which("/usr/sbin/sshd"):
        raise BenchError("OpenSSH (ssh-keygen, /usr/sbin/sshd) is not installed",
                         "run ./bootstrap.sh (it installs openssh-server)")


def _check_compatible(spec: LabSpec) -> None:
    recorded = LabSpec.recorded(spec.lab_id, spec.state_root)
    if not spec.spec_file.is_file() or Bridge(recorded).problem() is not None:
        return
    if (recorded.mgmt_subnet, recorded.wire_subnet) != (spec.mgmt_subnet, spec.wire_subnet):
        raise BenchError(f"lab {spec.lab_id} is up with other subnets "
                         f"({recorded.mgmt_subnet}, {recorded.wire_subnet})",
                         "run `invoke lab.down` first")
    if recorded.hosts != spec.hosts:
        raise BenchError(f"lab {spec.lab_id} is up with {recorded.hosts} hosts; it cannot "
                         f"become a lab of {spec.hosts} in place (its data network differs)",
                         "run `invoke lab.down` first")
    if recorded.machines != spec.machines:
        raise BenchError(f"lab {spec.lab_id} is up with {recorded.kind} as its hosts; its hosts "
                         f"cannot become {spec.kind} in place (they share addresses)",
                         "run `invoke lab.down` first")


def up(spec: LabSpec, say: Callable[[str], None] = print) -> list[str]:
    """Create whatever is missing or wrong; return what changed (empty: the lab was already up)."""
    _preflight("lab up")
    _check_compatible(spec)
    changed: list[str] = []
    parts = components(spec, say)
    try:
        for part in parts:
            problem = part.problem()
            if problem is None:
                continue
            say(f"building {part.name} ({problem})")
            part.remove()
            part.build()
            changed.append(part.name)
        for part in parts:
            if isinstance(part, Machine) and part.name in changed:
                part.wait()  # both started before either is waited for: they boot at once
        spec.save()
        _login_check(spec)
    except BaseException:
        say("lab up failed; `invoke lab.down` removes whatever it created")
        raise
    return changed


def _login_check(spec: LabSpec) -> None:
    """Prove the lab through the path the collector uses: SSH with a pinned key, run a command."""
    hosts = load_hosts(spec.hosts_file)
    for host in hosts:
        with Remote(host) as remote:
            remote.check(["true"], timeout=10)
    for vm in load_vms(spec.hosts_file):
        with connect_vm(vm, hosts) as remote:
            remote.check(["true"], timeout=30)


def down(spec: LabSpec, purge: bool = False) -> list[str]:
    """Remove every namespace, link and process of the lab; also after a half-failed `up`."""
    local.require_root("lab down")
    removed = []
    for part in reversed(components(spec, removing=True)):
        if isinstance(part, Credentials):
            continue
        if part.problem() != "missing":
            removed.append(part.name)
        part.remove()
    if purge and spec.state_dir.exists():
        shutil.rmtree(spec.state_dir)
        removed.append(str(spec.state_dir))
    elif (spec.vms or spec.machines) and spec.spec_file.is_file():
        # the next `lab up` has VMs, or machines, only when asked again
        replace(spec, vms=False, machines=False).save()
    return removed


def status(spec: LabSpec) -> LabStatus:
    local.require_root("lab status")
    parts = components(spec)
    checks = [Check(p.name, p.problem()) for p in parts]
    present = sum(1 for p, c in zip(parts, checks, strict=True)
                  if isinstance(p, Namespace) and c.problem != "missing")
    if all(c.problem is None for c in checks):
        hosts = load_hosts(spec.hosts_file)
        for host in hosts:
            try:
                with Remote(host, connect_timeout=5) as remote:
                    remote.check(["true"], timeout=5)
                boot = (f" ({machine.describe_boot(spec, HOST_LETTERS[hosts.index(host)])})"
                        if spec.machines else "")
                checks.append(Check(f"SSH login to {host.describe()}{boot}", None))
            except BenchError as exc:
                checks.append(Check(f"SSH login to {host.describe()}", exc.message))
        for vm in load_vms(spec.hosts_file):
            letter = HOST_LETTERS[[h.name for h in hosts].index(vm.host)]
            what = f"SSH login to {vm.describe()} ({describe_boot(spec, letter)})"
            try:
                with connect_vm(vm, hosts) as remote:
                    remote.check(["true"], timeout=15)
                checks.append(Check(what, None))
            except BenchError as exc:
                checks.append(Check(what, exc.message))
    return LabStatus(spec, checks, present)
