"""Mutated raw files and manifests never crash the reporter: a parser returns figures or raises
ParseError, the archive reader returns a manifest or raises BenchError; and a bad file in a real
archive is listed under Problems.

A deterministic mutation fuzzer (its seed is printed) over the real tools' outputs in
tests/fixtures: bit flips, deletions, insertions of hostile tokens, truncations, repeated and
swapped chunks, and for JSON typed mutations of single values. Figures go to
docs/reliability.md.
"""

import json
import math
import os
import random
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collector.errors import BenchError
from reporter import fuzz
from reporter.archive import Campaign, load
from reporter.fuzz import mutate
from reporter.parsers import ParseError, csrc, iperf3, procstat, qperf, tcpstat
from reporter.tidy import table

from .helpers import invoke

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = int(os.environ.get("DPB_FUZZ_SEED", "7"))
PER_FORMAT = 2600


def qperf_figures(text: str) -> Any:
    results = qperf.parse(text)
    return (qperf.throughput_bps(results) if "bw" in results else qperf.latency_s(results))


PARSERS: dict[str, tuple[list[str], Callable[[str], Any]]] = {
    "qperf": (["qperf-tcp_bw-uu-vv.txt", "qperf-tcp_bw-v-scaled.txt", "qperf-tcp_lat-scaled.txt",
               "qperf-tcp_lat-uu-vv.txt", "qperf-failed-to-connect.txt"], qperf_figures),
    "iperf3": (["iperf3-stream.json", "iperf3-reverse.json", "iperf3-error-refused.json"],
               iperf3.parse),
    "csrc": (["csrc-stream-receiver.json", "csrc-pingpong-client.json"],
             lambda t: csrc.stream_receiver(t) if '"receiver"' in t else csrc.pingpong_client(t)),
    "procstat": (["cpu-sampler.txt", "cpu-dpb-cpusnap.txt"], procstat.window_cpu),
    "tcpstat": (["tcp-sender.txt", "tcp-receiver.txt"], tcpstat.window_deltas),
}


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isnan(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    return True


@pytest.mark.parametrize("fmt", list(PARSERS))
def test_mutated_raw_files_never_crash_a_parser(fmt: str, tmp_path: Path) -> None:
    names, parse = PARSERS[fmt]
    seeds = [(FIXTURES / n).read_text() for n in names]
    rng = random.Random(f"{SEED}-{fmt}")
    outcomes: Counter[str] = Counter()
    for i in range(PER_FORMAT):
        text = mutate(rng, rng.choice(seeds))
        try:
            result = parse(text)
        except ParseError:
            outcomes["rejected"] += 1
            continue
        except Exception as exc:  # a crash: keep the input to reproduce it
            (tmp_path / f"crash-{i}.txt").write_text(text)
            raise AssertionError(f"{fmt} parser crashed on mutation {i} (seed {SEED}): "
                                 f"{type(exc).__name__}: {exc}\n{text[:500]!r}") from exc
        assert _finite(result), f"{fmt}: NaN figures from {text[:300]!r}"
        outcomes["parsed"] += 1
    assert sum(outcomes.values()) == PER_FORMAT
    assert outcomes["rejected"] > PER_FORMAT // 10  # the mutations do reach the error paths
    print(f"\nfuzz {fmt} (seed {SEED}): {PER_FORMAT} mutated files, 0 crashes, "
          f"{outcomes['rejected']} rejected with ParseError, {outcomes['parsed']} parsed")


def test_mutated_manifests_are_read_or_refused_clearly(campaign: Path, tmp_path: Path) -> None:
    text = (campaign / "manifest.json").read_text()
    rng = random.Random(f"{SEED}-manifest")
    outcomes: Counter[str] = Counter()
    work = tmp_path / "c"
    shutil.copytree(campaign, work)
    for i in range(1000):
        (work / "manifest.json").write_text(mutate(rng, text))
        try:
            loaded = load(work)
        except BenchError as exc:
            assert str(work) in str(exc), exc  # the error names the archive
            outcomes["refused"] += 1
            continue
        except Exception as exc:
            raise AssertionError(f"manifest mutation {i} crashed the reader: "
                                 f"{type(exc).__name__}: {exc}") from exc
        problems: list[str] = []

        def note(c: str, r: str, why: str, found: list[str] = problems) -> None:
            found.append(r)

        try:
            df = table([loaded], note)
        except Exception as exc:
            raise AssertionError(f"manifest mutation {i} crashed the tidy table: "
                                 f"{type(exc).__name__}: {exc}") from exc
        outcomes["read, with problems" if problems else "read"] += 1
        # Every run the manifest names is a row, once; every problem names a run that is not ok.
        named = sorted(loaded.manifest["runs"])
        assert sorted(df["run_id"]) == named if named else df.empty, i
        assert set(problems) <= set(df.loc[df["status"] != "ok", "run_id"]), i
    print(f"\nfuzz manifests (seed {SEED}): 1000 mutated manifests, 0 crashes, "
          + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))


def test_every_bad_raw_file_is_listed_under_problems(campaign: Path, tmp_path: Path) -> None:
    work = tmp_path / "bad"
    shutil.copytree(campaign, work)
    manifest = json.loads((work / "manifest.json").read_text())
    rng = random.Random(f"{SEED}-site")
    spoiled: set[str] = set()
    for run_id, record in sorted(manifest["runs"].items())[::3]:
        # the file the figure comes from: the receiver's for csrc stream, else the client's
        key = "server_stdout" if (record["tool"], record["test"]) == ("csrc", "stream") \
            else "client_stdout"
        path = work / record["files"][key]
        path.write_text(mutate(rng, path.read_text())[: rng.randint(0, 40)])
        spoiled.add(run_id)
    listed: set[str] = set()
    table([Campaign(work, manifest)], lambda c, r, why: listed.add(r))
    assert listed == spoiled
    site = tmp_path / "site"
    proc = invoke("report", "--archive", str(work), "--out", str(site))
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems = (site / "problems.html").read_text()
    assert all(run_id in problems for run_id in spoiled)


def test_mutated_manifests_through_the_whole_site_build() -> None:
    """A sample of `invoke fuzz.site` (docs/reliability.md has the 1,000-manifest figures):
    mutated manifests read and built into sites, or refused with a clear error; never a
    traceback."""
    outcome = fuzz.run(6, SEED, batch_size=6, runs=60)
    assert outcome.crashes == [], outcome.crashes[0]
    assert outcome.manifests == 6
    assert outcome.counts["built"] + outcome.counts["refused with a clear error"] == 6
    assert outcome.counts["built"] > 0 and outcome.counts["runs listed under Problems"] > 0
