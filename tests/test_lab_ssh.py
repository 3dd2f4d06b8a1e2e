"""Through the real path: Fabric over the lab's management network into real sshd, pinned keys."""

import json
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest

from collector.errors import HostKeyRejectedError
from collector.hosts import Host
from collector.lab import LabSpec
from collector.remote import Remote

pytestmark = pytest.mark.lab


def test_fabric_runs_a_command_inside_each_host_namespace(lab_spec: LabSpec,
                                                          lab_hosts: list[Host]) -> None:
    root_netns = Path("/proc/self/ns/net").readlink()
    for host, letter in zip(lab_hosts, ("a", "b"), strict=True):
        with Remote(host) as remote:
            out = remote.check(["sh", "-c", "readlink /proc/self/ns/net; ip -j addr show"])
        netns_link, addrs_json = out.split("\n", 1)
        assert Path(netns_link) != root_netns
        local = {a["local"] for link in json.loads(addrs_json) for a in link["addr_info"]}
        assert host.ssh_host in local
        assert str(lab_spec.wire_address(letter).ip) in local


def test_arguments_are_quoted(lab_hosts: list[Host]) -> None:
    hostile = "a b; touch /tmp/dpb-pwned-$$ 'quote\" $(id)"
    with Remote(lab_hosts[0]) as remote:
        assert remote.check(["printf", "%s", hostile]) == hostile
    assert not list(Path("/tmp").glob("dpb-pwned-*"))


ACCEPT_ONE = textwrap.dedent("""
    import socket, sys
    srv = socket.create_server((sys.argv[1], 0))
    srv.settimeout(20)
    print(srv.getsockname()[1], flush=True)
    conn, peer = srv.accept()
    data = conn.recv(64)
    print(peer[0], data.decode(), flush=True)
""")

CONNECT = textwrap.dedent("""
    import socket, sys
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10) as s:
        s.sendall(b"over-the-wire")
""")


def test_tcp_from_host_a_reaches_host_b_over_the_wire(lab_spec: LabSpec,
                                                      lab_hosts: list[Host]) -> None:
    host_a, host_b = lab_hosts
    # The server runs in B's namespace and prints its port, then who connected from where.
    server = subprocess.Popen(
        ["ssh", "-F", str(lab_spec.state_dir / "ssh_config"), "-o", "BatchMode=yes",
         lab_spec.host_name("b"),
         shlex.join(["python3", "-c", ACCEPT_ONE, host_b.data_address])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with Remote(host_a) as remote:
            remote.check(["python3", "-c", CONNECT, host_b.data_address, str(port)], timeout=20)
        out, _ = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    peer, payload = out.split()
    assert payload == "over-the-wire"
    assert peer == host_a.data_address, "the connection must come over the wire, not management"
    assert peer != host_a.ssh_host


def _known_hosts_with(path: Path, line: str) -> Path:
    path.write_text(line)
    return path


def test_unpinned_host_key_is_refused(lab_hosts: list[Host], tmp_path: Path) -> None:
    empty = _known_hosts_with(tmp_path / "empty_known_hosts", "")
    host = lab_hosts[0]
    unpinned = Host(**{**host.__dict__, "known_hosts": str(empty)})
    with pytest.raises(HostKeyRejectedError, match="not pinned"):
        Remote(unpinned).open()


def test_changed_host_key_is_refused(lab_hosts: list[Host], tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    host = lab_hosts[0]
    pub = Path(f"{other}.pub").read_text().split()
    wrong = _known_hosts_with(tmp_path / "wrong_known_hosts",
                              f"{host.ssh_host} {pub[0]} {pub[1]}\n")
    impostor = Host(**{**host.__dict__, "known_hosts": str(wrong)})
    with pytest.raises(HostKeyRejectedError, match="does not match"):
        Remote(impostor).open()


def test_missing_known_hosts_file_is_refused(lab_hosts: list[Host], tmp_path: Path) -> None:
    host = Host(**{**lab_hosts[0].__dict__, "known_hosts": str(tmp_path / "nope")})
    with pytest.raises(HostKeyRejectedError, match="does not exist"):
        Remote(host)


def test_password_login_is_not_offered(lab_spec: LabSpec, lab_hosts: list[Host]) -> None:
    """OpenSSH's own client, without the key: the server must refuse (key-only sshd)."""
    proc = subprocess.run(
        ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
         "-o", "IdentityFile=/dev/null", "-o", f"UserKnownHostsFile={lab_hosts[0].known_hosts}",
         "-o", "StrictHostKeyChecking=yes", "-o", "PreferredAuthentications=password,"
         "keyboard-interactive", f"root@{lab_hosts[0].ssh_host}", "true"],
        capture_output=True, text=True, timeout=20, check=False)
    assert proc.returncode == 255
    assert "Permission denied" in proc.stderr
