"""``parity run --suite contract``: the contract on every backend, through the run's
event stream (so JSON, JUnit, HTML and Markdown show it like any other suite).

One "scenario" per operation (``contract/GET /v1/cards``) plus ``stateful (links)``;
one cell per backend. A failed schemathesis check is a :class:`ContractFailure` (check
name, curl, re-run command, saved trace); a backend answering differently from the
reference is a :class:`DivergenceFound`, exactly like a lockstep divergence: both carry
the shrunk case's trace, saved under ``<report dir>/failures/``.
"""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path
from typing import Any

from parity.contract.runner import STATEFUL, ContractRunner, Finding, OperationResult
from parity.contract.schema import (
    FROM_APP,
    Contract,
    ContractConfigError,
    app_schema,
    contract_sources,
    load_contract,
)
from parity.report.events import (
    CellResult,
    ContractFailure,
    DivergenceFound,
    ScenarioFinished,
    ScenarioStarted,
)
from parity.run.backends import InfraError, app_record
from parity.trace.model import Trace
from parity.trace.store import save_failure

SUITE = "contract"


def replay_command(ctx: Any, operation: str) -> str:
    """Re-run one operation alone, with the same cases (deterministic for the seed)."""
    return (
        f"python -m parity.contract --backends {','.join(ctx.backends.names)} "
        f"--seed {ctx.seed} --examples {ctx.examples} --operation {shlex.quote(operation)}"
    )


def stateful_scenarios(examples: int) -> int:
    return max(2, examples // 10)


def contract_for(config: Any, backends: Any, namespace: str) -> Contract:
    """The run's contract (``[tool.parity.contract]``); :class:`InfraError` if not."""
    try:
        schema, settings = contract_sources(dict(config.contract), config.root)
        if schema == FROM_APP:
            factory = backends.factories[backends.reference]
            target = factory.new_target(namespace)
            try:
                document = app_schema(getattr(target, "app", None))
            finally:
                factory.release(target)
            return load_contract(document, settings)
        return load_contract(Path(schema), settings)
    except ContractConfigError as exc:
        raise InfraError(str(exc)) from exc


def run(ctx: Any) -> None:
    contract = contract_for(ctx.config, ctx.backends, f"c{ctx.run_id[:6]}_{ctx.worker}_schema")
    binding = ctx.backends.binding
    if binding is None:
        raise InfraError("the contract suite needs an app binding ([tool.parity] app)")
    runner = ContractRunner(
        contract,
        ctx.backends.factories,
        ctx.reference,
        binding=binding,
        examples=ctx.examples,
        options=ctx.config.diff,
        seed=ctx.seed,
        namespace_prefix=f"c{ctx.run_id[:6]}_{ctx.worker}",
        trace_template=Trace(
            scenario="",
            reference=ctx.reference,
            backends=list(ctx.backends.names),
            seed=ctx.seed,
            store_seed=ctx.seed,
            app=app_record(ctx.backends, ctx.config),
            engines={n: dict(v) for n, v in (ctx.backends.info or {}).items()},
        ),
    )
    try:
        # Each operation is seeded by its own name, so a shard's block of them (and of
        # the stateful run, the last unit) answers as in a one-machine run.
        for operation in ctx.shard.take([*runner.operations(), STATEFUL]):
            if ctx.skipped(SUITE, operation if operation == STATEFUL else operation.label):
                continue
            if operation == STATEFUL:
                ctx.emit(ScenarioStarted(SUITE, STATEFUL, ctx.backends.names))
                steps = min(ctx.steps, 10)
                report(ctx, runner.run_stateful(stateful_scenarios(ctx.examples), steps))
                continue
            ctx.emit(ScenarioStarted(SUITE, operation.label, ctx.backends.names))
            report(ctx, runner.run_operation(operation))
    finally:
        runner.close()


def save_traces(ctx: Any, result: OperationResult) -> dict[int, str]:
    """Save every finding's shrunk trace under ``<report dir>/failures/``: id → path."""
    paths: dict[int, str] = {}
    for finding in result.findings:
        if finding.trace is not None:
            name = f"contract-{result.label}--{finding.backend}--{finding.check}"
            paths[id(finding)] = str(save_failure(finding.trace, ctx.report_dir, name))
    return paths


def report(ctx: Any, result: OperationResult) -> None:
    rerun = replay_command(ctx, result.label)
    paths = save_traces(ctx, result)
    cells: dict[str, CellResult] = {}
    for finding in result.findings:
        path = paths.get(id(finding))
        if finding.check == "divergence":
            ctx.emit(_divergence(ctx, result.label, finding, rerun, path))
        else:
            ctx.emit(
                ContractFailure(
                    operation=result.label,
                    backend=finding.backend,
                    check=finding.check,
                    message=finding.message,
                    curl=finding.curl,
                    replay=rerun,
                    trace=path,
                )
            )
    examples = result.examples or result.cases  # stateful: chains; else cases
    for backend in ctx.backends.names:
        mine = result.failed(backend)
        seconds = result.backend_seconds.get(backend, 0.0)
        if result.unsupported:
            cell = CellResult("unsupported", result.unsupported, 0, 0, seconds)
        elif result.errors:
            cell = CellResult("error", result.errors[0][:300], examples, result.cases, seconds)
        elif mine:
            why = ", ".join(sorted({f.check for f in mine}))
            div = next((_div_id(result.label, f) for f in mine if f.check == "divergence"), None)
            cell = CellResult("fail", why, examples, result.cases, seconds, div)
        else:
            cell = CellResult("pass", "", examples, result.cases, seconds)
        cells[backend] = cell
    ctx.emit(
        ScenarioFinished(
            SUITE,
            result.label,
            cells,
            result.seconds,
            examples,
            result.cases,
            {
                "backend_seconds": {b: round(s, 4) for b, s in result.backend_seconds.items()},
                "coverage": result.coverage(),
            },
        )
    )


def _div_id(label: str, finding: Finding) -> str:
    text = f"{label}|{finding.backend}|{finding.request}"
    return f"div-contract-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def _divergence(
    ctx: Any, label: str, finding: Finding, rerun: str, path: str | None
) -> DivergenceFound:
    trace = finding.trace
    step = trace.divergent_step if trace is not None else None
    if trace is not None and step is not None and path is not None:
        return DivergenceFound(
            id=_div_id(label, finding),
            suite=SUITE,
            scenario=label,
            backends=[finding.backend],
            step=step.index,
            steps=len(trace.steps),
            request=step.request.line(),
            diff=step.rendered.get(finding.backend, finding.message),
            trace_path=path,
            replay=ctx.replay_command(Path(path), trace.backends),
            paths={finding.backend: [d.path for d in step.differences.get(finding.backend, [])]},
        )
    return DivergenceFound(
        id=_div_id(label, finding),
        suite=SUITE,
        scenario=label,
        backends=[finding.backend],
        step=0,
        steps=1,
        request=finding.request,
        diff=finding.message + (f"\n\nreproduce: {finding.curl}" if finding.curl else ""),
        trace_path=None,
        replay=rerun,
    )
