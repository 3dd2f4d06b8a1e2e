"""The campaign's tuning axis: named profiles of host settings (sysctls, NIC offloads), parsed
and checked from the campaign file. `untuned` is the hosts as they are: the only profile when
the key is absent, and what every other profile is compared with. Setting them on the hosts
is collector/host_tuning.py's."""

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError

UNTUNED = "untuned"
PROFILE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
SYSCTL_KEY = re.compile(r"net\.[a-z0-9_]{1,32}(\.[a-z0-9_-]{1,64}){1,4}")
FEATURE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_VALUE = 200
PROFILE_KEYS = ("sysctls", "offloads")
# What the campaign itself sets and restores (forwarding, the interface defaults tunnels and
# routing touch): a profile may not fight it.
MANAGED = (re.compile(r"net\.ipv4\.ip_forward"), re.compile(r"net\.ipv[46]\.conf\..*"))
# `ethtool -K`'s short names and the feature each one is in `ethtool -k`'s listing.
OFFLOAD_ALIASES = {
    "rx": "rx-checksumming", "tx": "tx-checksumming", "sg": "scatter-gather",
    "tso": "tcp-segmentation-offload", "ufo": "udp-fragmentation-offload",
    "gso": "generic-segmentation-offload", "gro": "generic-receive-offload",
    "lro": "large-receive-offload", "rxvlan": "rx-vlan-offload",
    "txvlan": "tx-vlan-offload", "ntuple": "ntuple-filters", "rxhash": "receive-hashing"}
ON_OFF = {True: "on", False: "off"}


@dataclass(frozen=True)
class Profile:
    name: str
    sysctls: dict[str, str] = field(default_factory=dict)
    offloads: dict[str, bool] = field(default_factory=dict)  # ethtool -K name → on

    @property
    def untuned(self) -> bool:
        return not (self.sysctls or self.offloads)

    def to_json(self) -> dict[str, Any]:
        """As the campaign file says it."""
        out: dict[str, Any] = {}
        if self.sysctls:
            out["sysctls"] = dict(self.sysctls)
        if self.offloads:
            out["offloads"] = {k: ON_OFF[v] for k, v in self.offloads.items()}
        return out

    def describe(self) -> str:
        """One line of what the profile sets, for the plan and the report."""
        said = [f"{k}={v}" for k, v in self.sysctls.items()]
        said += [f"{k} {ON_OFF[v]}" for k, v in self.offloads.items()]
        return ", ".join(said) or "the hosts as they are"


DEFAULT = (Profile(UNTUNED),)


def feature(name: str) -> str:
    """The feature ``ethtool -k`` lists for an ``ethtool -K`` name."""
    return OFFLOAD_ALIASES.get(name, name)


def sysctl_keys(profiles: tuple[Profile, ...]) -> list[str]:
    return sorted({k for p in profiles for k in p.sysctls})


def offload_names(profiles: tuple[Profile, ...]) -> list[str]:
    return sorted({k for p in profiles for k in p.offloads})


def normalised(value: str) -> str:
    """A sysctl value as comparable text: `sysctl -n` separates a vector's fields by tabs."""
    return " ".join(value.split())


def to_json(profiles: tuple[Profile, ...]) -> dict[str, Any] | None:
    """The campaign's `tuning:` as the file says it; None for the default (so a campaign
    without tuning keeps today's manifest)."""
    if profiles == DEFAULT:
        return None
    return {p.name: p.to_json() for p in profiles}


def parse(raw: Any, source: str) -> tuple[Profile, ...]:
    """`tuning:`: a mapping profile name → {sysctls, offloads}; untuned first and empty."""
    if raw is None:
        return DEFAULT
    hint = ("tuning: {untuned: {}, buffers: {sysctls: {net.core.rmem_max: 67108864}}, "
            "no-gro: {offloads: {gro: off}}} (docs/campaign.md#tuning)")
    if not isinstance(raw, dict) or not raw:
        raise UsageError(f"{source}: tuning: a mapping of profile names is needed, got "
                         f"{type(raw).__name__}", hint)
    if UNTUNED not in raw:
        raise UsageError(f"{source}: tuning: no {UNTUNED} profile",
                         f"add `{UNTUNED}: {{}}`: every profile is measured against the hosts "
                         "as they are")
    profiles = [_profile(str(name), body, source) for name, body in raw.items()]
    base = next(p for p in profiles if p.name == UNTUNED)
    if not base.untuned:
        raise UsageError(f"{source}: tuning.{UNTUNED}: it is the hosts as they are and takes "
                         "no settings", "give those settings a profile of their own")
    for p in profiles:
        if p.untuned and p.name != UNTUNED:
            raise UsageError(f"{source}: tuning.{p.name}: sets nothing",
                             "give it sysctls or offloads, or drop it")
    # By name: a manifest keeps its keys sorted, and a resume must draw the same order.
    return (base, *sorted((p for p in profiles if p.name != UNTUNED), key=lambda p: p.name))


def _profile(name: str, body: Any, source: str) -> Profile:
    where = f"{source}: tuning.{name}"
    if not PROFILE_NAME.fullmatch(name):
        raise UsageError(f"{source}: tuning: profile name {name[:40]!r} is not allowed",
                         "lower-case letters, digits, - and _, at most 32 (it goes into run "
                         "ids)")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise UsageError(f"{where}: a mapping with sysctls and/or offloads is needed, got "
                         f"{type(body).__name__}")
    unknown = sorted(str(k) for k in set(body) - set(PROFILE_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}",
                         f"allowed: {', '.join(PROFILE_KEYS)}")
    return Profile(name, _sysctls(body.get("sysctls") or {}, where),
                   _offloads(body.get("offloads") or {}, where))


def _sysctls(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}.sysctls: a mapping key → value is needed")
    out = {}
    for key, value in raw.items():
        key = str(key)
        if not SYSCTL_KEY.fullmatch(key):
            raise UsageError(f"{where}.sysctls: {key[:80]!r} is not a network sysctl",
                             "a key under net. as `sysctl -a` names it, e.g. "
                             "net.ipv4.tcp_rmem")
        if any(m.fullmatch(key) for m in MANAGED):
            raise UsageError(f"{where}.sysctls: {key} is set by the campaign itself "
                             "(forwarding for the routed configurations, interface defaults "
                             "for the tunnels)", "leave it out of the profile")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise UsageError(f"{where}.sysctls.{key}: {value!r} is not allowed",
                             "an integer, or a string such as \"4096 87380 67108864\"")
        text = normalised(str(value))
        if not text or len(text) > MAX_VALUE or not text.isprintable():
            raise UsageError(f"{where}.sysctls.{key}: {str(value)[:80]!r} is not allowed",
                             f"a non-empty value of printable characters, at most {MAX_VALUE}")
        out[key] = text
    return out


def _offloads(raw: Any, where: str) -> dict[str, bool]:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}.offloads: a mapping feature → on/off is needed")
    out: dict[str, bool] = {}
    for name, value in raw.items():
        name = str(name)
        if not FEATURE_NAME.fullmatch(name):
            raise UsageError(f"{where}.offloads: {name[:80]!r} is not a feature name",
                             f"one of {', '.join(OFFLOAD_ALIASES)}, or a feature as "
                             "`ethtool -k` lists it")
        # YAML reads a bare on/off as a boolean; a quoted one is text.
        on = {"on": True, "off": False}.get(value) if isinstance(value, str) else value
        if not isinstance(on, bool):
            raise UsageError(f"{where}.offloads.{name}: {value!r} is not allowed", "on or off")
        if feature(name) in (feature(n) for n in out):
            raise UsageError(f"{where}.offloads: {name} names a feature given already")
        out[name] = on
    return out
