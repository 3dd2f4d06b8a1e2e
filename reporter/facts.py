"""Host facts from the archive's facts/<host>/*.txt: sections `### name` → text."""

import re
from pathlib import PurePosixPath

from collector.errors import BenchError

from .archive import Campaign
from .escaping import Md

KEY_FACTS = ("uname", "boot_id", "cpu-model", "cpu-count", "cmdline", "version-qperf",
             "version-iperf3", "version-ovs")


MAX_FACTS_BYTES = 4 * 1024 * 1024   # one facts file; a real one is a few KB
MAX_SECTIONS = 400                   # a real file has ~40
MAX_SECTION_CHARS = 256 * 1024       # the Environment page shows 60 lines of each


def parse(text: str) -> dict[str, str]:
    """``### name`` sections → their text. Linear in the text; a file with more sections than
    MAX_SECTIONS keeps the first ones, a section longer than MAX_SECTION_CHARS is cut (a
    line says so)."""
    sections: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("### "):
            if len(sections) >= MAX_SECTIONS:
                break
            lines = sections.setdefault(line[4:].strip()[:200], [])
        elif lines is not None:
            lines.append(line)
    out = {}
    for name, body in sections.items():
        joined = "\n".join(body).strip()
        if len(joined) > MAX_SECTION_CHARS:
            joined = joined[:MAX_SECTION_CHARS] + f"\n[cut at {MAX_SECTION_CHARS:,} characters]"
        out[name] = joined
    return out


# Drivers whose "Speed" is a fixed figure, not a link's: a veth always says 10,000 Mb/s.
NOMINAL_SPEED_DRIVERS = ("veth",)
SPEED = re.compile(r"^\s*Speed:\s*(\d{1,7})\s*Mb/s", re.MULTILINE)
DRIVER = re.compile(r"^driver:\s*(\S+)", re.MULTILINE)


def data_fact(host_facts: dict[str, str], prefix: str) -> str:
    """A fact of the host's data interface (the first interface in its facts): the section
    named ``prefix`` + the device, "" when there is none."""
    return next((v for k, v in host_facts.items() if k.startswith(prefix)), "")


def link_speed_mbps(host_facts: dict[str, str]) -> int | None:
    """The speed `ethtool` gave for the host's data interface (its first one in the facts),
    None when it gave none or its driver's figure is nominal."""
    link = data_fact(host_facts, "ethtool-link ")
    driver = data_fact(host_facts, "ethtool-driver ")
    speed, named = SPEED.search(link), DRIVER.search(driver)
    if speed is None or (named and named.group(1) in NOMINAL_SPEED_DRIVERS):
        return None
    return int(speed.group(1)) or None


PHASES = ("start-", "end-")              # the hosts' facts, before and after the campaign
ENDPOINTS = ("existing-endpoint-",)      # an existing endpoint as the collector found it


def by_host(campaign: Campaign,
            kinds: tuple[str, ...] = PHASES) -> dict[str, dict[str, dict[str, str]]]:
    """host → facts file name (start-…, end-…; or those of ``kinds``) → sections. Read
    through the archive's safe reader: a link or an oversized file is skipped, never
    followed."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    # The archive's walk lists only regular files reached through real folders.
    for rel in sorted(campaign.regular_files):
        parts = rel.split("/")
        if len(parts) != 3 or parts[0] != "facts" or not parts[2].endswith(".txt") \
                or not parts[2].startswith(kinds):
            continue
        try:
            text = campaign.read_bytes(rel, MAX_FACTS_BYTES).decode(errors="replace")
        except (BenchError, OSError):
            continue
        out.setdefault(parts[1], {})[PurePosixPath(rel).stem] = parse(text)
    return out


EMULATED_CPU = "TCG"  # QEMU's emulated CPUs say so in their model name ("QEMU TCG CPU …")


def emulated_vms(hosts: dict[str, dict[str, dict[str, str]]], vms: set[str]) -> list[str]:
    """Those of ``vms`` (VMs, or any facts folders named) whose CPU is emulated (QEMU TCG), from
    the CPU model their facts recorded."""
    return [name for name in sorted(vms) if any(
        EMULATED_CPU in phase.get("cpu-model", "") for phase in hosts.get(name, {}).values())]


def emulated_hosts(hosts: dict[str, dict[str, dict[str, str]]],
                   vms: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The hosts (not VMs) whose CPU is emulated: the machine lab's, qemu TCG guests."""
    return emulated_vms(hosts, set(hosts) - set(vms))


def warnings(hosts: dict[str, dict[str, dict[str, str]]],
             vms: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What a reader must know: hosts sharing a kernel, emulated VMs, facts that changed or
    differ. ``vms`` names the facts folders that are VMs (their kernels are their own)."""
    out = []
    emulated = emulated_vms(hosts, set(vms))
    if emulated:
        out.append(f"{' and '.join(emulated)} {'is' if len(emulated) == 1 else 'are'} emulated "
                   "by QEMU TCG (no hardware virtualisation): the VM rows measure emulation, not "
                   "a hypervisor, and are not comparable with hypervisor figures such as the "
                   "study's.")
    guests = emulated_hosts(hosts, vms)
    if guests:
        out.append(f"Hosts {' and '.join(guests)} are emulated by QEMU TCG (the machine lab: "
                   "qemu guests, each with its own kernel): absolute Gb/s, µs and CPU % measure "
                   "emulation, not servers, and are not comparable with the study's; compare "
                   "configurations as ratios within this campaign, and CPU across the two "
                   "kernels.")
    machines = {h: p for h, p in hosts.items() if h not in vms}
    boot_ids = {h: next(iter(p.values())).get("boot_id", "") for h, p in machines.items() if p}
    if len(boot_ids) > 1 and len(set(boot_ids.values())) == 1:
        out.append(f"Hosts {', '.join(boot_ids)} share one kernel (their facts show the same "
                   "boot_id): each host's CPU figure is the same machine's, and sender and "
                   "receiver compete for the same cores.")
    for host, phases in hosts.items():
        names = list(phases)
        for key in ("uname", "cmdline"):
            if len({phases[n].get(key, "") for n in names}) > 1:
                out.append(Md("{}: `{}` changed during the campaign.").format(host, key))
        starts = sorted(n for n in names if n.startswith("start-"))
        ends = sorted(n for n in names if n.startswith("end-"))
        if starts and ends:
            out += _sysctl_changes(host, phases[starts[0]], phases[ends[-1]])
        for key in phases[names[0]] if names else {}:
            if key.startswith("ethtool-offloads") and len({phases[n].get(key) for n in names}) > 1:
                out.append(f"{host}: offloads ({key.split(' ', 1)[1]}) changed during the "
                           "campaign.")
    firsts = {h: next(iter(p.values())) for h, p in machines.items() if p}
    if len(firsts) == 2:
        (ha, fa), (hb, fb) = firsts.items()
        for key in ("uname", "sysctl", "version-qperf", "version-iperf3"):
            if _without_hostname(fa.get(key)) != _without_hostname(fb.get(key)):
                out.append(Md("`{}` differs between {} and {}.").format(key, ha, hb))
    return out


def _without_hostname(value: str | None) -> str | None:
    """`uname -a` lines (iperf3 --version prints one too) without the node name: two hosts
    always differ there, and it says nothing about their kernels."""
    if value is None:
        return None
    return "\n".join(" ".join(w for i, w in enumerate(line.split()) if i != 1)
                     if line.startswith("Linux ") else line for line in value.splitlines())


# Set by the collector itself while it measures (collector/topology/netns.py), restored at the
# end: a campaign interrupted and resumed can record it set in its first facts.
COLLECTOR_SETS = {"net.ipv4.ip_forward"}


def sysctls(text: str) -> dict[str, str]:
    """A facts file's sysctl section as key → value (lines `key = value`)."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            out[key.strip()] = " ".join(value.split())
    return out


def _sysctl_changes(host: str, first: dict[str, str], last: dict[str, str]) -> list[str]:
    before, after = sysctls(first.get("sysctl", "")), sysctls(last.get("sysctl", ""))
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not changed:
        return []
    said = Md(", ").join(Md("<code>{}</code> {} → {}").format(
        k, before.get(k, "unset"), after.get(k, "unset")) for k in changed[:12])
    more = Md(" and {} more").format(len(changed) - 12) if len(changed) > 12 else Md("")
    why = Md(" (the collector sets {} while it measures and restores it at the end: a "
             "campaign interrupted and resumed records it set at its start)").format(
        ", ".join(sorted(COLLECTOR_SETS & set(changed)))) \
        if COLLECTOR_SETS & set(changed) else Md("")
    return [Md("{}: sysctl changed during the campaign: {}{}{}.").format(host, said, more, why)]
