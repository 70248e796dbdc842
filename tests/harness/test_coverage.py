"""The coverage table: rules, documented paths and endpoint statuses, per backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from parity.lockstep import LockstepMachine
from parity.lockstep.coverage import endpoint_of, gaps, merge
from parity.lockstep.session import LockstepSession
from parity.report import coverage as rendered
from parity.report.model import RunReport
from parity.run.scenario import hypothesis_run


class CoveredScenario(LockstepMachine):
    scenario = "covered"
    paths = ("big value", "never taken")

    @initialize()
    def first(self) -> None:
        self.create(1)  # a rule calling a rule counts as the outer one

    @rule(value=st.integers(min_value=0, max_value=5))
    def create(self, value: int) -> None:
        self.call("POST", "/items", json={"value": value})
        self.call("GET", "/items/missing")  # two calls, one invocation
        if value >= 4:
            self.reached("big value")

    @precondition(lambda self: False)
    @rule()
    def unreachable(self) -> None:
        self.call("GET", "/items")


def test_a_run_tallies_rules_paths_and_statuses(
    toy_session: Callable[..., LockstepSession],
) -> None:
    session = toy_session()
    assert hypothesis_run(CoveredScenario.bind(session), 30, 5, seed=3) is None
    cov = session.coverage.to_dict()
    examples = session.stats.examples
    assert cov["rules"]["first"] == {"ref": examples, "other": examples}
    creates = cov["rules"]["create"]["ref"]
    assert creates > 0 and cov["rules"]["create"] == {"ref": creates, "other": creates}
    assert cov["rules"]["unreachable"] == {}
    assert cov["paths"]["big value"]["ref"] > 0 and cov["paths"]["never taken"] == {}
    # one POST and one GET per create invocation, plus the initialize rule's pair
    posts = cov["endpoints"]["POST /items"]["ref"]
    assert posts == {"201": creates + examples}
    assert cov["endpoints"]["GET /items/missing"]["other"] == {"404": creates + examples}
    assert gaps(cov, ["ref", "other"]) == [
        "rule 'unreachable' never reached on every backend",
        "path 'never taken' never reached on every backend",
    ]


def test_an_undeclared_path_is_a_typo(toy_session: Callable[..., LockstepSession]) -> None:
    machine = CoveredScenario.bind(toy_session())()
    with pytest.raises(ValueError, match="not one of its paths"):
        machine.reached("big valeu")


def test_endpoints_are_routes_not_ids() -> None:
    assert endpoint_of("post", "/v1/cards/<id:3>/transactions?limit=2") == (
        "POST /v1/cards/{id}/transactions"
    )


def test_shards_add_up_and_the_report_names_a_backend_left_behind() -> None:
    one = {
        "rules": {"r": {"ref": 2, "b": 2}},
        "paths": {},
        "endpoints": {"GET /x": {"ref": {"200": 1}}},
    }
    two = {
        "rules": {"r": {"ref": 1}},
        "paths": {"p": {}},
        "endpoints": {"GET /x": {"ref": {"200": 2, "404": 1}}},
    }
    total = merge(one, two)
    assert total["rules"]["r"] == {"ref": 3, "b": 2}
    assert total["endpoints"]["GET /x"]["ref"] == {"200": 3, "404": 1}
    report = RunReport(
        reference="ref",
        backends=["ref", "b", "c"],
        cells={
            "s/x": {"ref": {"status": "pass"}, "b": {"status": "fail"}, "c": {"status": "pass"}}
        },
        scenarios={"s/x": {"coverage": total}},
    )
    gaps_found = rendered.all_gaps(report)
    assert "s/x: rule 'r' never reached on c" in gaps_found
    assert "s/x: path 'p' never reached on every backend" in gaps_found
    text = "\n".join(rendered.markdown(report))
    assert "## Coverage" in text and "| endpoint | `GET /x` | 200×3, 404×1 | b, c |" in text  # noqa: RUF001
    assert 'id="coverage"' in rendered.html(report)


def test_merged_reports_add_coverage_and_per_backend_seconds() -> None:
    from parity.report.merge import merge_reports

    def part(n: int) -> RunReport:
        return RunReport(
            reference="ref",
            backends=["ref"],
            scenarios={
                "s/x": {
                    "seconds": 1.0,
                    "backend_seconds": {"ref": 0.5},
                    "coverage": {"rules": {"r": {"ref": n}}, "paths": {}, "endpoints": {}},
                }
            },
        )

    merged = merge_reports([part(1), part(2)]).scenarios["s/x"]
    assert merged["coverage"]["rules"]["r"] == {"ref": 3}
    assert merged["backend_seconds"] == {"ref": 1.0}
    assert merged["seconds"] == 2.0
