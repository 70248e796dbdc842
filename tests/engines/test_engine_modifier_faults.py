"""Engine modifier names (``<engine>+<modifier>[=<value>]``): parsed, checked, one line.

No engine starts here: naming mistakes are caught before anything runs.
"""

from __future__ import annotations

import subprocess

import pytest

from parity.engines.base import EngineUnavailable
from parity.engines.modifiers import ModifiedEngine, split
from parity.engines.registry import canonical, check_name, create_engine
from tests.processes import parity_command


def test_a_modified_name_builds_a_modified_engine_with_its_plan() -> None:
    engine = create_engine("dynamodb@moto-server+throttle=20%+stale+latency=40ms")
    assert isinstance(engine, ModifiedEngine)
    assert engine.name == "dynamodb@moto-server+throttle=20%+stale+latency=40ms"
    assert engine.kind == "dynamodb"
    assert (engine.plan.throttle, engine.plan.stale, engine.plan.latency_ms) == (0.2, 0.5, 40)


def test_hostile_expands_to_the_family_settings_and_an_explicit_value_wins() -> None:
    pg = create_engine("postgres@local+hostile")
    assert isinstance(pg, ModifiedEngine)
    assert pg.plan.postgres == {"timezone": "Pacific/Chatham"}
    mysql = create_engine("mysql@local+collation=utf8mb4_bin+hostile")
    assert isinstance(mysql, ModifiedEngine)
    assert mysql.plan.mysql["collation_server"] == "utf8mb4_bin"
    assert "ANSI_QUOTES" in mysql.plan.mysql["sql_mode"]
    sqlite = create_engine("sqlite+hostile")
    assert isinstance(sqlite, ModifiedEngine)
    assert sqlite.plan.sqlite_journal == "wal"


def test_aliases_resolve_under_modifiers() -> None:
    assert canonical("postgres+tz=UTC") == "postgres@local+tz=UTC"
    assert split("postgres@local+tz=UTC+hostile") == ("postgres@local", ["tz=UTC", "hostile"])


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("dynamodb@moto-server+throtle", "did you mean '+throttle'?"),
        ("postgres@local+serialisation-failures", "did you mean '+serialization-failures'?"),
        ("postgress@local+tz", "did you mean 'postgres@local'?"),
        ("sqlite+throttle", "works on dynamodb engines, not on a sqlite store"),
        ("postgres@url+tz=UTC", "needs one Parity starts itself"),
        ("postgres@local+tz=Mars/Olympus", "not an IANA time zone"),
        ("dynamodb@moto-server+throttle=1.5", "at most 1"),
        ("dynamodb@moto-server+latency=fast", "not a duration"),
        ("dynamodb@moto-server+stale+stale=0.2", "more than once"),
        ("sqlite+journal=truncate", "only 'wal'"),
        ("postgres@local+hostile=yes", "takes no value"),
    ],
)
def test_mistakes_are_one_line_with_a_hint(name: str, says: str) -> None:
    with pytest.raises(EngineUnavailable) as caught:
        check_name(name)
    assert says in caught.value.reason
    assert "\n" not in str(caught.value)


def test_the_cli_refuses_an_unknown_modifier_with_one_line_and_exit_2() -> None:
    result = subprocess.run(
        parity_command("run", "--backends", "memory,sqlite+jurnal"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "did you mean '+journal'?" in lines[0]
