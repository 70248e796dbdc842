"""``parity run --shard K/N`` and ``parity report merge``: the parts of a run on N
machines join into the report one machine writes for the same seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parity.cli import main
from parity.config import ConfigError
from parity.report.merge import check_shards, merge_reports
from parity.report.model import ReportError, RunReport
from parity.run.shard import WHOLE, Shard, parse_shard

SMALL_RUN = (
    "run",
    "--suite",
    "all",
    "--scenarios",
    "ledger",
    "--backends",
    "memory,sqlite",
    "--examples",
    "4",
    "--steps",
    "6",
    "--seed",
    "11",
)


def cells(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        key: {backend: cell["status"] for backend, cell in row.items()}
        for key, row in report["cells"].items()
    }


def contract_examples(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Cases per contract operation: each operation is seeded by its name, so these
    are the same whichever machine ran it."""
    return {
        key: {backend: cell["examples"] for backend, cell in row.items()}
        for key, row in report["cells"].items()
        if key.startswith("contract/")
    }


def test_three_shards_merge_into_the_one_machine_run(tmp_path: Path) -> None:
    for k in (1, 2, 3):
        assert main([*SMALL_RUN, "--shard", f"{k}/3", "--report-dir", str(tmp_path / f"s{k}")]) == 0
    assert main([*SMALL_RUN, "--report-dir", str(tmp_path / "one")]) == 0
    parts = [str(tmp_path / f"s{k}" / "parity.json") for k in (3, 1, 2)]  # any order
    assert main(["report", "merge", *parts, "--out", str(tmp_path / "merged")]) == 0

    merged = json.loads((tmp_path / "merged" / "parity.json").read_text())
    one = json.loads((tmp_path / "one" / "parity.json").read_text())
    for key in ("verdict", "exit_code", "summary", "seed", "examples", "suites", "backends"):
        assert merged[key] == one[key], key
    assert cells(merged) == cells(one)
    assert list(merged["cells"]) == list(one["cells"]), "cells keep the one-machine order"
    assert contract_examples(merged) == contract_examples(one)
    ledger = merged["cells"]["scenarios/ledger"]["sqlite"]
    assert ledger["examples"] >= 4, "every shard ran its share of the examples"
    assert merged["shard"] == "" and one["shard"] == ""
    runs = merged["runs"]
    assert [r["shard"] for r in runs] == ["1/3", "2/3", "3/3"]
    assert all(r["seed"] == 11 and r["machines"] and r["started_at"] for r in runs)
    summary = (tmp_path / "merged" / "summary.md").read_text()
    assert all(f"| 11 | {k}/3 |" in summary for k in (1, 2, 3)), "each part's seed and shard"

    shards = [json.loads(Path(p).read_text()) for p in sorted(parts)]
    operations = [sorted(k for k in s["cells"] if k.startswith("contract/")) for s in shards]
    assert all(operations), "every shard ran some contract operations"
    assert sum(map(len, operations)) == len(contract_examples(one)), "each exactly once"


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "2", "1/2/3"])
def test_bad_shard_is_one_line_and_exit_2(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--shard", text, "--seed", "1", "--report-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--shard" in err and "Traceback" not in err


def test_a_split_run_needs_a_seed() -> None:
    with pytest.raises(ConfigError, match="needs --seed"):
        parse_shard("1/2", None)
    assert parse_shard("1/1", None) == Shard.parse("1/1")
    assert parse_shard(None, None) is WHOLE


def test_machine_shards_do_the_work_of_xdist_workers() -> None:
    """``--shard K/3`` on three machines is ``-n 3`` on one: same seeds, same shares,
    same units; every example count and unit is covered exactly once."""
    units = list(range(20))
    for k in range(3):
        machine, worker = Shard.parse(f"{k + 1}/3"), WHOLE.worker(k, 3)
        assert machine.seed(100) == worker.seed(100) == 100 + k
        assert machine.examples(200) == worker.examples(200)
        assert machine.take(units) == worker.take(units)
    assert sum(Shard.parse(f"{k}/3").examples(200) for k in (1, 2, 3)) == 200
    taken = [u for k in (1, 2, 3) for u in Shard.parse(f"{k}/3").take(units)]
    assert taken == units, "contiguous blocks, in order, each unit once"
    assert WHOLE.seed(7) == 7 and WHOLE.examples(9) == 9 and WHOLE.take(units) == units


def test_workers_inside_shards_never_share_a_seed() -> None:
    """Machines may use different ``-n``: every part still draws its own examples."""
    parts = [Shard.parse("1/2").worker(j, 3) for j in range(3)]
    parts += [Shard.parse("2/2").worker(j, 2) for j in range(2)]
    seeds = [p.seed(0) for p in parts]
    assert len(set(seeds)) == len(seeds)
    assert sum(p.examples(100) for p in parts) == 100


def report(shard: str, seed: int = 5, examples: int = 10, status: str = "pass") -> RunReport:
    rep = RunReport(
        run_id=f"r{shard}",
        reference="memory",
        backends=["memory", "sqlite"],
        suites=["scenarios"],
        seed=seed,
        examples=examples,
        machines=[f"host{shard}"],
        started_at=f"2026-01-01T00:00:0{shard[:1] or 0}Z",
        cells={"scenarios/ledger": {"sqlite": {"status": status, "examples": 3}}},
        shard=shard,
    )
    rep.exit_code = rep.verdict_exit_code()
    return rep


def test_merge_refuses_a_missing_or_repeated_shard() -> None:
    with pytest.raises(ReportError, match=r"missing shard\(s\) 2/3"):
        check_shards([report("1/3"), report("3/3")])
    with pytest.raises(ReportError, match="given twice"):
        check_shards([report("1/2"), report("1/2"), report("2/2")])
    with pytest.raises(ReportError, match="different examples"):
        check_shards([report("1/2"), report("2/2", examples=20)])
    check_shards([report("1/2"), report("2/2"), report("")])


def test_merge_counts_the_examples_of_a_sharded_run_once() -> None:
    merged = merge_reports([report("2/2", status="fail"), report("1/2")])
    assert merged.examples == 10
    assert merged.cells["scenarios/ledger"]["sqlite"] == {
        "status": "fail",
        "examples": 6,
        "steps": 0,
        "seconds": 0.0,
    }
    assert merged.exit_code == 1
    assert [r["shard"] for r in merged.runs] == ["1/2", "2/2"]
    assert merged.started_at == "2026-01-01T00:00:01Z"
    two_runs = merge_reports([report(""), report("", seed=6)])
    assert two_runs.examples == 20, "whole runs of two machines add up"


def test_merge_cli_of_an_incomplete_matrix_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s1.json"
    path.write_text(json.dumps(report("1/2").to_dict()))
    code = main(["report", "merge", str(path), "--out", str(tmp_path / "merged")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "missing shard(s) 2/2" in err


def work(report: dict[str, Any]) -> dict[str, dict[str, tuple[str, int, int]]]:
    """Every cell's status, examples and steps: what a run did, not how long it took."""
    return {
        key: {b: (c["status"], c["examples"], c["steps"]) for b, c in row.items()}
        for key, row in report["cells"].items()
    }


@pytest.mark.slow
def test_two_machines_do_exactly_what_two_workers_do(tmp_path: Path) -> None:
    """``--shard 1/2`` and ``2/2`` merged are ``-n 2`` on one machine: the same seeds and
    shares, so the same cells with the same example and step counts, in the same order."""
    for k in (1, 2):
        assert main([*SMALL_RUN, "--shard", f"{k}/2", "--report-dir", str(tmp_path / f"s{k}")]) == 0
    parts = [str(tmp_path / f"s{k}" / "parity.json") for k in (1, 2)]
    assert main(["report", "merge", *parts, "--out", str(tmp_path / "merged")]) == 0
    assert main([*SMALL_RUN, "-n", "2", "--report-dir", str(tmp_path / "n2")]) == 0
    merged = json.loads((tmp_path / "merged" / "parity.json").read_text())
    workers = json.loads((tmp_path / "n2" / "parity.json").read_text())
    assert work(merged) == work(workers)
    assert list(merged["cells"]) == list(workers["cells"])
    assert merged["verdict"] == workers["verdict"] and merged["examples"] == workers["examples"]


@pytest.mark.slow
def test_xdist_workers_inside_a_shard_write_that_shard(tmp_path: Path) -> None:
    """``-n 2 --shard 1/2``: two workers split machine 1's part; its report is shard 1/2
    (both workers listed) and merges with machine 2's part into a whole run."""
    first, second = tmp_path / "s1", tmp_path / "s2"
    assert main([*SMALL_RUN, "-n", "2", "--shard", "1/2", "--report-dir", str(first)]) == 0
    assert main([*SMALL_RUN, "--shard", "2/2", "--report-dir", str(second)]) == 0
    part = json.loads((first / "parity.json").read_text())
    assert part["shard"] == "1/2" and part["examples"] == 4
    assert sorted(r["shard"] for r in part["runs"]) == ["1/2", "1/2"]
    merged = tmp_path / "merged"
    parts = [str(first / "parity.json"), str(second / "parity.json")]
    assert main(["report", "merge", *parts, "--out", str(merged)]) == 0
    whole = json.loads((merged / "parity.json").read_text())
    assert whole["shard"] == "" and whole["examples"] == 4
    assert whole["cells"]["scenarios/ledger"]["sqlite"]["examples"] >= 4
    assert len(whole["runs"]) == 3


def test_the_workflow_example_covers_every_shard_and_merges_them() -> None:
    """The matrix lists shards 1..N for the N its command names, every shard reports
    under a name the merge job collects, and the merge job waits for all of them."""
    import yaml

    root = Path(__file__).resolve().parents[2]
    workflow = yaml.safe_load((root / ".github/workflows/parity-sharded.yml").read_text())
    shards = int(workflow["env"]["SHARDS"])
    shard_job, merge_job = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    assert shard_job["strategy"]["matrix"]["shard"] == list(range(1, shards + 1))
    assert shard_job["strategy"]["fail-fast"] is False
    run = next(s["run"] for s in shard_job["steps"] if "parity run" in s.get("run", ""))
    assert "--shard ${{ matrix.shard }}/${{ env.SHARDS }}" in run
    assert "--seed ${{ github.run_id }}" in run, "every shard draws from the same seed"
    upload = next(s for s in shard_job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") in run
    assert merge_job["needs"] == "shard"
    download = next(s for s in merge_job["steps"] if "download-artifact" in s.get("uses", ""))
    prefix = download["with"]["pattern"].rstrip("*")
    assert upload["with"]["name"].startswith(prefix)
    downloaded = f"{download['with']['path'].rstrip('/')}/{upload['with']['name']}"
    assert downloaded == upload["with"]["path"].rstrip("/"), "trace paths resolve after download"
    merge = next(s["run"] for s in merge_job["steps"] if "report merge" in s.get("run", ""))
    assert f"{download['with']['path'].rstrip('/')}/{prefix}*/parity.json" in merge
