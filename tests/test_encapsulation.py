"""Today's dataplanes: the MTU arithmetic of each encapsulation and its goodput ceiling, the
tunnels in a campaign (opt-in, their directions), the NICs' speed from the facts, the
Encapsulation and encryption page and its key point; on the namespace lab, whose kernel has no
tunnel module, a campaign with the tunnels refused before anything is made."""

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from collector import plan
from collector.campaign import DEFAULTS, parse
from collector.encapsulation import ceiling_ratio, goodput_ceiling_gbps, inner_mtu
from collector.exit import ExitStatus
from collector.lab import LabSpec
from reporter import aggregate, archive, facts, render, synthetic
from reporter.campaigns import in_time_order
from reporter.pages import encapsulation
from reporter.pages.model import Site
from reporter.tidy import table

from .collecting import collect_argv, write_campaign
from .helpers import assert_valid_vega_lite

FIXTURES = Path(__file__).parent / "fixtures"
TUNNELS = ["ipip", "geneve", "wireguard", "ipsec"]
HOSTS = [{"name": "a", "ssh_host": "198.18.255.2", "data_address": "198.18.0.1",
          "key": __file__, "known_hosts": __file__},
         {"name": "b", "ssh_host": "198.18.255.3", "data_address": "198.18.0.2",
          "key": __file__, "known_hosts": __file__}]


@pytest.mark.parametrize(("configuration", "mtu", "inner"), [
    ("bare", 1500, 1500), ("container", 9000, 9000), ("ipip", 1500, 1480),
    ("overlay", 1500, 1450), ("geneve", 9000, 8950), ("overlay-ovs", 9000, 8950),
    ("wireguard", 1500, 1440), ("wireguard", 9000, 8940),
    # ESP: (MTU - 20 - 8 - 8 - 16) rounded down to 4 bytes, less the 2-byte trailer
    ("ipsec", 1500, 1446), ("ipsec", 9000, 8946), ("ipsec", 1499, 1442), ("ipsec", 1497, 1442)])
def test_inner_mtu_is_the_wire_less_the_encapsulation(configuration: str, mtu: int,
                                                       inner: int) -> None:
    assert inner_mtu(configuration, mtu) == inner


def test_ceilings_are_the_published_ones_at_10_gbe() -> None:
    # At MTU 1500 on 10 GbE, with Linux's TCP timestamps: 9.41 bare, 9.28 IPIP, 9.09 VXLAN,
    # 9.02 WireGuard.
    got = {c: round(goodput_ceiling_gbps(10, c, 1500), 2)
           for c in ("bare", "ipip", "overlay", "wireguard")}
    assert got == {"bare": 9.41, "ipip": 9.28, "overlay": 9.09, "wireguard": 9.02}
    assert round(goodput_ceiling_gbps(10, "bare", 9000), 3) == 9.900
    assert goodput_ceiling_gbps(100, "ipsec", 1500) == pytest.approx(
        10 * goodput_ceiling_gbps(10, "ipsec", 1500))
    assert ceiling_ratio("bare", 1500) == 1.0
    assert ceiling_ratio("ipip", 1500) == pytest.approx(1428 / 1448)
    assert ceiling_ratio("wireguard", 9000) > ceiling_ratio("wireguard", 1500)


def test_tunnels_are_opt_in_and_measure_containers_and_hosts_through_the_tunnel() -> None:
    assert not set(TUNNELS) & set(DEFAULTS["configurations"])
    assert not set(TUNNELS) & set(parse({"hosts": HOSTS}, "c.yaml").configurations)
    c = parse({"hosts": HOSTS, "configurations": ["overlay-ovs", *TUNNELS, "bare"],
               "tests": ["stream", "udp"], "mtus": [1500]}, "c.yaml")
    # in the order of the docs' table, overlay-ovs last
    assert c.configurations == ("bare", "ipip", "geneve", "wireguard", "ipsec", "overlay-ovs")
    assert all(c.directions[t] == ("container-container", "host-host") for t in TUNNELS)
    ids = {r.run_id for r in plan.runs(c)}
    assert "ipsec.host-host.csrc.stream.1000B.sb-auto.mtu1500.r01" in ids
    # UDP datagrams fit the narrowest path: WireGuard's 1440 less IP and UDP headers
    assert plan.largest_datagram(c, 1500) == 1440 - 28


def test_the_nics_speed_is_taken_unless_the_driver_only_names_one() -> None:
    veth = facts.parse((FIXTURES / "veth-facts.txt").read_text())
    assert "Speed: 10000Mb/s" in veth["ethtool-link dpbfx0"]
    assert facts.link_speed_mbps(veth) is None  # a veth's 10,000 Mb/s is nominal
    without_driver = {k: v for k, v in veth.items() if not k.startswith("ethtool-driver")}
    assert facts.link_speed_mbps(without_driver) == 10000
    virtio = facts.parse((FIXTURES / "machine-lab-facts-lab-a.txt").read_text())
    assert facts.link_speed_mbps(virtio) is None  # "Speed: Unknown!"


RATIOS = {"container": 0.95, "ipip": 0.9, "geneve": 0.8, "wireguard": 0.4, "ipsec": 0.5}
PATHS = (("bare", "host-host"), ("container", "container-container"),
         *((t, d) for t in TUNNELS for d in ("container-container", "host-host")))


@pytest.fixture(scope="module")
def tunnel_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A campaign of the tunnels from real tools' outputs, each configuration's goodput ratio
    to bare metal set to RATIOS (the synthetic runs are all alike)."""
    root = synthetic.generate(tmp_path_factory.mktemp("tunnels"),
                              len(synthetic.cells(paths=PATHS)) * 3, paths=PATHS, seed=5,
                              spread=0.05)
    campaigns = [archive.load(root)]
    df = table(campaigns)
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in aggregate.METRICS}
    gbps = cells["gbps"]
    cells["gbps"] = gbps.assign(ratio_to_bare=[
        RATIOS.get(c, r) for c, r in zip(gbps["configuration"], gbps["ratio_to_bare"],
                                         strict=True)])
    cpg = cells["cpu_per_gbps"]  # the synthetic runs' CPU snapshots show no busy time
    cells["cpu_per_gbps"] = cpg.assign(mean=100.0, ratio_to_bare=[
        1 / RATIOS.get(c, 1.0) for c in cpg["configuration"]])
    infos = in_time_order(campaigns)
    return Site(infos, cells, [], infos[0].name, 5.0,
                aggregate.cpu_classes(df, [infos[0].name]))


def test_the_page_shows_each_dataplane_against_bare_metal_and_its_ceiling(
        tunnel_site: Site) -> None:
    assert encapsulation.measured(tunnel_site)
    plain = Site(tunnel_site.infos, {m: df[~df["configuration"].isin(TUNNELS)]
                                     for m, df in tunnel_site.cells.items() if not df.empty},
                 [], "", 5.0)
    assert not encapsulation.measured(plain)
    view = encapsulation.page(tunnel_site)
    assert [s.heading for s in view.sections] == ["MTU 1500", "MTU 9000"]
    charts = render.charts_in(view)
    assert_valid_vega_lite(charts)
    ratio_rows = pd.DataFrame(charts[0].spec["datasets"].popitem()[1])
    assert set(ratio_rows["figure"]) == {"goodput", "CPU per Gb/s", "latency"}
    goodput = ratio_rows[ratio_rows["figure"] == "goodput"]
    ipsec = goodput[goodput["path"] == "ipsec container-container"].iloc[0]
    assert ipsec["ratio"] == 0.5 and ipsec["ceiling"] == pytest.approx(1394 / 1448)
    assert goodput[goodput["configuration"] == "bare"]["ceiling"].isna().all() or \
        set(goodput[goodput["configuration"] == "bare"]["ceiling"]) == {1.0}
    rows = {r[0] + " " + r[1]: r for r in view.ceilings.rows}
    assert rows["ipsec 9000 (8946)"][2] == "54"
    assert rows["wireguard 1500 (1440)"][3:6] == ["9.02", "22.6", "90.2"]
    table_rows = [r for s in view.sections for t in s.tabs for tb in t.tables for r in tb.rows]
    assert any(r[0] == "ipip container-container" and r[2].startswith("0.900× (0.986×)")
               for r in table_rows), table_rows[:3]
    assert "`ipsec`, IPsec ESP (AES-GCM)" in view.headers[-1]


def test_the_key_point_ranks_the_dataplanes_container_to_container(tunnel_site: Site) -> None:
    point = encapsulation.key_point(tunnel_site, tunnel_site.latest)
    assert point is not None and point.link == "encapsulation.md#encapsulation"
    assert ("container to container): containers 0.950×, IP-in-IP 0.900×, Geneve 0.800×, "
            "IPsec 0.500×, WireGuard 0.400× (their headers alone allow 0.959×–0.986×); per Gb/s "
            "they spend 1.05× (containers) to 2.50× (WireGuard) bare metal's CPU."
            in point.text), point.text


@pytest.mark.lab
def test_the_namespace_lab_refuses_the_tunnels_before_anything(lab_spec: LabSpec,
                                                              tmp_path: Path) -> None:
    campaign = write_campaign(tmp_path / "t.yaml", configurations=["bare", *TUNNELS],
                              tools=["csrc"])
    proc = subprocess.run(collect_argv(lab_spec, "--campaign", str(campaign), "--out",
                                       str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=120, check=False)
    said = " ".join(proc.stderr.split())
    assert proc.returncode == ExitStatus.ERROR, proc.stdout[-2000:] + proc.stderr[-2000:]
    for missing in ("lab-a", "lacks what the campaign's tunnels need: module ipip (ipip); "
                    "module geneve (geneve); module wireguard (wireguard); modules esp4, "
                    "xfrm_user, xfrm_interface (ipsec)"):
        assert missing in said, said
    assert "lab.up --machines" in said
    assert not (tmp_path / "out").exists()
