"""The campaign's tuning profiles on the hosts and the VM guests it measures: checked before the
archive is made (every key exists and can be written, every offload can be changed), the values
before recorded before any change (preparation.py keeps them in the manifest), each profile set
and read back when its runs come, and every value given back at the end — or by the next
`collect --resume` or `invoke restore` after a kill -9.

Sysctls are written with `sysctl -w`. A key that is read-only in the host's network namespace
but writable in the kernel's initial one is global to the kernel (`net.core.rmem_max` seen
from a namespace): where hosts are namespaces of one machine (the namespace lab) it is set
there, through kthreadd's namespace, and so for both hosts and the machine itself; the manifest
lists such keys. Offloads are `ethtool -K` on the data interfaces (host NICs, and the guests'
NICs for `vm`); the interfaces the campaign builds (veths, tunnels, bridges) keep their
defaults."""

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from .archive import Archive, stamp
from .connection import Connection
from .errors import BenchError
from .records import TuningState
from .remote import Remote
from .tuning import ON_OFF, UNTUNED, Profile, feature, normalised, offload_names, sysctl_keys

KERNEL_NETNS = "/proc/2/ns/net"  # kthreadd's: kernel threads live in the initial namespace
CARRIER_WAIT_S = 30  # a NIC may reset its link when its offloads change
FEATURE_LINE = re.compile(r"(\t?)([a-z0-9_-]+): (on|off)(?: \[([a-z ]+)\])?")
ACCESS = (
    'probe() { if [ ! -e "$2" ]; then echo "absent $1"; elif [ -w "$2" ]; then '
    'echo "own $1"; elif [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ] && '
    '[ "$(readlink /proc/2/ns/net)" != "$(readlink /proc/self/ns/net)" ] && '
    'command -v nsenter >/dev/null && nsenter --net=/proc/2/ns/net test -w "$2"; then '
    'echo "kernel $1"; else echo "read-only $1"; fi; }; ')


@dataclass(frozen=True)
class Feature:
    """One line of `ethtool -k`: a feature, or a group of them (tx-checksumming…)."""

    on: bool
    fixed: bool
    children: tuple[str, ...] = ()

    @property
    def changeable(self) -> bool:
        return not self.fixed


def parse_features(text: str) -> dict[str, Feature]:
    """`ethtool -k`'s listing; a group is fixed only when every feature in it is."""
    found: dict[str, Feature] = {}
    group: str | None = None
    for line in text.splitlines():
        m = FEATURE_LINE.fullmatch(line.rstrip())
        if not m:
            continue
        indent, name, state, note = m.groups()
        this = Feature(state == "on", note == "fixed")
        found[name] = this
        if not indent:
            group = name
        elif group is not None:
            parent = found[group]
            fixed = this.fixed and (parent.fixed if parent.children else True)
            found[group] = Feature(parent.on, fixed, (*parent.children, name))
    return found


def is_set(features: dict[str, Feature], name: str, on: bool) -> bool:
    """Whether the feature ``name`` (an ``ethtool -K`` name) is ``on``; for a group, every
    feature of it the driver can change (the group's own line says on while one is)."""
    f = features.get(feature(name))
    if f is None:
        return False
    if f.children:
        return all(features[c].on == on for c in f.children if not features[c].fixed)
    return f.on == on


def changeable_features(features: dict[str, Feature]) -> dict[str, bool]:
    """The features (not groups) ethtool can change, with their state: what restoring sets."""
    return {name: f.on for name, f in features.items() if not f.children and not f.fixed}


def _proc_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def _in_kernel_netns(argv: list[str]) -> list[str]:
    return ["nsenter", f"--net={KERNEL_NETNS}", *argv]


def _read_sysctls(remote: Remote, keys: Sequence[str], kernel_wide: Sequence[str]
                  ) -> dict[str, str]:
    def read(key: str) -> str:
        argv = ["sysctl", "-n", key]
        return shlex.join(_in_kernel_netns(argv) if key in kernel_wide else argv)

    line = "; ".join(f"printf '%s\\t%s\\n' {shlex.quote(k)} \"$({read(k)} 2>/dev/null)\""
                     for k in keys)
    out = remote.check(["sh", "-c", line]) if keys else ""
    pairs = (row.split("\t", 1) for row in out.splitlines() if "\t" in row)
    return {k: v for k, v in pairs}


def _features(remote: Remote, dev: str) -> dict[str, Feature]:
    return parse_features(remote.check(["ethtool", "-k", dev]))


def probe(remote: Remote, data_if: str, profiles: tuple[Profile, ...]) -> TuningState:
    """The host's values before, for every key and offload the profiles set; refused, naming
    the host and each key or feature, when one does not exist or cannot be changed."""
    keys, names = sysctl_keys(profiles), offload_names(profiles)
    host = remote.host.describe()
    problems: list[str] = []
    kernel_wide: list[str] = []
    if keys:
        out = remote.check(["sh", "-c", ACCESS + "; ".join(
            f"probe {shlex.quote(k)} {shlex.quote(_proc_path(k))}" for k in keys)])
        access: dict[str, str] = {}
        for row in out.splitlines():
            how, _, key = row.partition(" ")
            access[key] = how
        for key in keys:
            how = access.get(key, "absent")
            if how == "absent":
                problems.append(f"{key} does not exist (a module not loaded, or another "
                                "kernel's key)")
            elif how == "read-only":
                problems.append(f"{key} is read-only here")
            elif how == "kernel":
                kernel_wide.append(key)
    offloads: dict[str, dict[str, bool]] = {}
    if names:
        features = _features(remote, data_if)
        for name in names:
            found = features.get(feature(name))
            if found is None:
                problems.append(f"{data_if} has no offload {name} (`ethtool -k {data_if}`)")
            elif not found.changeable:
                problems.append(f"{data_if}'s driver cannot change {name} (it is "
                                f"{ON_OFF[found.on]} [fixed])")
        offloads[data_if] = changeable_features(features)
    if problems:
        kernel = remote.run(["uname", "-r"]).stdout.strip() or "?"
        raise BenchError(f"{host} (kernel {kernel}): the campaign's tuning cannot be applied: "
                         + "; ".join(problems),
                         "leave those settings out of the tuning profiles (`sysctl -a` and "
                         "`ethtool -k` on the host list what it has), or measure on hosts that "
                         "have them")
    return TuningState(sysctls={k: normalised(v) for k, v in
                                _read_sysctls(remote, keys, kernel_wide).items()},
                       kernel_wide=kernel_wide, offloads=offloads)


def _set_sysctls(remote: Remote, wanted: dict[str, str], kernel_wide: Sequence[str]) -> None:
    """Each key at its wanted value (those that differ written), read back: a kernel that
    refuses or clamps a value is an error naming the host, the key and the value it kept."""
    now = _read_sysctls(remote, list(wanted), kernel_wide)
    change = {k: v for k, v in wanted.items() if normalised(now.get(k, "")) != v}
    if not change:
        return
    for argv in (["sysctl", "-qw", *(f"{k}={v}" for k, v in change.items()
                                     if k not in kernel_wide)],
                 _in_kernel_netns(["sysctl", "-qw", *(f"{k}={v}" for k, v in change.items()
                                                     if k in kernel_wide)])):
        if "=" in argv[-1]:
            remote.run(argv)
    after = _read_sysctls(remote, list(change), kernel_wide)
    kept = [f"{k}: wanted {v!r}, the kernel kept {normalised(after.get(k, '?'))!r}"
            for k, v in change.items() if normalised(after.get(k, "")) != v]
    if kept:
        raise BenchError(f"{remote.host.describe()}: " + "; ".join(kept),
                         "the kernel refused or clamped the value: choose one it takes (its "
                         "limits are in Documentation/networking/ip-sysctl.rst)")


def _set_features(remote: Remote, dev: str, wanted: dict[str, bool]) -> bool:
    """The features at their wanted state (``ethtool -K`` names), read back; True when one
    changed."""
    now = _features(remote, dev)
    change = {n: on for n, on in wanted.items()
              if feature(n) in now and not is_set(now, n, on)}
    if not change:
        return False
    res = remote.run(["ethtool", "-K", dev, *(w for n, on in change.items()
                                               for w in (n, ON_OFF[on]))])
    after = _features(remote, dev)
    kept = [f"{n} {ON_OFF[on]} (it stayed {ON_OFF[not on]})" for n, on in change.items()
            if not is_set(after, n, on)]
    if kept:
        raise BenchError(f"{remote.host.describe()}: {dev}: ethtool could not set "
                         + ", ".join(kept) + f": {(res.stderr or res.stdout).strip()[:300]}",
                         "a feature may depend on another (tso needs sg and tx): set both in "
                         "the profile, or leave it out")
    line = (f"i=0; until ip -o link show dev {shlex.quote(dev)} | grep -q LOWER_UP; do "
            f"i=$((i+1)); [ $i -gt {CARRIER_WAIT_S * 5} ] && exit 1; sleep 0.2; done")
    if not remote.run(["sh", "-c", line], timeout=CARRIER_WAIT_S + 15).ok:
        raise BenchError(f"{remote.host.describe()}: {dev} has no carrier "
                         f"{CARRIER_WAIT_S} s after its offloads changed",
                         "check the link; the archive can be resumed")
    return True


def apply(remote: Remote, before: TuningState, profile: Profile) -> bool:
    """The profile in force on one host (its keys at the profile's values, the others as they
    were); True when an offload changed (the path is verified again)."""
    _set_sysctls(remote, {k: profile.sysctls.get(k, v) for k, v in before.sysctls.items()},
                 before.kernel_wide)
    changed = False
    for dev, features in before.offloads.items():
        changed |= _set_features(remote, dev, features)  # from the previous profile's back
        changed |= _set_features(remote, dev, profile.offloads)
    return changed


def restore(remote: Remote, before: TuningState) -> None:
    """Every value the profiles set, as it was."""
    apply(remote, before, Profile(UNTUNED))


@dataclass
class Tuner:
    """The profile in force on every connection of the pair, switched when a run needs
    another; the settings in force are archived once per profile and connection."""

    archive: Archive
    profiles: dict[str, Profile]
    targets: list[tuple[Connection, TuningState]]
    current: str = ""  # unknown: a killed attempt may have left any profile
    archived: set[str] = field(default_factory=set)

    def use(self, name: str) -> bool:
        """The profile ``name`` in force; True when a NIC's offloads changed."""
        if name == self.current or not self.targets:
            return False
        changed = False
        for conn, before in self.targets:
            changed |= apply(conn.remote, before, self.profiles[name])
        self.current = name
        if name not in self.archived:
            for conn, before in self.targets:
                self.archive.write(f"facts/{conn.name}/tuning-{name}-{stamp()}.txt",
                                   _in_force(conn.remote, before))
            self.archived.add(name)
        return changed


def _in_force(remote: Remote, before: TuningState) -> str:
    """What a profile left in force on a host: every key the profiles set, and `ethtool -k` of
    each data interface they touch."""
    values = _read_sysctls(remote, list(before.sysctls), before.kernel_wide)
    text = "".join(f"{k} = {normalised(v)}" + (" (kernel-wide)" if k in before.kernel_wide
                                                 else "") + "\n" for k, v in values.items())
    for dev in before.offloads:
        text += f"\n# ethtool -k {dev}\n" + remote.check(["ethtool", "-k", dev])
    return text
