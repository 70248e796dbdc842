"""Binding someone else's app: a plain factory, engine isolation, `parity init`, URL mode,
pluggable engines and safe replay — each the way a new user meets it, through the CLI.

The foreign app is tests/harness/data/notes_app.py: sqlite3 with INTEGER PRIMARY KEY ids,
no namespaces, no hooks; ``create_app(database_url)`` is all it offers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from parity import AppBinding, Store
from parity.binding import FactoryBinding, as_binding
from parity.config import ConfigError, load_config
from parity.engines.registry import ENGINES, create_engine
from tests.processes import parity_command

NOTES_APP = Path(__file__).parent / "data" / "notes_app.py"


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        parity_command(*argv), capture_output=True, text=True, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The foreign app bound by `parity init`, once per module: every run of ``init``
    writes the same files, and each is a ~1.5 s CPU subprocess."""
    made_in = tmp_path_factory.mktemp("initialised")
    shutil.copy(NOTES_APP, made_in / "notes_app.py")
    made = run("init", "--app", "notes_app:create_app", "--resource", "/notes", cwd=made_in)
    assert made.returncode == 0, made.stderr
    assert (made_in / "parity_binding.py").exists()
    assert (made_in / "parity_scenarios" / "notes.py").exists()
    return made_in


@pytest.fixture
def project(initialised: Path, tmp_path: Path) -> Path:
    """A fresh project holding only the foreign app, bound by `parity init` (a copy of
    the module's one: tests change the app and the config, never the shared original)."""
    shutil.copytree(initialised, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_init_binds_a_foreign_app_and_parity_run_passes(project: Path) -> None:
    result = run(
        "run", "--backends", "sqlite,memory", "--examples", "15", "--seed", "2", cwd=project
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((project / "reports" / "parity.json").read_text())
    assert report["cells"]["scenarios/notes"]["memory"]["status"] == "pass"
    assert report["cells"]["scenarios/notes"]["memory"]["examples"] >= 15


def test_init_never_overwrites(project: Path) -> None:
    again = run("init", "--app", "notes_app:create_app", cwd=project)
    assert again.returncode == 2
    assert "already has a [tool.parity] section" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_a_real_difference_in_the_foreign_app_is_found_shrunk_and_replayable(
    project: Path,
) -> None:
    # A backend that re-numbers after a delete differently is fine (integer ids map);
    # one that loses the name's case is a divergence.
    app = (project / "notes_app.py").read_text()
    (project / "notes_app.py").write_text(
        app.replace(
            'return {"id": cur.lastrowid, "name": body["name"]}',
            'name = body["name"].lower() if path == ":memory:" else body["name"]\n'
            '        return {"id": cur.lastrowid, "name": name}',
        )
    )
    result = run(
        "run", "--backends", "sqlite,memory", "--examples", "60", "--seed", "1", cwd=project
    )
    assert result.returncode == 1, result.stdout + result.stderr
    traces = sorted((project / "reports" / "failures").glob("*.json"))
    assert traces
    trace = json.loads(traces[0].read_text())
    assert trace["app"]["binding"]["name"] == "notes_app"
    assert len(trace["steps"]) <= 3  # one create shows it
    replayed = run("replay", str(traces[0]), cwd=project)
    assert replayed.returncode == 1
    assert "same divergence as recorded" in replayed.stdout


def test_replay_refuses_a_trace_of_another_app(project: Path, tmp_path_factory: Any) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures/regressions"
    trace = next(fixture.glob("*.json"))  # recorded with the reference app
    refused = run("replay", str(trace), cwd=project)
    assert refused.returncode == 2
    assert "recorded with app 'reference_app'" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_url_backend_without_reset_refuses_stateful_scenarios(project: Path) -> None:
    with (project / "pyproject.toml").open("a") as out:
        out.write('\n[tool.parity.urls]\nstaging = "http://127.0.0.1:9"\n')
    result = run("run", "--backends", "sqlite,staging", "--examples", "2", cwd=project)
    assert result.returncode == 2
    assert "without a reset between examples" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_mistakes_are_one_line(tmp_path: Path) -> None:
    cases = {
        "[tool.parity.urls]\nx = 3\n": "[tool.parity.urls] x must be",
        '[tool.parity.urls]\nx = {url = "http://h", reset = "reset"}\n': "reset",
        '[tool.parity.engines]\nx = "nocolon"\n': "must be 'package.module:EngineClass'",
        '[tool.parity.diff]\nidz = ["integer"]\n': "did you mean 'ids'",
    }
    for text, expected in cases.items():
        path = tmp_path / "pyproject.toml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=None) as caught:
            load_config(path)
        assert expected in str(caught.value), (text, str(caught.value))


def test_no_app_configured_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.parity]\nreference = 'memory'\n")
    result = run("run", "--backends", "memory", "--examples", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert "no app to test" in result.stderr


def test_plain_factories_with_and_without_a_store_argument() -> None:
    store = Store("sqlite", "sqlite", "sqlite:///x.db", "ns", 7)
    seen: list[object] = []
    with_store = as_binding(lambda s: seen.append(s) or "app1")
    without = as_binding(lambda: "app2")
    assert isinstance(with_store, FactoryBinding) and with_store.build_app(store) == "app1"
    assert seen == [store]
    assert without.build_app(store) == "app2"

    class Mine(AppBinding):
        name = "mine"

        def build_app(self, store: Store) -> object:
            return "app3"

    assert as_binding(Mine).build_app(store) == "app3"  # a class is instantiated


def test_engines_isolate_examples_for_apps_that_do_not(tmp_path: Path) -> None:
    engine = create_engine("sqlite")
    engine.start()
    try:
        one, two = engine.isolated("a"), engine.isolated("b")
        assert one.url != two.url and one.namespace == "a"
        Path(one.option("path")).write_text("data")
        engine.discard(one)
        assert not Path(one.option("path")).exists()
    finally:
        engine.stop()


def test_third_party_engines_register_through_config(project: Path) -> None:
    (project / "my_engines.py").write_text(
        "from parity import Engine, EngineInfo, Store\n"
        "class Flat(Engine):\n"
        "    name = 'flat'\n"
        "    kind = 'memory'\n"
        "    in_process = True\n"
        "    def probe(self):\n"
        "        return None\n"
        "    def store(self, namespace=''):\n"
        "        return self._store(namespace, None)\n"
        "    def isolated(self, namespace):\n"
        "        return self.store(namespace)\n"
        "    def info(self):\n"
        "        return EngineInfo(self.name, self.kind, '1.0')\n"
    )
    with (project / "pyproject.toml").open("a") as out:
        out.write('\n[tool.parity.engines]\nflat = "my_engines:Flat"\n')
    listed = run("backends", cwd=project)
    assert "flat" in listed.stdout and "available" in listed.stdout
    result = run("run", "--backends", "sqlite,flat", "--examples", "5", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "flat" not in ENGINES  # registered in the child process only


def test_installed_packages_register_engines_by_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib import metadata

    import parity.engines.registry as registry

    point = metadata.EntryPoint(
        name="plugged", value="parity.engines.embedded:MemoryEngine", group="parity.engines"
    )
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(
        registry.metadata,
        "entry_points",
        lambda group: [point] if group == registry.ENTRY_POINT_GROUP else [],
    )
    monkeypatch.setitem(registry.ENGINES, "memory", registry.ENGINES["memory"])
    try:
        assert registry.engine_class("plugged").__name__ == "MemoryEngine"
        assert "plugged" in registry.known_names()
        with pytest.raises(registry.EngineUnavailable, match="did you mean 'plugged'"):
            registry.engine_class("pluged")
    finally:
        registry.ENGINES.pop("plugged", None)


def test_contract_suite_runs_on_the_apps_own_openapi(project: Path) -> None:
    # no [tool.parity.contract]: the schema is the app's own openapi(), no auth hook
    result = run(
        "run", "--suite", "contract", "--backends", "sqlite,memory", "--examples", "5",
        "--seed", "1", "--no-regressions", cwd=project,
    )  # fmt: skip
    report = json.loads((project / "reports" / "parity.json").read_text())
    operations = [name for name in report["cells"] if name.startswith("contract/")]
    assert "contract/POST /notes" in operations and "contract/GET /notes/{ident}" in operations
    assert result.returncode in (0, 1), result.stderr  # a verdict, never a crash
    assert "Traceback" not in result.stderr
    stateful = report["cells"]["contract/stateful (links)"]["memory"]
    assert stateful["status"] == "unsupported" and "no OpenAPI links" in stateful["reason"]
