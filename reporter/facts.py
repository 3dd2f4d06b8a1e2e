"""Host facts from the archive's facts/<host>/*.txt: sections `### name` → text."""

from pathlib import PurePosixPath

from collector.errors import BenchError

from .archive import Campaign

KEY_FACTS = ("uname", "boot_id", "cpu-model", "cpu-count", "cmdline", "version-qperf",
             "version-iperf3", "version-ovs")


def parse(text: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if line.startswith("### "):
            name = line[4:].strip()
            sections[name] = ""
        elif name is not None:
            sections[name] += line + "\n"
    return {k: v.strip() for k, v in sections.items()}


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
            text = campaign.read(rel)
        except (BenchError, OSError):
            continue
        out.setdefault(parts[1], {})[PurePosixPath(rel).stem] = parse(text)
    return out


EMULATED_CPU = "TCG"  # QEMU's emulated CPUs say so in their model name ("QEMU TCG CPU …")


def emulated_vms(hosts: dict[str, dict[str, dict[str, str]]], vms: set[str]) -> list[str]:
    """The VMs whose CPU is emulated (QEMU TCG), from the CPU model their facts recorded."""
    return [name for name in sorted(vms) if any(
        EMULATED_CPU in phase.get("cpu-model", "") for phase in hosts.get(name, {}).values())]


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
    machines = {h: p for h, p in hosts.items() if h not in vms}
    boot_ids = {h: next(iter(p.values())).get("boot_id", "") for h, p in machines.items() if p}
    if len(boot_ids) > 1 and len(set(boot_ids.values())) == 1:
        out.append(f"Hosts {', '.join(boot_ids)} share one kernel (their facts show the same "
                   "boot_id): each host's CPU figure is the same machine's, and sender and "
                   "receiver compete for the same cores.")
    for host, phases in hosts.items():
        names = list(phases)
        for key in ("uname", "cmdline", "sysctl"):
            values = {phases[n].get(key, "") for n in names}
            if len(values) > 1:
                out.append(f"{host}: `{key}` changed during the campaign.")
        for key in phases[names[0]] if names else {}:
            if key.startswith("ethtool-offloads") and len({phases[n].get(key) for n in names}) > 1:
                out.append(f"{host}: offloads ({key.split(' ', 1)[1]}) changed during the "
                           "campaign.")
    firsts = {h: next(iter(p.values())) for h, p in machines.items() if p}
    if len(firsts) == 2:
        (ha, fa), (hb, fb) = firsts.items()
        for key in ("uname", "sysctl", "version-qperf", "version-iperf3"):
            if fa.get(key) != fb.get(key):
                out.append(f"`{key}` differs between {ha} and {hb}.")
    return out
