"""Campaign files (YAML) → a validated Campaign. Every error names the file, the key and the fix."""

import json
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from . import affinity, campaign_hosts, existing, node_pairs, yamlfile
from . import tuning as tuning_axis
from .errors import UsageError
from .hosts import Host, Vm, check_credentials
from .node_pairs import NodePair

CONFIGURATIONS: dict[str, tuple[str, ...]] = {
    "bare": ("host-host",),
    "container": ("container-container", "container-host", "host-container"),
    "vm": ("vm-vm", "vm-host", "host-vm"),
    "veth-control": ("host-host",),
    "overlay": ("container-container",),
    # Tunnels between the hosts (collector/topology/tunnel.py), on kernels that have them.
    "ipip": ("container-container", "host-host"),
    "geneve": ("container-container", "host-host"),
    "wireguard": ("container-container", "host-host"),
    "ipsec": ("container-container", "host-host"),
    # Before overlay-ovs, which moves the data address onto an OVS bridge for its builds.
    "existing": ("existing-existing", "existing-host", "host-existing"),
    "overlay-ovs": ("container-container",),
}
TOOL_TESTS: dict[str, tuple[str, ...]] = {"qperf": ("stream", "rr"),
                                          "iperf3": ("stream", "udp"),
                                          "csrc": ("stream", "rr", "udp", "rr-load", "crr")}
TESTS = ("stream", "rr", "udp", "rr-load", "crr")
MAX_REQUEST = 1024 * 1024  # dpb-crr --size
SOCKET_BUFFER_MODES = ("auto", "message")
ORDERS = ("shuffled", "sequential")


@dataclass(frozen=True)
class Repetitions:
    """Runs per cell: ``minimum`` of them; when ``target_ci_pct`` is set, more (one per round,
    interleaved with the other cells) until the 95 % CI half-width of the cell's mean is
    within that % of the mean, or ``maximum`` runs were made. Fixed: minimum == maximum."""

    minimum: int
    maximum: int
    target_ci_pct: float | None = None

    @property
    def adaptive(self) -> bool:
        return self.target_ci_pct is not None

    def to_json(self) -> int | dict[str, int | float]:
        """As the campaign file says it: an integer, or the adaptive mapping."""
        if self.target_ci_pct is None:
            return self.minimum
        return {"min": self.minimum, "max": self.maximum, "target_ci_pct": self.target_ci_pct}


@dataclass(frozen=True)
class Campaign:
    name: str
    hosts: tuple[Host, ...]  # two or more; a pair's campaign (for_pair): its sender, receiver
    vms: tuple[Vm, ...]
    configurations: tuple[str, ...]
    directions: dict[str, tuple[str, ...]]
    tools: tuple[str, ...]
    tests: tuple[str, ...]
    message_sizes: tuple[int, ...]
    streams: tuple[int, ...]        # concurrent TCP flows of a stream test (1: the study's)
    socket_buffer: tuple[str, ...]
    mtus: tuple[int, ...]
    repetitions: Repetitions
    duration_s: int
    warmup_s: int
    order: str
    seed: int
    run_timeout_s: int
    endpoints: tuple[existing.NamedEndpoint, ...] = ()  # the existing configuration's
    tuning: tuple[tuning_axis.Profile, ...] = tuning_axis.DEFAULT  # untuned first
    request_size: int = 1  # bytes of a crr request and of its response
    cpu_affinity: affinity.Affinity | None = None  # None: unpinned
    pairs: tuple[NodePair, ...] = ()  # the ordered host pairs measured (parse fills it)
    concurrent: bool = False  # disjoint pairs measured at the same time
    source: str = field(default="", compare=False)
    pair: NodePair | None = field(default=None, compare=False)  # set by for_pair, when named

    @property
    def several_pairs(self) -> bool:
        """Whether run ids name their pair: anything but the two-host campaign's one pair."""
        return self.pairs != (NodePair(self.hosts[0].name, self.hosts[1].name),)

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)

    def for_pair(self, pair: NodePair) -> "Campaign":
        """The campaign as one pair measures it: its two hosts (sender first), their VMs and
        endpoints; ``pair`` set when run ids name it."""
        names = pair.hosts
        return replace(self, hosts=(self.host(pair.sender), self.host(pair.receiver)),
                       vms=tuple(vm for vm in self.vms if vm.host in names),
                       endpoints=tuple(e for e in self.endpoints if e.host in names),
                       pairs=(pair,), concurrent=False,
                       pair=pair if self.several_pairs else None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hosts"] = [asdict(h) for h in self.hosts]
        data["vms"] = [vm.to_json() for vm in self.vms]
        data["endpoints"] = [e.to_json() for e in self.endpoints]
        data["repetitions"] = self.repetitions.to_json()
        data["tuning"] = tuning_axis.to_json(self.tuning)
        if data["tuning"] is None:  # no tuning axis: the manifest of before it existed
            del data["tuning"]
        # Keys at their defaults are left out, so the manifest is the one of before them.
        if self.request_size == 1:
            del data["request_size"]
        if self.cpu_affinity is None:
            del data["cpu_affinity"]
        else:
            data["cpu_affinity"] = self.cpu_affinity.to_json()
        del data["pair"]
        if self.several_pairs:
            data["pairs"] = node_pairs.to_json(self.pairs)
        else:
            del data["pairs"]
        if not self.concurrent:
            del data["concurrent"]
        return data

    def to_input(self) -> dict[str, Any]:
        """The campaign as a mapping that `parse` takes back (kept in the manifest, for
        resume)."""
        data = self.to_json()
        data.pop("source", None)
        normalised: dict[str, Any] = json.loads(json.dumps(data))  # tuples → lists, as stored
        return normalised

    def check_credentials(self) -> None:
        """Every host's and VM's key and known_hosts file exist and can be read (before
        anything connects, and in a dry run too)."""
        for target in (*self.hosts, *(vm.target for vm in self.vms)):
            check_credentials(target, self.source)

    def endpoint_on(self, host_index: int) -> tuple[int, existing.NamedEndpoint]:
        """The existing endpoint on host 0 or 1, with its index under `endpoints:`."""
        return next((i, e) for i, e in enumerate(self.endpoints)
                    if e.host == self.hosts[host_index].name)

    def vm_on(self, host_index: int) -> Vm:
        """The VM that runs on host 0 or 1 (parse() checked there is one when vm is measured)."""
        return next(vm for vm in self.vms if vm.host == self.hosts[host_index].name)


MAX_STREAMS = 64  # csrc's dpb-stream --streams limit; iperf3 -P allows 128
NEEDS_VMS = ("vm",)
NEEDS_ENDPOINTS = ("existing",)
# Not measured unless listed: today's dataplanes, beside the study's (kernel modules and tools
# that many hosts lack; the namespace lab's kernel has none of them).
OPT_IN = ("ipip", "geneve", "wireguard", "ipsec")
DEFAULTS: dict[str, Any] = {
    # + vm given VMs, + existing given endpoints
    "configurations": [c for c in CONFIGURATIONS
                       if c not in NEEDS_VMS + NEEDS_ENDPOINTS + OPT_IN],
    "tools": list(TOOL_TESTS),
    "tests": ["stream", "rr"],
    "message_sizes": [1000, 20000],
    "streams": [1],
    "socket_buffer": ["auto"],
    "mtus": [1500],
    "repetitions": 5,
    "duration_s": 10,
    "warmup_s": 2,
    "order": "shuffled",
    "run_timeout_s": 120,
}
KEYS = {"name", "hosts", "vms", "endpoints", "directions", "seed", "tuning", "request_size",
        "cpu_affinity", "pairs", "concurrent", *DEFAULTS}


def parse(raw: Any, source: str, lab_hosts_file: Path | None = None) -> Campaign:
    """Validate a campaign mapping; ``source`` (a file name) prefixes every error."""
    if not isinstance(raw, dict):
        raise UsageError(f"{source}: a campaign is a YAML mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise UsageError(f"{source}: unknown key(s) {', '.join(unknown)}",
                         f"allowed: {', '.join(sorted(KEYS))} (see docs/campaign.md)")
    hosts = campaign_hosts.hosts(raw.get("hosts"), source, lab_hosts_file)
    vms = campaign_hosts.vms(raw, source, lab_hosts_file, hosts)
    pairs = node_pairs.parse(raw.get("pairs"), [h.name for h in hosts], source)
    paired = {name for p in pairs for name in p.hosts}
    endpoints = (existing.parse(raw["endpoints"], source, hosts)
                 if raw.get("endpoints") not in (None, []) else ())
    v = {**DEFAULTS, **raw}
    if "configurations" not in raw:
        v["configurations"] = [c for c in CONFIGURATIONS if c not in OPT_IN
                               and (c not in NEEDS_VMS or vms)
                               and (c not in NEEDS_ENDPOINTS or endpoints)]

    def bad(key: str, value: Any, allowed: str) -> UsageError:
        return UsageError(f"{source}: {key}: {value!r} is not allowed", f"allowed: {allowed}")

    def choices(key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = v[key]
        if not isinstance(value, list) or not value:
            raise bad(key, value, f"a non-empty list of {', '.join(allowed)}")
        for item in value:
            if item not in allowed:
                raise bad(f"{key}[{value.index(item)}]", item, ", ".join(allowed))
        return tuple(dict.fromkeys(value))

    def integers(key: str, low: int, high: int) -> tuple[int, ...]:
        value = v[key]
        if not isinstance(value, list) or not value:
            raise bad(key, value, f"a non-empty list of integers {low}-{high}")
        for i, item in enumerate(value):
            if not isinstance(item, int) or isinstance(item, bool) or not low <= item <= high:
                raise bad(f"{key}[{i}]", item, f"integers {low}-{high}")
        return tuple(dict.fromkeys(value))

    def integer(key: str, low: int, high: int) -> int:
        value = v[key]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise bad(key, value, f"an integer {low}-{high}")
        return value

    # Always in this order: overlay-ovs moves the data address onto OVS, so the others come first.
    chosen_configurations = choices("configurations", tuple(CONFIGURATIONS))
    configurations = tuple(c for c in CONFIGURATIONS if c in chosen_configurations)
    if "vm" in configurations:
        for h in (h for h in hosts if h.name in paired):
            if not any(vm.host == h.name for vm in vms):
                raise UsageError(f"{source}: configurations: vm needs a VM on each host, and "
                                 f"{h.name} has none",
                                 "list one under vms: (with host: " + h.name + "), or on the "
                                 "lab: `invoke lab.up --vms`")
    hosts_by = {h.name: h for h in hosts}
    if "existing" in configurations and not endpoints:
        raise UsageError(f"{source}: configurations: existing needs endpoints: one per host",
                         "name each host's namespace and address under endpoints: "
                         "(docs/campaign.md#existing-endpoints)")
    if endpoints and "existing" not in configurations:
        raise UsageError(f"{source}: endpoints: given, but configurations does not list "
                         "existing", "add existing to configurations, or drop endpoints")
    directions: dict[str, tuple[str, ...]] = {c: CONFIGURATIONS[c] for c in configurations}
    chosen = v.get("directions") or {}
    if not isinstance(chosen, dict):
        raise bad("directions", chosen, "a mapping configuration → list of directions")
    for cfg, dirs in chosen.items():
        if cfg not in directions:
            raise bad(f"directions.{cfg}", cfg, f"one of the campaign's configurations: "
                      f"{', '.join(configurations)}")
        if not isinstance(dirs, list) or not dirs or any(d not in CONFIGURATIONS[cfg]
                                                         for d in dirs):
            raise bad(f"directions.{cfg}", dirs, ", ".join(CONFIGURATIONS[cfg]))
        directions[cfg] = tuple(dict.fromkeys(dirs))
    if "existing" in directions:
        for p in pairs:
            existing.check_families(endpoints, (hosts_by[p.sender], hosts_by[p.receiver]),
                                    directions["existing"], source)
    name = str(v.get("name") or Path(source).stem)
    if not name.replace("-", "").replace("_", "").isalnum():
        raise bad("name", name, "letters, digits, - and _")
    seed = v.get("seed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    elif not isinstance(seed, int) or isinstance(seed, bool):
        raise bad("seed", seed, "an integer")
    return Campaign(
        name=name, hosts=hosts, vms=vms,
        configurations=configurations, directions=directions,
        tools=choices("tools", tuple(TOOL_TESTS)), tests=choices("tests", TESTS),
        message_sizes=integers("message_sizes", 1, 16 * 1024 * 1024),
        streams=integers("streams", 1, MAX_STREAMS),
        socket_buffer=choices("socket_buffer", SOCKET_BUFFER_MODES),
        mtus=integers("mtus", 576, 9000), repetitions=_repetitions(v["repetitions"], source),
        duration_s=integer("duration_s", 1, 3600), warmup_s=integer("warmup_s", 0, 600),
        order=_one_of("order", v["order"], ORDERS, source),
        seed=seed, run_timeout_s=integer("run_timeout_s", 5, 7200), endpoints=endpoints,
        tuning=tuning_axis.parse(raw.get("tuning"), source),
        request_size=integer("request_size", 1, MAX_REQUEST) if "request_size" in raw else 1,
        cpu_affinity=affinity.parse(raw.get("cpu_affinity"), source), pairs=pairs,
        concurrent=_concurrent(raw, v["repetitions"], source), source=source)


def _concurrent(raw: dict[str, Any], repetitions: Any, source: str) -> bool:
    """`concurrent: true` runs disjoint pairs in lockstep, run for run: every pair makes the
    same runs, so repetitions are fixed (adaptive ones differ per pair)."""
    value = raw.get("concurrent", False)
    if not isinstance(value, bool):
        raise UsageError(f"{source}: concurrent: {value!r} is not true or false",
                         "write true or false, without quotes")
    if value and not isinstance(repetitions, int):
        raise UsageError(f"{source}: concurrent: true needs a fixed number of repetitions",
                         "pairs measured together make the same runs in step; adaptive "
                         "repetitions would make different ones per pair")
    return value


ADAPTIVE_KEYS = ("min", "max", "target_ci_pct")
MAX_REPETITIONS = 1000


def _repetitions(value: Any, source: str) -> Repetitions:
    """An integer (that many runs per cell), or {min, max, target_ci_pct} (adaptive)."""
    def bad(key: str, got: Any, allowed: str) -> UsageError:
        return UsageError(f"{source}: {key}: {got!r} is not allowed", f"allowed: {allowed}")

    def whole(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    if whole(value):
        if not 1 <= value <= MAX_REPETITIONS:
            raise bad("repetitions", value, f"an integer 1-{MAX_REPETITIONS}, or a mapping "
                      "{min, max, target_ci_pct}")
        return Repetitions(value, value)
    if not isinstance(value, dict):
        raise bad("repetitions", value, f"an integer 1-{MAX_REPETITIONS}, or a mapping "
                  "{min, max, target_ci_pct}")
    unknown = sorted(set(map(str, value)) - set(ADAPTIVE_KEYS))
    missing = [k for k in ADAPTIVE_KEYS if k not in value]
    if unknown or missing:
        raise UsageError(f"{source}: repetitions: " + "; ".join(
            [*([f"unknown key(s) {', '.join(unknown)}"] if unknown else []),
             *([f"missing {', '.join(missing)}"] if missing else [])]),
            "adaptive repetitions are {min: 3, max: 20, target_ci_pct: 3} (docs/campaign.md)")
    low, high, target = value["min"], value["max"], value["target_ci_pct"]
    # Three runs is the fewest that give the report a confidence interval to judge.
    if not whole(low) or not 3 <= low <= MAX_REPETITIONS:
        raise bad("repetitions.min", low, f"an integer 3-{MAX_REPETITIONS} (a confidence "
                  "interval needs 3 runs)")
    if not whole(high) or not low <= high <= MAX_REPETITIONS:
        raise bad("repetitions.max", high, f"an integer from min ({low}) to {MAX_REPETITIONS}")
    if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target <= 100:
        raise bad("repetitions.target_ci_pct", target, "a number above 0 and at most 100 "
                  "(the 95 % CI half-width, in % of the mean)")
    return Repetitions(low, high, float(target))


def _one_of(key: str, value: Any, allowed: tuple[str, ...], source: str) -> str:
    if value not in allowed:
        raise UsageError(f"{source}: {key}: {value!r} is not allowed",
                         f"allowed: {', '.join(allowed)}")
    return str(value)


def load(path: Path, lab_hosts_file: Path | None = None) -> Campaign:
    return parse_file(read(path), path, lab_hosts_file)


def read(path: Path) -> Any:
    """A campaign file's YAML, not yet validated."""
    return yamlfile.load(path, "campaign file")


def parse_file(raw: Any, path: Path, lab_hosts_file: Path | None = None) -> Campaign:
    return parse({} if raw is None else raw, str(path), lab_hosts_file)  # empty: all defaults


# The default lab campaign: every configuration, at least 3 runs per cell (fewer make no
# confidence interval), in about a quarter of an hour on 2 cores. What it trims to get there:
# qperf (csrc and iperf3 measure the same goodput, csrc the latency with percentiles) and the
# VMs' two host directions (VM→VM is the study's figure; every command in an emulated guest is
# slow).
LAB_DEFAULT: dict[str, Any] = {
    "name": "lab-default", "hosts": "lab", "tools": ["csrc", "iperf3"],
    "message_sizes": [1000, 20000], "mtus": [1500, 9000], "repetitions": 3, "duration_s": 1,
    "warmup_s": 1, "run_timeout_s": 30}


def lab_default(lab_hosts_file: Path) -> Campaign:
    """The default campaign on the embedded lab (LAB_DEFAULT)."""
    source = "default lab campaign"
    c = parse(LAB_DEFAULT, source, lab_hosts_file)
    if "vm" in c.configurations:
        c = parse({**LAB_DEFAULT, "seed": c.seed, "directions": {"vm": ["vm-vm"]}}, source,
                  lab_hosts_file)
    return c
