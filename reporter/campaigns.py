"""What the report knows about each campaign besides its runs: when it ran, how it was set up,
its hosts' facts; and, across campaigns, what differs between them."""

from dataclasses import dataclass, field
from typing import Any

from collector import tuning as tuning_axis
from collector.errors import UsageError
from collector.records import ENDPOINT_DETAIL

from . import facts
from .archive import Campaign

# Campaign parameters a reader compares (the cell axes are compared cell by cell instead).
PARAMETERS = ("duration_s", "warmup_s", "repetitions", "tools", "tests", "message_sizes",
              "socket_buffer", "mtus", "configurations", "order", "cpu_affinity",
              "request_size")
# What a campaign that does not say them ran with (collector/campaign.py's defaults).
UNSAID = {"cpu_affinity": "unpinned", "request_size": 1}
# Facts whose difference between two campaigns may explain a change.
COMPARED_FACTS = ("uname", "cmdline", "cpu-model", "cpu-count", "sysctl", "version-qperf",
                  "version-iperf3", "version-ovs")
COMPARED_FACT_PREFIXES = ("ethtool-driver ", "ethtool-offloads ", "mtu ", "qdisc ")


@dataclass(frozen=True)
class CampaignInfo:
    name: str
    label: str           # what the user named
    created_utc: str
    state: str
    runs: int
    planned: int
    seed: object
    commit: str
    parameters: dict[str, Any]
    hosts: dict[str, dict[str, dict[str, str]]]  # host → phase → section → text
    vm_names: frozenset[str]
    ovs_datapaths: frozenset[str]
    # The existing configuration's endpoints as the collector found them: host → description.
    existing: tuple[tuple[str, str], ...] = ()
    endpoint_facts: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # The tuning profiles (name, what it sets), untuned first; the keys set kernel-wide.
    tuning: tuple[tuple[str, str], ...] = ((tuning_axis.UNTUNED, "the hosts as they are"),)
    kernel_wide: tuple[str, ...] = ()
    # The CPUs the runs' tools were pinned to, (client, server) as the records say; () unpinned.
    pinned: tuple[tuple[str, str], ...] = ()

    @property
    def pinning_text(self) -> str:
        """Where the tools ran, for the Environment page."""
        if not self.pinned:
            return "unpinned (the scheduler placed them)"
        return "; ".join(f"client on CPU {c}, server on CPU {s}" for c, s in self.pinned) + (
            f" (`taskset -c`; cpu_affinity: {_show(self.parameters.get('cpu_affinity'))})")

    @property
    def tuning_text(self) -> str:
        """The profiles in one line, for "what changed"."""
        return "; ".join(f"{name}: {what}" for name, what in self.tuning)

    @property
    def existing_label(self) -> str:
        """What `existing` was: "veth → cni0 bridge, MTU 1450" when both endpoints are alike,
        else each host's."""
        described = {d for _, d in self.existing}
        if len(described) == 1:
            return f"{described.pop()}, on both hosts"
        return "; ".join(f"{host}: {d}" for host, d in self.existing)

    def first_facts(self, host: str) -> dict[str, str]:
        """The host's facts before the campaign changed anything: its first start- file
        (end- files sort before start- ones by name)."""
        phases = self.hosts.get(host, {})
        starts = [phases[name] for name in sorted(phases) if name.startswith("start-")]
        return starts[0] if starts else next(iter(phases.values()), {})

    def host_fact(self, key: str) -> tuple[str, ...]:
        """A fact of every host (not VM), at the campaign's first facts, in host order."""
        return tuple(self.first_facts(h).get(key, "") for h in sorted(self.hosts)
                     if h not in self.vm_names)

    @property
    def link_gbps(self) -> float | None:
        """The data link's speed both hosts' NICs report (the slower), None unless both do."""
        speeds = [facts.link_speed_mbps(self.first_facts(h)) for h in sorted(self.hosts)
                  if h not in self.vm_names]
        if not speeds or None in speeds:
            return None
        return min(s for s in speeds if s is not None) / 1000

    @property
    def emulated_vms(self) -> list[str]:
        return facts.emulated_vms(self.hosts, set(self.vm_names))

    @property
    def emulated_hosts(self) -> list[str]:
        return facts.emulated_hosts(self.hosts, set(self.vm_names))

    @property
    def warnings(self) -> list[str]:
        return facts.warnings(self.hosts, self.vm_names)


def info(c: Campaign) -> CampaignInfo:
    m = c.manifest
    campaign: dict[str, Any] = m["campaign"] if isinstance(m.get("campaign"), dict) else {}
    harness: dict[str, Any] = m["harness"] if isinstance(m.get("harness"), dict) else {}
    runs = m["runs"]
    datapaths = {str(r.get("topology", {}).get("ovs_datapath")) for r in runs.values()
                 if isinstance(r, dict) and isinstance(r.get("topology"), dict)
                 and r["topology"].get("ovs_datapath")}
    endpoints = {k.removeprefix(ENDPOINT_DETAIL): str(v) for r in runs.values()
                 if isinstance(r, dict) and r.get("configuration") == "existing"
                 and isinstance(r.get("topology"), dict)
                 for k, v in r["topology"].items() if str(k).startswith(ENDPOINT_DETAIL)}
    return CampaignInfo(
        name=c.name, label=c.label or str(c.root), created_utc=str(m.get("created_utc", "")),
        state=str(m.get("state", "")), runs=len(runs),
        planned=len(m.get("plan") or []) if isinstance(m.get("plan"), list) else 0,
        seed=campaign.get("seed"), commit=str(harness.get("commit", ""))[:12],
        parameters={k: campaign.get(k, UNSAID.get(k)) for k in PARAMETERS},
        hosts=facts.by_host(c), vm_names=c.vm_names, ovs_datapaths=frozenset(datapaths),
        existing=tuple(sorted(endpoints.items())),
        endpoint_facts=facts.by_host(c, facts.ENDPOINTS) if endpoints else {},
        tuning=_tuning(campaign.get("tuning")), kernel_wide=_kernel_wide(m.get("host_state")),
        pinned=_pinned(runs))


def _pinned(runs: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The distinct (client, server) CPUs the records say ("–" for a side not pinned)."""
    seen: set[tuple[str, str]] = set()
    for r in runs.values():
        got = r.get("cpu_affinity") if isinstance(r, dict) else None
        if isinstance(got, dict):
            client, server = ("–" if got.get(role) is None else str(got.get(role))[:8]
                              for role in ("client", "server"))
            seen.add((client, server))
    return tuple(sorted(seen))


def _tuning(raw: Any) -> tuple[tuple[str, str], ...]:
    """The campaign's profiles as the collector read them (a manifest that says them badly
    is read as untuned: its runs' records say which profile each ran under)."""
    try:
        profiles = tuning_axis.parse(raw, "manifest")
    except UsageError:
        profiles = tuning_axis.DEFAULT
    return tuple((p.name, p.describe()) for p in profiles)


def _kernel_wide(state: Any) -> tuple[str, ...]:
    keys: set[str] = set()
    for host in state.values() if isinstance(state, dict) else ():
        tuned = host.get("tuning") if isinstance(host, dict) else None
        listed = tuned.get("kernel_wide") if isinstance(tuned, dict) else None
        if isinstance(listed, list):
            keys.update(k for k in listed if isinstance(k, str))
    return tuple(sorted(keys))


def in_time_order(campaigns: list[Campaign]) -> list[CampaignInfo]:
    """Campaign infos, oldest first; two archives of one name would be one campaign twice."""
    infos = [info(c) for c in campaigns]
    seen: dict[str, str] = {}
    for i in infos:
        if i.name in seen:
            raise UsageError(f"two archives are both campaign {i.name}: {seen[i.name]} and "
                             f"{i.label}", "give each campaign once")
        seen[i.name] = i.label
    return sorted(infos, key=lambda i: (i.created_utc, i.name))


def differences(infos: list[CampaignInfo]) -> list[dict[str, Any]]:
    """What differs between the campaigns: parameters, then each host's facts. One row per
    difference: `what`, `kind` (parameter | host name), and the value per campaign."""
    rows: list[dict[str, Any]] = []
    for key in PARAMETERS:
        values = [_show(i.parameters.get(key)) for i in infos]
        if len(set(values)) > 1:
            rows.append({"kind": "parameter", "what": key, "values": values})
    hosts = sorted({h for i in infos for h in i.hosts})
    for host in hosts:
        keys = sorted({k for i in infos for k in i.first_facts(host)
                       if k in COMPARED_FACTS or k.startswith(COMPARED_FACT_PREFIXES)})
        for key in keys:
            values = [i.first_facts(host).get(key, "–") for i in infos]
            if len(set(values)) > 1:
                rows.append({"kind": host, "what": key, "values": values})
    profiles = [i.tuning_text for i in infos]
    if len(set(profiles)) > 1:
        rows.append({"kind": "parameter", "what": "tuning", "values": profiles})
    datapaths = [", ".join(sorted(i.ovs_datapaths)) or "–" for i in infos]
    if len(set(datapaths)) > 1:
        rows.append({"kind": "overlay-ovs", "what": "OVS datapath", "values": datapaths})
    found = [i.existing_label if i.existing else "–" for i in infos]
    if len(set(found)) > 1:
        rows.append({"kind": "existing", "what": "endpoints found", "values": found})
    emulated = ["emulated (QEMU TCG)" if i.emulated_vms else "–" for i in infos]
    if len(set(emulated)) > 1:
        rows.append({"kind": "vm", "what": "VMs", "values": emulated})
    return rows


def _show(value: Any) -> str:
    if isinstance(value, dict):  # adaptive repetitions
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "–" if value is None else str(value)
