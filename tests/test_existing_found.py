"""Finding an existing endpoint from what `ip` printed on the lab (fixtures from
`tests/fixtures/capture.sh existing`), through a fake transport; the lab tests in
test_existing.py take the real path."""

import shlex
from pathlib import Path
from typing import Any, cast

import pytest

from collector.connection import Connection
from collector.errors import BenchError
from collector.existing import NamedEndpoint
from collector.hosts import Host
from collector.remote import Remote, Result
from collector.topology.existing import find, same_as_measured

FIXTURES = Path(__file__).parent / "fixtures"
ROUTED = NamedEndpoint("a", "198.19.20.2", netns="dpbfix-web")
BRIDGED = NamedEndpoint("b", "198.19.21.2", pid=4242)


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


class Answers:
    """A remote that answers each command with a captured output (or fails it)."""

    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers
        self.host = Host("lab-x", "198.18.255.11", "198.18.0.1")
        self.asked: list[str] = []

    def run(self, argv: list[str], timeout: float = 0) -> Result:
        line = shlex.join(argv)
        self.asked.append(line)
        matching = [suffix for suffix in self.answers if line.endswith(suffix)]
        if not matching:
            return Result(line, 0, "", "")
        text = self.answers[max(matching, key=len)]  # the most specific answer
        return Result(line, 1 if text is None else 0, text or "",
                      "No such file or directory\n" if text is None else "")


def _conn(answers: dict[str, str | None]) -> tuple[Connection, Answers]:
    fake = Answers(answers)
    return Connection(cast(Remote, fake), "host", "/run/x"), fake


def _answers(side: str, **override: Any) -> dict[str, str | None]:
    return {"-- readlink /proc/self/ns/net" if side == "bridged" else
            "dpbfix-web readlink /proc/self/ns/net": _fixture("existing-routed-nsid.txt"),
            "ip -j -d addr show": _fixture(f"existing-{side}-addr.json"),
            "ip -j -d link show": _fixture(f"existing-{side}-host-links.json"),
            "readlink /proc/self/ns/net": _fixture("existing-host-nsid.txt"), **override}


def test_a_routed_veth_namespace_is_found_with_its_host_end() -> None:
    conn, fake = _conn(_answers("routed"))
    found = find(conn, ROUTED, "c.yaml: endpoints[0]")
    assert (found.device, found.kind, found.mtu) == ("eth0", "veth", 1500)
    assert (found.host_peer, found.attached_to) == ("web0h", None)
    assert found.description == "veth, routed, MTU 1500"
    assert found.namespace_id.startswith("net:[")
    assert "### ip netns exec dpbfix-web ip route show" in found.inspection
    assert any(a.startswith("ip netns exec dpbfix-web ip -j -d addr") for a in fake.asked)


def test_a_process_namespace_on_a_bridge_is_found_through_nsenter() -> None:
    conn, fake = _conn(_answers("bridged"))
    found = find(conn, BRIDGED, "c.yaml: endpoints[1]")
    assert (found.host_peer, found.attached_to) == ("web0h", "br-web bridge")
    assert found.description == "veth → br-web bridge, MTU 1500"
    assert "nsenter --net=/proc/4242/ns/net -- ip -j -d addr show" in fake.asked


@pytest.mark.parametrize(("named", "answers", "message"), [
    (NamedEndpoint("a", "198.19.20.2", netns="cni-gone"),
     {"cni-gone readlink /proc/self/ns/net": None,
      "ip netns list": _fixture("existing-netns-list.txt")},
     r"lab-x .*: c\.yaml: endpoints\[0\]\.netns: no network namespace 'cni-gone' there "
     r"\(ip netns list: dpb-a, dpbfix-web, dpb-b\)"),
    (BRIDGED, {"-- readlink /proc/self/ns/net": None},
     r"lab-x .*: c\.yaml: endpoints\[0\]\.pid: no process 4242 there"),
    (NamedEndpoint("b", "198.19.21.99", pid=4242), {},
     r"endpoints\[0\]\.address: 198\.19\.21\.99 is not an address in the namespace of PID 4242 "
     r"\(it has: lo 127\.0\.0\.1/8, lo ::1/128, eth0 198\.19\.21\.2/24, eth0 fe80::"),
])
def test_an_endpoint_that_is_not_there_is_refused_naming_host_and_key(
        named: NamedEndpoint, answers: dict[str, str | None], message: str) -> None:
    side = "routed" if named.netns else "bridged"
    conn, _ = _conn(_answers(side, **answers))
    with pytest.raises(BenchError, match=message):
        find(conn, named, "c.yaml: endpoints[0]")


def test_the_hosts_own_namespace_is_refused_as_bare() -> None:
    own = _fixture("existing-host-nsid.txt")
    conn, _ = _conn(_answers("bridged", **{"-- readlink /proc/self/ns/net": own}))
    with pytest.raises(BenchError, match=r"endpoints\[0\]\.pid: the namespace of PID 4242 is "
                                         r"the host's own network namespace"):
        find(conn, BRIDGED, "c.yaml: endpoints[0]")


def test_a_resume_refuses_an_endpoint_whose_namespace_changed() -> None:
    """The runs so far measured one namespace; a restarted container has another."""
    conn, _ = _conn(_answers("routed"))
    found = find(conn, ROUTED, "c.yaml: endpoints[0]")
    before = {"r1": {"configuration": "existing",
                     "topology": {"endpoint:a": found.description,
                                  "netns-id:a": found.namespace_id}},
              "r2": {"configuration": "bare", "topology": {}}}
    same_as_measured(before, (found,))  # the same namespace: the resume goes on
    same_as_measured({}, (found,))      # nothing measured yet
    moved = {"r1": {**before["r1"], "topology": {"netns-id:a": "net:[1]"}}}
    with pytest.raises(BenchError, match=r"a: endpoints: namespace dpbfix-web is net:\[\d+\] "
                                         r"now, but the archive's runs measured net:\[1\]"):
        same_as_measured(moved, (found,))
