"""``python -m reference_app``: flags, environment, clear errors (exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reference_app.__main__ import settings_from_args


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_flags_and_environment_build_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFERENCE_APP_BACKEND", "sqlite")
    monkeypatch.setenv("REFERENCE_APP_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("REFERENCE_APP_ADMIN_TOKEN", "adm")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    settings, _ = settings_from_args(["--port", "9001"])
    assert (settings.backend, settings.database_url, settings.port) == (
        "sqlite",
        "sqlite:///from-env.db",
        9001,
    )
    assert settings.admin_token == "adm" and settings.endpoint_url == "http://127.0.0.1:4566"
    assert settings.relay_interval_seconds == 1.0 and not settings.parity_mode
    flag_wins, _ = settings_from_args(["--backend", "memory", "--relay-interval", "0"])
    assert flag_wins.backend == "memory" and flag_wins.relay_interval_seconds == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "oracle"], "invalid choice"),
        (["--port", "eighty"], "invalid int"),
        (["--parity-mode", "--host", "0.0.0.0"], "loopback only"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_environment_value_is_exit_2() -> None:
    import os

    result = _run(env={**os.environ, "REFERENCE_APP_IDEMPOTENCY_TTL_SECONDS": "soon"})
    assert result.returncode != 0 and "not a valid int" in result.stderr
    assert "Traceback" not in result.stderr
