"""The hosts before and after a campaign: connected and checked (tools, data interfaces, the
existing endpoints), their original settings recorded and restored, their facts archived at
the start and the end, csrc built on each. collect.py orchestrates; this module touches the
hosts' state."""

import contextlib
import hashlib
import re
import shlex
from collections.abc import Sequence

from . import facts, host_tuning
from .archive import Archive, stamp
from .campaign import Campaign
from .connection import Connection
from .csrc_build import can_build, copy_binaries, ship_and_build
from .errors import BenchError
from .existing import FoundEndpoint
from .fleet import REMOTE_WORKDIR, fan_out
from .hosts import Vm
from .namespace import Namespace
from .records import TuningState
from .remote import Remote
from .runner import kill_leftover_server, require_tools
from .topology import TUNNELS, Pair, Side, existing, overlay_ovs
from .tuning import offload_names, sysctl_keys

REQUIRED_TOOLS = ["ip", "ss", "ping", "sysctl", "timeout", "setsid", "sh"]
MODULES = "cut -d' ' -f1,3 /proc/modules"  # name and how many use it
CONF_KEY = re.compile(r"net\.ipv4\.conf\.(all|default)\.[a-z0-9_]{1,64}")
UNLOAD_ROUNDS = 8  # a module's dependencies are free only once it is gone
__all__ = ["REMOTE_WORKDIR"]  # (fleet.py's) root-owned, exec allowed: csrc is built there


def campaign_tag(archive_name: str) -> str:
    """Four hex digits naming a campaign's namespaces and OVS run dirs (stable across resume)."""
    return hashlib.sha256(archive_name.encode()).hexdigest()[:4]


def pair_tags(c: Campaign, archive_name: str) -> list[str]:
    """Each pair's tag: the campaign's with one pair; with several, one per pair, all
    different (pairs measured at once on hosts that share a kernel must not share names)."""
    if not c.several_pairs:
        return [campaign_tag(archive_name)]
    tags: list[str] = []
    for p in c.pairs:
        tag, n = campaign_tag(f"{archive_name}/{p.pair_id}"), 0
        while tag in tags:
            n += 1
            tag = campaign_tag(f"{archive_name}/{p.pair_id}/{n}")
        tags.append(tag)
    return tags


def measured_vms(c: Campaign) -> tuple[Vm, ...]:
    """The VMs on side a's host and side b's, when the campaign measures them."""
    return (c.vm_on(0), c.vm_on(1)) if "vm" in c.configurations else ()


def data_interface(remote: Remote) -> str:
    out = remote.check(["ip", "-o", "addr", "show", "to", remote.host.data_address])
    if not out.strip():
        raise BenchError(f"{remote.host.describe()}: no interface has the data address "
                         f"{remote.host.data_address}",
                         "set data_address to an address configured on the host's data NIC")
    return out.split()[1].split("@")[0]


def read_mtu(remote: Remote, ns: Namespace | None, dev: str) -> int:
    # `ip`, not /sys: nsenter (a namespace named by PID) keeps the host's sysfs.
    argv = ["ip", "-o", "link", "show", "dev", dev]
    out = remote.check(ns.enter(argv) if ns else argv)
    found = re.search(r" mtu (\d+)", out)
    if not found:
        raise BenchError(f"{remote.host.describe()}: no MTU in `{' '.join(argv)}`: {out[:200]}")
    return int(found.group(1))


def set_mtu(side: Side, mtu: int) -> None:
    side.remote.check(["ip", "link", "set", "dev", side.data_if, "mtu", str(mtu)])
    if read_mtu(side.remote, None, side.data_if) != mtu:
        raise BenchError(f"{side.remote.host.describe()}: {side.data_if} did not take MTU {mtu}")


def _required_tools(c: Campaign) -> list[str]:
    tools = REQUIRED_TOOLS + [t for t in c.tools if t != "csrc"]  # csrc is built there
    if "overlay-ovs" in c.configurations:
        tools += overlay_ovs.REQUIRED_TOOLS
    if "existing" in c.configurations:
        tools += existing.REQUIRED_TOOLS
    if offload_names(c.tuning):
        tools.append("ethtool")
    return tools


def tuned(c: Campaign) -> bool:
    """Whether a profile sets anything (else no host is asked about tuning at all)."""
    return bool(sysctl_keys(c.tuning) or offload_names(c.tuning))


def require_tunnels(c: Campaign, remote: Remote) -> None:
    """The kernel modules and tools of the campaign's tunnels are on the host, or the campaign
    is refused naming all that is missing. A module counts when it is loaded, built in, or
    one `modprobe` would find (asked with -n: nothing is loaded to find out)."""
    tunnels = [TUNNELS[cfg] for cfg in c.configurations if cfg in TUNNELS]
    if not tunnels:
        return
    modules = sorted({m for t in tunnels for m in t.modules})
    tools = {tool: package for t in tunnels for tool, package in t.tools}
    line = " ; ".join(
        [f"[ -d /sys/module/{m} ] || modprobe -n -q {m} 2>/dev/null || echo module:{m}"
         for m in modules] +
        [f"command -v {shlex.quote(t)} >/dev/null || echo tool:{shlex.quote(t)}" for t in tools])
    found = remote.check(["sh", "-c", line]).split()
    lacking_modules = {w.removeprefix("module:") for w in found if w.startswith("module:")}
    lacking_tools = [w.removeprefix("tool:") for w in found if w.startswith("tool:")]
    if not (lacking_modules or lacking_tools):
        return
    kernel = remote.run(["uname", "-r"]).stdout.strip() or "?"
    said = [f"module{'s' if len(lacking) > 1 else ''} {', '.join(lacking)} ({t.name})"
            for t in tunnels if (lacking := [m for m in t.modules if m in lacking_modules])]
    said += [f"the `{tool}` command (package {tools[tool]})" for tool in lacking_tools]
    raise BenchError(f"{remote.host.describe()} (kernel {kernel}) lacks what the campaign's "
                     f"tunnels need: {'; '.join(said)}",
                     "give the host a kernel with those modules (Debian's linux-image-amd64 or "
                     "-cloud-amd64 has them all) and install the packages named, or leave those "
                     "configurations out; on the embedded lab, `invoke lab.up --machines` boots "
                     "hosts that have them")


def pair(c: Campaign, tag: str, connections: tuple[Connection, ...]) -> Pair:
    """The two sides checked (tools, data interfaces, existing endpoints); OVS leftovers given
    back."""
    hosts, guests = connections[:2], connections[2:]
    for i, conn in enumerate(hosts):
        require_tools(conn.remote, _required_tools(c))
        require_tunnels(c, conn.remote)
        if "overlay-ovs" in c.configurations:
            # before the data NIC is looked up
            overlay_ovs.restore_leftovers(conn.remote, tag, i)
    for guest in guests:
        require_tools(guest.remote, REQUIRED_TOOLS + [t for t in c.tools if t != "csrc"]
                      + (["ethtool"] if offload_names(c.tuning) else []))
    # In this order, so the first problem said is the one it always was.
    host_ifs = [data_interface(host.remote) for host in hosts]
    guest_ifs = [data_interface(guest.remote) for guest in guests]
    vms, found = measured_vms(c), _found_endpoints(c, hosts)
    a, b = (Side(i, host, host_ifs[i], vm=vms[i] if vms else None,
                 guest=guests[i] if guests else None, guest_if=guest_ifs[i] if guests else "",
                 existing=found[i] if found else None)
            for i, host in enumerate(hosts))
    made = Pair(a, b, tag)
    if tuned(c):
        for conn, data_if in made.interfaces:
            host_tuning.probe(conn.remote, data_if, c.tuning)
    return made


def _found_endpoints(c: Campaign, hosts: tuple[Connection, ...]) -> tuple[FoundEndpoint, ...]:
    """The existing configuration's endpoints as their hosts show them (refused, naming host
    and key, when one is not there)."""
    if "existing" not in c.configurations:
        return ()
    found = []
    for i, conn in enumerate(hosts):
        index, named = c.endpoint_on(i)
        found.append(existing.find(conn, named, f"{c.source}: endpoints[{index}]"))
    return tuple(found)


def _archive_facts(archive: Archive, interfaces: Sequence[tuple[Connection, str]],
                   phase: str) -> None:
    for conn, data_if in interfaces:
        text = conn.remote.check(["sh", "-c", facts.script([data_if])], timeout=120)
        archive.write(f"facts/{conn.name}/{phase}-{stamp()}.txt", text)


def _side_interfaces(side: Side) -> list[tuple[Connection, str]]:
    return [(side.host, side.data_if),
            *([(side.guest, side.guest_if)] if side.guest is not None else [])]


def _remember_side(c: Campaign, archive: Archive, side: Side) -> None:
    """A host's (and its VM's) original settings, recorded once (before any change) and
    restored at the end: data NIC MTU, ip_forward, the MTU of its VM's host-side interface,
    the interface defaults, the modules, and what the tuning profiles set."""
    remote = side.remote
    found: dict[str, dict[str, object]] = {}
    if remote.host.name not in archive.manifest["host_state"]:
        forward = remote.check(["sysctl", "-n", "net.ipv4.ip_forward"]).strip()
        tap = side.vm.host_interface if side.vm is not None else None
        other = {tap: read_mtu(remote, None, tap)} if tap else {}
        found[remote.host.name] = {"data_if": side.data_if,
                                   "mtu": read_mtu(remote, None, side.data_if),
                                   "ip_forward": forward, "other_mtus": other,
                                   "conf_sysctls": _conf_sysctls(remote),
                                   "modules": loaded_modules(remote)}
    if side.guest is not None and side.guest.name not in archive.manifest["host_state"]:
        found[side.guest.name] = {"data_if": side.guest_if,
                                  "mtu": read_mtu(side.guest.remote, None, side.guest_if)}
    with archive.lock:
        state = archive.manifest["host_state"]
        for name, values in found.items():
            state.setdefault(name, values)
    if tuned(c):
        for conn, data_if in _side_interfaces(side):
            if "tuning" not in archive.manifest["host_state"][conn.name]:
                probed = host_tuning.probe(conn.remote, data_if, c.tuning)
                with archive.lock:
                    archive.manifest["host_state"][conn.name]["tuning"] = probed.model_dump(
                        mode="json")


def restore(archive: Archive, connections: Sequence[Connection]) -> None:
    """Best effort: a host that is gone cannot be restored, and must not hide the real error.
    The connections in parallel (one thread each)."""
    fan_out(lambda conn: _restore_one(archive, conn.remote), list(connections))


def _restore_one(archive: Archive, remote: Remote) -> None:
    orig = archive.manifest["host_state"].get(remote.host.name)
    if not orig:
        return
    with contextlib.suppress(BenchError):
        remote.run(["ip", "link", "set", "dev", orig["data_if"], "mtu", str(orig["mtu"])])
        for dev, mtu in orig.get("other_mtus", {}).items():
            remote.run(["ip", "link", "set", "dev", dev, "mtu", str(mtu)])
        if "ip_forward" in orig:
            remote.run(["sysctl", "-qw", f"net.ipv4.ip_forward={orig['ip_forward']}"])
        if orig.get("tuning"):
            with contextlib.suppress(BenchError):  # the rest is given back still
                host_tuning.restore(remote, TuningState.model_validate(orig["tuning"]))
        now = _conf_sysctls(remote)
        for key, value in (orig.get("conf_sysctls") or {}).items():
            if now.get(key, value) != value:
                remote.run(["sysctl", "-qw", f"{key}={value}"])
        if orig.get("modules") is not None:
            unload_new_modules(remote, set(orig["modules"]))


def _conf_sysctls(remote: Remote) -> dict[str, str]:
    """The kernel-wide IPv4 interface defaults (`net.ipv4.conf.all.*`, `.default.*`): building
    tunnels and forwarding can change them (send_redirects, seen on the machine lab)."""
    out = remote.run(["sh", "-c", "sysctl -e net.ipv4.conf.all net.ipv4.conf.default"]).stdout
    found = (line.split(" = ", 1) for line in out.splitlines() if " = " in line)
    return {k: v for k, v in found if CONF_KEY.fullmatch(k)}


def loaded_modules(remote: Remote) -> list[str] | None:
    used = _modules_in_use(remote)
    return None if used is None else sorted(used)


def _modules_in_use(remote: Remote) -> dict[str, int] | None:
    res = remote.run(["sh", "-c", MODULES])
    if not res.ok:
        return None
    pairs = (line.split() for line in res.stdout.splitlines())
    return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}


def unload_new_modules(remote: Remote, before: set[str]) -> None:
    """The kernel modules that appeared during the campaign (building veths, bridges, VXLAN,
    OVS loads them and what they need) and that nothing uses any more, unloaded, in rounds
    until none is left. One still in use stays, and the end facts show it."""
    for _ in range(UNLOAD_ROUNDS):
        now = _modules_in_use(remote) or {}
        free = [m for m, users in sorted(now.items()) if m not in before and users == 0]
        if not free:
            return
        remote.run(["rmmod", *free], timeout=60)


def tuner(c: Campaign, archive: Archive, pair: Pair) -> host_tuning.Tuner:
    """The campaign's profiles over the pair's connections, from the values the manifest
    holds from before any change."""
    state = archive.manifest["host_state"]
    targets = [(conn, TuningState.model_validate(state[conn.name]["tuning"]))
               for conn, _ in pair.interfaces if state.get(conn.name, {}).get("tuning")]
    return host_tuning.Tuner(archive, {p.name: p for p in c.tuning}, targets)


def end_facts(archive: Archive, pairs: Sequence[Pair]) -> None:
    """The hosts as the campaign leaves them (restored), each once, in parallel."""
    fan_out(lambda side: _archive_facts(archive, _side_interfaces(side), "end"),
            _every_side(pairs))


def _every_side(pairs: Sequence[Pair]) -> list[Side]:
    """One side per host of the pairs (its first), so per-host work is done once."""
    sides: dict[str, Side] = {}
    for pair in pairs:
        for side in pair.sides:
            sides.setdefault(side.host.name, side)
    return list(sides.values())


def _prepare_side(c: Campaign, archive: Archive, side: Side) -> dict[str, str]:
    """A host (and its VM) ready to measure: work dirs made, state recorded, facts archived,
    csrc built there (on a VM too when it has a compiler, else its host's binaries are copied
    in); where csrc was built on each connection, by name."""
    for conn, _ in _side_interfaces(side):
        conn.remote.check(["mkdir", "-p", conn.workdir])
        kill_leftover_server(conn.remote, conn.workdir)
    _remember_side(c, archive, side)
    _archive_facts(archive, _side_interfaces(side), "start")
    if side.existing is not None:
        archive.write(f"facts/{side.existing.named.host}/existing-endpoint-{stamp()}.txt",
                      side.existing.inspection)
    if "csrc" not in c.tools:
        return {}
    built = {side.host.name: _built(archive, side.host,
                                    ship_and_build(side.remote, side.host.workdir))}
    guest = side.guest
    if guest is not None:
        built[guest.name] = _built(archive, guest,
                                   ship_and_build(guest.remote, guest.workdir)
                                   if can_build(guest.remote) else
                                   copy_binaries(side.remote, built[side.host.name],
                                                 guest.remote, guest.workdir))
    return built


def _built(archive: Archive, conn: Connection, made: tuple[str, str]) -> str:
    bindir, log = made
    archive.write(f"build/{conn.name}-{stamp()}.log", log)
    return bindir


def prepare(c: Campaign, archive: Archive, pairs: Sequence[Pair]) -> list[Pair]:
    """Every pair ready to measure, each host prepared once and all hosts at once."""
    built: dict[str, str] = {}
    for made in fan_out(lambda side: _prepare_side(c, archive, side), _every_side(pairs)):
        built.update(made)
    archive.save()
    if "csrc" not in c.tools:
        return list(pairs)
    return [pair.with_bindirs([built[conn.name] for conn in pair.connections])
            for pair in pairs]
