"""The lab tasks' options (`invoke lab.up --help`), and the lab they ask for: what is given,
else what the lab already has."""

from ..errors import UsageError
from .spec import LabSpec


def spec_from_options(lab_id: str, mtu: int | None = None, mgmt_subnet: str | None = None,
          wire_subnet: str | None = None, state_root: str | None = None,
          vms: bool = False, machines: bool = False, hosts: int = 0,
          slow: str = "") -> LabSpec:
    recorded = LabSpec.recorded(lab_id, state_root)
    slow_host, slow_rate = ((recorded.slow_host, recorded.slow_rate) if not slow else
                            ("", "") if slow == "none" else _slow(slow))
    return LabSpec(lab_id=lab_id, mtu=mtu or recorded.mtu,
                           mgmt_subnet=mgmt_subnet or recorded.mgmt_subnet,
                           wire_subnet=wire_subnet or recorded.wire_subnet,
                           state_root=recorded.state_root,
                           vms=vms or (recorded.vms and not machines),
                           machines=machines or (recorded.machines and not vms),
                           hosts=hosts or recorded.hosts, slow_host=slow_host,
                           slow_rate=slow_rate)


def demo_spec(state_root: str | None = None) -> LabSpec:
    """The lab `invoke demo` describes, whatever shape an earlier `lab up` left recorded (four
    hosts, a slowed link, machines): two namespace hosts, each with its VM."""
    return spec_from_options("dpb", state_root=state_root, vms=True, hosts=2, slow="none")


def _slow(text: str) -> tuple[str, str]:
    """`--slow c=200mbit` (or lab-c=200mbit) → ("c", "200mbit")."""
    host, sep, rate = text.partition("=")
    if not sep:
        raise UsageError(f"--slow {text!r}: write HOST=RATE", "e.g. c=200mbit, or none")
    return host.removeprefix("lab-"), rate


LAB_HELP = {
    "lab-id": "name of the lab (1-6 letters/digits; namespaces are ID-a and ID-b)",
    "mtu": "MTU of the wire between the hosts (default 1500, or what the lab has)",
    "mgmt-subnet": "management subnet inside 198.18.0.0/15 (default 198.18.255.0/24)",
    "wire-subnet": "data subnet inside 198.18.0.0/15 (default 198.18.0.0/24)",
    "state-root": "where lab state lives (default /var/lib/dataplane-bench, or $DPB_STATE_ROOT)",
    "vms": "also boot one qemu guest (TCG) per host; kept until `lab.down`",
    "machines": "the hosts are qemu guests (TCG) with their own Debian kernel, not namespaces",
    "hosts": "namespace hosts lab-a, lab-b, … (2-8, default 2 or what the lab has); more than "
             "two meet on a bridge, as on a switch",
    "slow": "HOST=RATE: limit one host's data link both ways with tc tbf (e.g. c=200mbit; "
            "hosts 3+), to find it on the Node pairs page; none removes it",
}
