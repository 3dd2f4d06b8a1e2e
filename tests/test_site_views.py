"""The site's view models without a browser or root: every chart spec the pages hold is valid
Vega-Lite (the site skips Altair's validation to save time, so this test does it), every page
builds for one campaign and for several, and a campaign where nothing worked still builds."""

import json
from pathlib import Path

import pandas as pd
import pytest

from reporter import aggregate, archive, command, render, site, synthetic
from reporter.campaigns import in_time_order
from reporter.compare import compare_pair
from reporter.numbers import num
from reporter.pages import cpu, latency, loaded, streams, summary, throughput, udp
from reporter.pages.model import Site
from reporter.tidy import table
from reporter.views import mtus

from .helpers import assert_valid_vega_lite


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Site]:
    """The view models of one campaign and of two (read by the tests, never changed)."""
    tmp = tmp_path_factory.mktemp("models")
    campaigns = [archive.load(synthetic.generate(
        tmp, len(synthetic.cells()) * 3, seed=i + 1, scale=1.0 - 0.1 * i, name=f"c{i}",
        spread=0.05, created_utc=f"2026-01-0{i + 1}T00:00:00.000000Z")) for i in range(2)]
    return {count: _model(campaigns[:count]) for count in (1, 2)}


def _model(campaigns: list[archive.Campaign]) -> Site:
    infos = in_time_order(campaigns)
    df = table(campaigns)
    cells = {m: aggregate.with_ratios(aggregate.cells(df, m)) for m in aggregate.METRICS}
    changes = [c for i in infos[1:] for c in compare_pair(cells, infos[0], i, 5.0)]
    return Site(infos, cells, changes, infos[0].name, 5.0)


def test_several_flows_have_their_own_page_and_leave_the_studys_alone(
        models: dict[int, Site]) -> None:
    model = models[1]
    gbps = model.cells["gbps"]
    stream = gbps[gbps["test"] == "stream"]
    four = stream.assign(streams=4, **{c: stream[c] * 3 for c in ("mean", "ci_low", "ci_high")})
    fair = four.assign(metric="fairness", mean=0.9)
    mixed = Site(model.infos, {**model.cells, "gbps": pd.concat([gbps, four]),
                                     "fairness": fair}, model.changes, model.baseline, 5.0)
    assert streams.measured(mixed) and not streams.measured(model)
    # The study's pages of the mixed site are those of its one-flow cells, chart for chart.
    for view in (throughput.throughput, cpu.cpu_per_gbps, summary.summary):
        assert [c.spec for c in render.charts_in(view(mixed.one_flow()))] == [
            c.spec for c in render.charts_in(view(model))], view.__name__
    page = streams.page(mixed)
    charts = render.charts_in(page)
    assert len(charts) == len(page.tabs) * len(mtus(stream)) >= 2
    assert_valid_vega_lite(charts)
    rows = [row for tab in page.tabs for table in tab.tables for row in table.rows]
    assert rows and all(row[5].endswith("×") for row in rows)  # ratio to bare at the same N
    assert {row[4] for row in rows if row[2] == "4"} == {"3.00×"}  # ÷ one flow
    assert "3.00–3.00× their single-flow throughput" in page.points[0].text


def test_udp_has_its_own_page_with_valid_charts(models: dict[int, Site]) -> None:
    model = models[1]
    gbps = model.cells["gbps"]
    stream = gbps[(gbps["test"] == "stream") & (gbps["tool"] != "qperf")]
    as_udp = stream.assign(test="udp")
    cells = {**model.cells,
             "udp_mpps": as_udp.assign(metric="udp_mpps",
                                       **{c: as_udp[c] / 10 for c in ("mean", "ci_low",
                                                                      "ci_high")}),
             "udp_loss_pct": as_udp.assign(metric="udp_loss_pct", mean=0.5),
             "udp_gbps": as_udp.assign(metric="udp_gbps"),
             "cpu_per_mpps": as_udp.assign(metric="cpu_per_mpps", mean=40.0)}
    with_udp = Site(model.infos, cells, model.changes, model.baseline, 5.0)
    assert udp.measured(with_udp) and not udp.measured(model)
    page = udp.page(with_udp)
    charts = render.charts_in(page)
    assert len(charts) == len(page.tabs) * len(mtus(stream)) >= 2
    assert_valid_vega_lite(charts)
    rows = [row for tab in page.tabs for table in tab.tables for row in table.rows]
    assert rows and {row[4] for row in rows} == {f"{num(0.5)} %"}  # lost
    assert {row[6] for row in rows} == {num(40.0)}  # CPU per Mpps
    assert "bare metal received" in page.points[0].text


def test_latency_under_load_has_its_own_page_beside_the_idle_figures(
        models: dict[int, Site]) -> None:
    model = models[1]
    cells = dict(model.cells)
    for metric in ("lat_p50_us", "lat_p99_us", "lat_p99_9_us"):
        idle = cells[metric]
        idle = idle[(idle["tool"] == "csrc") & (idle["test"] == "rr")]
        busy = idle.assign(test="rr-load", streams=4,
                           **{c: idle[c] * 3 for c in ("mean", "ci_low", "ci_high")})
        cells[metric] = pd.concat([cells[metric], busy])
    cells["load_gbps"] = busy.assign(metric="load_gbps", mean=7.5)
    with_load = Site(model.infos, cells, model.changes, model.baseline, 5.0)
    assert loaded.measured(with_load) and not loaded.measured(model)
    # The study's Latency page is the idle one, chart for chart.
    assert [c.spec for c in render.charts_in(latency.latency(with_load.one_flow()))] == [
        c.spec for c in render.charts_in(latency.latency(model))]
    page = loaded.page(with_load)
    charts = render.charts_in(page)
    assert len(charts) == len(mtus(busy)) >= 1
    assert_valid_vega_lite(charts)
    rows = [row for tab in page.tabs for table in tab.tables for row in table.rows]
    assert rows and {row[1] for row in rows} == {"4"} and {row[-1] for row in rows} == {num(7.5)}
    idle_p99, busy_p99 = rows[0][3].split(" → ")
    assert float(busy_p99) == pytest.approx(3 * float(idle_p99), rel=0.02)
    assert "3.0–3.0× over idle" in page.points[0].text


@pytest.mark.parametrize("count", [1, 2])
def test_every_chart_is_valid_vega_lite(models: dict[int, Site], count: int) -> None:
    model = models[count]
    made = dict(site.views(model, []))
    assert ({"compare", "history"} <= {p.slug for p in made}) == (count > 1)
    charts = render.charts_in(list(made.values()))
    assert len(charts) >= 20
    assert_valid_vega_lite(charts)


def test_a_campaign_where_nothing_worked_still_builds(tmp_path: Path) -> None:
    root = synthetic.generate(tmp_path, 50)
    manifest = json.loads((root / "manifest.json").read_text())
    for rec in manifest["runs"].values():
        rec.update(status="failed", reason="the client did not connect")
    (root / "manifest.json").write_text(json.dumps(manifest))
    built = command.report([str(root)], tmp_path / "site", tmp_path)
    assert built["ok"] == 0 and built["problems"] == 50
    assert "the client did not connect" in (tmp_path / "site" / "problems.html").read_text()


def test_host_facts_are_the_ones_before_the_campaign_and_existing_endpoints_are_named() -> None:
    """A host's facts are its start- file's (end- sorts first by name); the existing
    configuration's label says each host's endpoint, or once when both are alike."""
    from reporter.campaigns import CampaignInfo

    def made(existing: tuple[tuple[str, str], ...]) -> CampaignInfo:
        return CampaignInfo(
            name="c", label="c", created_utc="", state="complete", runs=0, planned=0, seed=1,
            commit="", parameters={},
            hosts={"a": {"end-20260102T000000Z": {"mtu wire0": "1500"},
                         "start-20260101T000000Z": {"mtu wire0": "9000"}}},
            vm_names=frozenset(), ovs_datapaths=frozenset(), existing=existing)

    alike = made((("a", "veth, routed, MTU 1500"), ("b", "veth, routed, MTU 1500")))
    assert alike.first_facts("a") == {"mtu wire0": "9000"}
    assert alike.existing_label == "veth, routed, MTU 1500, on both hosts"
    apart = made((("a", "veth, routed, MTU 1500"), ("b", "vxlan, MTU 1450")))
    assert apart.existing_label == "a: veth, routed, MTU 1500; b: vxlan, MTU 1450"


def test_every_registered_page_has_its_template_and_a_slug_of_its_own() -> None:
    from reporter.pages import NAV

    slugs = [p.slug for p in NAV]
    assert len(set(slugs)) == len(slugs) and slugs[0] == "index"
    assert sorted(t.name for t in render.TEMPLATES.glob("[!_]*.md.j2")) == sorted(
        f"{s}.md.j2" for s in slugs)
