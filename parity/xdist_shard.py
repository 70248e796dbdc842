"""The pytest item behind ``parity run -n N`` (collected by path, parametrised by the
plugin's ``parity_shard``): run one shard, write its partial report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parity.config import load_config
from parity.pytest_plugin import worker_id
from parity.run.backends import InfraError
from parity.run.orchestrator import RunOptions, execute
from parity.run.shard import Shard
from parity.xdist import WORKERS_DIR


def test_parity_shard(parity_shard: int, request: pytest.FixtureRequest) -> None:
    spec = json.loads(request.config.getoption("--parity-shard-spec"))
    report_dir = Path(spec["report_dir"])
    workers = report_dir / WORKERS_DIR
    config = load_config(Path(spec["config"]) if spec["config"] else None)
    index, count = spec.get("machine_shard", [0, 1])
    machine = Shard(((index, count),))
    options = RunOptions(
        backends=spec["backends"],
        suite=spec["suite"],
        examples=spec["examples"],
        steps=spec["steps"],
        shrink_examples=spec["shrink_examples"],
        scenario_max_examples=spec["scenario_max_examples"],
        seed=spec["seed"],
        report_dir=report_dir,
        transport=spec["transport"],
        regressions=spec["regressions"],
        worker=worker_id(),
        shard=machine.worker(parity_shard, spec["shards"]),
        run_id=spec["run_id"],
        write_files=False,
        terminal=False,
        scenarios=spec["scenarios"],
    )
    try:
        outcome = execute(options, config)
    except InfraError as exc:
        (workers / f"shard-{parity_shard}.error").write_text(str(exc))
        raise
    path = workers / f"shard-{parity_shard}.json"
    path.write_text(json.dumps(outcome.report.to_dict()))
