"""``[tool.parity.profiles.NAME]`` and ``parity run --profile NAME``: the profile fills
what the command line leaves unset; mistakes are one line and exit 2."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from parity.cli import apply_profile, build_parser, main
from parity.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.parity]\n" + body)
    return path


def test_the_repository_ci_profile_runs_every_scenario_on_four_engines_at_200() -> None:
    ci = load_config(ROOT / "pyproject.toml").profile("ci")
    assert ci.backends == ("memory", "sqlite", "postgres@local", "dynamodb@moto-server")
    assert ci.suite == "scenarios"
    assert ci.examples is not None and ci.examples >= 200


def test_flags_win_over_the_profile_and_the_profile_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARITY_PROFILE", raising=False)
    config = load_config(
        _write(
            tmp_path,
            '[tool.parity.profiles.deep]\nbackends = ["memory", "sqlite"]\n'
            'suite = "all"\nexamples = 300\nsteps = 12\nscenarios = ["ledger"]\n'
            "shrink_examples = 40\n",
        )
    )
    args = build_parser().parse_args(["run", "--profile", "deep", "--examples", "7"])
    apply_profile(args, config)
    got = (args.backends, args.suite, args.examples, args.steps, args.scenarios)
    assert got == ("memory,sqlite", "all", 7, 12, "ledger")
    assert args.shrink_examples == 40
    plain = build_parser().parse_args(["run"])
    apply_profile(plain, config)
    assert (plain.backends, plain.suite, plain.examples) == (None, "scenarios", None)


def test_the_profile_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARITY_PROFILE", "ci")
    args = build_parser().parse_args(["run"])
    apply_profile(args, load_config(ROOT / "pyproject.toml"))
    assert args.examples == 200 and "dynamodb@moto-server" in args.backends


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.parity.profiles.x]\nexamples = 0\n", "examples must be a positive integer"),
        ("[tool.parity.profiles.x]\nsuite = 'most'\n", "suite must be one of"),
        ("[tool.parity.profiles.x]\nbackends = 'memory'\n", "backends must be a list"),
        ("[tool.parity.profiles.x]\nworkers = 3\n", "unknown keys in profile 'x': workers"),
        ("[tool.parity.profiles]\nx = 1\n", "must be a table"),
        ("[tool.parity.profiles.x]\nshrink_examples = 0\n", "shrink_examples must be a pos"),
        ("shrink_examples = 'few'\n", r"\[tool.parity\] shrink_examples must be a positive"),
        ("examples = -1\n", r"\[tool.parity\] examples must be a positive integer"),
        ("scenario_max_examples = 3\n", "scenario_max_examples must be a table"),
        ("[tool.parity.profiles.x]\nscenario_max_examples = { volume = 0 }\n", "volume must be"),
    ],
)
def test_a_bad_profile_is_a_config_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, body))


def test_an_unknown_profile_exits_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "nightly-typo"]) == 2
    err = capsys.readouterr().err.strip()
    known = "aws, ci, migration, nightly"
    assert err == f"parity: error: unknown profile 'nightly-typo' (known: {known})"


def test_scenario_max_examples_caps_one_scenario_and_leaves_the_others(tmp_path: Path) -> None:
    """The cap comes from the profile (over ``[tool.parity]``'s) and shows in the report:
    the capped scenario ran its own count, the other the run's."""
    from parity.run.orchestrator import RunOptions, execute

    config = load_config(
        _write(
            tmp_path,
            'app = "scenarios.binding:binding"\nscenarios = "scenarios"\n'
            "scenario_max_examples = { authz = 9 }\n"
            "[tool.parity.profiles.quick]\nscenario_max_examples = { ledger = 2 }\n",
        )
    )
    args = build_parser().parse_args(["run", "--profile", "quick"])
    apply_profile(args, config)
    assert args.scenario_max_examples == {"authz": 9, "ledger": 2}
    options = RunOptions(
        backends=["memory"],
        scenarios=["ledger", "identity"],
        examples=12,
        steps=4,
        seed=1,
        regressions=False,
        write_files=False,
        terminal=False,
        scenario_max_examples=args.scenario_max_examples,
    )
    outcome = execute(options, replace(config, root=ROOT))
    examples = {k: v["examples"] for k, v in outcome.report.scenarios.items()}
    assert examples["scenarios/ledger"] <= 3, examples  # 2, and Hypothesis's own extra
    assert examples["scenarios/identity"] >= 12, examples


def test_a_cap_on_an_unknown_scenario_exits_2_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(
        tmp_path, 'app = "scenarios.binding:binding"\nscenario_max_examples = { volum = 5 }\n'
    )
    assert main(["--config", str(path), "run", "--backends", "memory"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("parity: error: scenario_max_examples: unknown scenario(s) volum;")
    assert "did you mean 'volume'" in err and "\n" not in err
