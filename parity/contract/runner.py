"""The contract run: every operation's generated cases, then link-based stateful
scenarios, each executed on every backend (generated once) and checked on every backend.

Why our own loop rather than schemathesis's engine: the engine talks to one server; here
one case must reach N backends and be diffed, and every backend's answer must face the
same checks. Generation is still schemathesis's (``operation.as_strategy``, the schema's
state machine), seeded per operation so a run is deterministic for a seed, and an
operation can be re-run alone with the same cases (namespaces are per operation).
"""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.errors import Flaky, Unsatisfiable
from hypothesis.stateful import Bundle, get_state_machine_test, precondition, rule
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput

from parity.binding import AppBinding, BindingError
from parity.contract.checks import CheckFailure, run_checks
from parity.contract.differential import Execution, Fanout
from parity.contract.schema import Contract, ContractConfigError, operation_id
from parity.contract.seeding import moved, seeded_ids, seeded_parameters, with_seeded_ids
from parity.contract.traces import (
    SetupRecorder,
    failure_trace,
    record_case,
    shorten_chain,
    with_failure_of,
)
from parity.diff.options import DiffOptions
from parity.targets.base import Target
from parity.targets.factory import TargetFactory
from parity.trace.model import Step, Trace

STATEFUL = "stateful (links)"
#: the bundle schemathesis's state machine sends every step's output to (it then files
#: the output under the link bundle its status matches)
CATCH_ALL = "catch_all"
#: how many executions (stateless cases, stateful chains) shrinking may spend per
#: (operation, mode) after the first failure; later candidates are skipped (rejected)
SHRINK_BUDGET = 150
#: roles the binding's ``auth_headers`` is asked for
USER, ADMIN = "user", "admin"


@dataclass
class Finding:
    """The first failure of one kind on one backend for one operation."""

    backend: str
    check: str  # a schemathesis check name, or "divergence"
    message: str
    request: str
    curl: str = ""
    #: the shrunk failing case as a trace (auth set-up calls, then the case or the
    #: stateful chain); ``None`` when the minimal case did not fail again in a fresh
    #: namespace (a failure that depends on earlier cases' data)
    trace: Trace | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.backend, self.check


class SetupDiverged(Exception):
    """A backend's set-up went otherwise than the reference's: a set-up call
    (``auth_headers``, ``seed_contract``) answered differently there, or the hooks raised
    :class:`~parity.binding.BindingError` there and not on the reference. A finding on
    that backend (the set-up calls as its trace), not a broken run; no case can run on
    state that differs from the start."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


@dataclass
class OperationResult:
    label: str
    cases: int = 0
    seconds: float = 0.0
    backend_seconds: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    #: what the report counts as examples: generated cases, or stateful chains
    examples: int = 0
    #: stateful only: rule -> backend -> steps ("POST /v1/users -> [201] GetMe -> GET
    #: /v1/users/me" for a followed link, "RANDOM -> …" / "SEEDED -> …" for a chain's
    #: start), the coverage table's rule rows
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # wire lines, for determinism checks
    errors: list[str] = field(default_factory=list)
    #: operation label -> backend -> status -> how many generated cases answered it (the
    #: report's coverage table: did the cases get past "not found"?)
    endpoints: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    #: why nothing could run (e.g. a schema without links): "unsupported", not an error
    unsupported: str = ""

    def failed(self, backend: str) -> list[Finding]:
        return [f for f in self.findings if f.backend == backend]

    def has(self, key: tuple[str, str]) -> bool:
        return any(f.key == key for f in self.findings)

    def tally(self, execution: Execution, rule: str | None = None) -> None:
        """Count the status every backend answered ``execution`` with (and, in a
        stateful chain, the rule that made the step)."""
        row = self.endpoints.setdefault(execution.case.operation.label, {})
        for backend, answer in execution.raw.items():
            statuses = row.setdefault(backend, {})
            status = str(answer.status)
            statuses[status] = statuses.get(status, 0) + 1
            if rule is not None:
                steps = self.rules.setdefault(rule, {})
                steps[backend] = steps.get(backend, 0) + 1

    @property
    def link_steps(self) -> int:
        """Stateful steps that followed a link with its data (on the reference)."""
        return sum(
            max(row.values(), default=0)
            for name, row in self.rules.items()
            if not name.startswith(("RANDOM ", "SEEDED "))
        )

    def coverage(self) -> dict[str, Any]:
        """The tallies in the shape of a lockstep scenario's coverage (no documented
        paths: an operation has none; rules only for the stateful chains), so one table
        renders both."""
        return {"rules": self.rules, "paths": {}, "endpoints": self.endpoints}

    def add(self, finding: Finding) -> None:
        """Keep one finding per (backend, check): the first recorded, i.e. the one of
        Hypothesis's final (shrunk) run when there is one."""
        if not self.has(finding.key):
            self.findings.append(finding)


class CaseFailed(AssertionError):
    """Raised inside a Hypothesis test when a case fails, so Hypothesis shrinks it. One
    subclass per (backend, check): each is its own bug, shrunk on its own."""

    key: tuple[str, str] = ("", "")


_FAILURE_TYPES: dict[tuple[str, str], type[CaseFailed]] = {}


def failure_type(key: tuple[str, str]) -> type[CaseFailed]:
    found = _FAILURE_TYPES.get(key)
    if found is None:
        name = "".join(c if c.isalnum() else "_" for c in f"{key[0]}_{key[1]}")
        found = type(f"CaseFailed_{name}", (CaseFailed,), {"key": key})
        _FAILURE_TYPES[key] = found
    return found


def _only_case_failures(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_case_failures(e) for e in exc.exceptions)
    return isinstance(exc, CaseFailed)


def _failures_only(exc: BaseException, seen: Mapping[tuple[str, str], Finding]) -> bool:
    """Did Hypothesis end only because cases failed? Also when it could not replay a
    failure (``Flaky``: answers that depend on the namespace): still a failure, reported
    with the shortest failing case seen, never an error."""
    return _only_case_failures(exc) or (isinstance(exc, Flaky) and bool(seen))


def _is_final() -> bool:
    try:
        return bool(current_build_context().is_final)
    except Exception:  # outside a Hypothesis test
        return False


class ContractRunner:
    def __init__(
        self,
        contract: Contract,
        factories: Mapping[str, TargetFactory],
        reference: str,
        *,
        binding: AppBinding,
        examples: int,
        options: DiffOptions | None = None,
        seed: int,
        namespace_prefix: str = "contract",
        curl_base_url: str = "http://127.0.0.1:8000",
        trace_template: Trace | None = None,
    ) -> None:
        self.contract = contract
        self.factories = dict(factories)
        self.reference = reference
        self.binding = binding
        self.options = options
        self.examples = examples
        self.seed = seed
        self.namespace_prefix = namespace_prefix
        self.curl_base_url = curl_base_url
        self.executor = ThreadPoolExecutor(max_workers=max(2, len(self.factories)))
        self._ns = itertools.count(1)
        #: the namespace cases are generated for now (its reference auth headers per
        #: role, the tokens its reference minted)
        self._current: Fanout | None = None
        self._operations: list[Any] | None = None
        #: run metadata every failure trace copies (app, engines, seeds)
        self.trace_template = trace_template or Trace(
            scenario="",
            reference=reference,
            backends=list(self.factories),
            seed=seed,
            store_seed=seed,
            app={"binding": binding.describe(), "config": {}},
        )
        self._install_auth()

    def _install_auth(self) -> None:
        """Bearer tokens through schemathesis's own auth mechanism (schema-local), so
        generated cases carry them *before* their metadata is computed: a negative case
        is then judged on what it really sends, as the CLI judges it."""
        runner = self

        class ParityAuth:
            def get(self, case: Case, ctx: Any) -> dict[str, str] | None:
                if runner.acts_as_minted_principal(case):
                    return None  # a link gave it credentials: follow it as that principal
                return runner.auth_for(case)

            def set(self, case: Case, data: dict[str, str], ctx: Any) -> None:
                headers = CaseInsensitiveDict(case.headers or {})
                headers.update(data)
                case.headers = headers

        self.contract.schema.auth(refresh_interval=None)(ParityAuth)

    def role_for(self, case: Case) -> str:
        return ADMIN if operation_id(case.operation) in self.contract.admin_operations else USER

    def generate_in(self, fanout: Fanout | None) -> None:
        """Cases generated from now on are for ``fanout``'s namespace: its credentials."""
        self._current = fanout

    def auth_for(self, case: Case) -> dict[str, str]:
        if self._current is None:
            return {}
        return self._current.auth[self.reference].get(self.role_for(case), {})

    def acts_as_minted_principal(self, case: Case) -> bool:
        """Does ``case`` already carry a bearer token the current namespace minted? Only
        a link puts one there (signUp's ``GetMe`` passes the new user's token): the
        step is then a read *as that user*, and the harness's user must not replace it
        (it would read someone else's resource, or meet a 404 by design). A generated
        credential is never one the server issued."""
        if self._current is None:
            return False
        sent = CaseInsensitiveDict(case.headers or {}).get("Authorization")
        scheme, _, token = str(sent or "").partition(" ")
        return scheme.lower() == "bearer" and token in self._current.minted_tokens()

    # setup ------------------------------------------------------------------------------

    def operations(self) -> list[Any]:
        ops = []
        for result in self.contract.schema.get_all_operations():
            if not isinstance(result, Ok):
                raise ContractConfigError(f"invalid operation in the contract: {result.err()}")
            ops.append(result.ok())
        return sorted(ops, key=lambda op: op.label)

    def new_fanout(self, label: str) -> tuple[Fanout, dict[str, dict[str, str]]]:
        """A fresh namespace on every backend, authenticated by the binding's
        ``auth_headers`` hook per role and filled by its ``seed_contract`` hook (the ids
        it returns on the reference are ``fanout.seeded``); (fanout, the reference's
        headers per role)."""
        slug = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")[:24]
        namespace = f"{self.namespace_prefix}_{slug}_{next(self._ns)}"
        targets: dict[str, Target] = {n: f.new_target(namespace) for n, f in self.factories.items()}
        fanout = Fanout(targets, self.reference, self.executor, self.options)
        roles = [USER, ADMIN] if self.contract.admin_operations else [USER]
        failed: dict[str, BindingError] = {}
        setup = SetupRecorder(self.reference)
        for name, target in targets.items():
            normalizer = fanout.normalizers[name]

            def call(
                method: str,
                path: str,
                json: Any = None,
                headers: dict[str, str] | None = None,
                _target: Target = target,
                _normalizer: Any = normalizer,
                _name: str = name,
            ) -> Any:
                response = _target.request(method, path, headers, json)
                # recorded as trace steps; ids and tokens it mints map per backend
                setup.record(_name, _normalizer, (method, path, headers, json), response)
                return response

            store = self.factories[name].store_of(target)
            try:
                fanout.auth[name] = {r: self.binding.auth_headers(call, store, r) for r in roles}
                ids = seeded_ids(self.binding.seed_contract(call, store, fanout.auth[name]))
            except BindingError as exc:
                if name == self.reference:  # the binding's own set-up is broken
                    self.release(fanout)
                    raise
                failed[name] = exc
                continue
            except Exception:
                self.release(fanout)
                raise
            if name == self.reference:
                fanout.seeded = ids
        steps = setup.compared(fanout.options.ignore_paths)
        if failed or any(step.differences for step in steps):
            findings = self._setup_findings(label, fanout, setup, steps, failed)
            self.release(fanout)
            raise SetupDiverged(findings)
        fanout.steps.extend(steps)
        return fanout, fanout.auth[self.reference]

    def _setup_findings(
        self,
        label: str,
        fanout: Fanout,
        setup: SetupRecorder,
        steps: list[Step],
        failed: Mapping[str, Exception],
    ) -> list[Finding]:
        """Backends whose set-up went otherwise than the reference's: at the first set-up
        call one answered differently (a divergence: a replay meets it there), or, for a
        backend whose hook raised with no different answer, at its last call (the hook's
        own complaint)."""
        findings: list[Finding] = []
        first = next((step for step in steps if step.differences), None)
        if first is not None:
            for backend in first.differences:
                reason = f": {failed[backend]}" if backend in failed else ""
                message = f"the binding's set-up answered differently on {backend}{reason}"
                findings.append(
                    self._setup_finding(label, fanout, steps[: first.index + 1], backend, message)
                )
        for backend, exc in failed.items():
            if first is None or backend not in first.differences:
                message = f"the binding's set-up failed on {backend}: {exc}"
                cut = steps[: setup.answered(backend)]
                findings.append(self._setup_finding(label, fanout, cut, backend, message))
        return findings

    def _setup_finding(
        self, label: str, fanout: Fanout, steps: list[Step], backend: str, message: str
    ) -> Finding:
        check = "divergence" if steps and backend in steps[-1].differences else "setup"
        finding = Finding(backend, check, message, steps[-1].request.line() if steps else "")
        if steps:
            finding.trace = failure_trace(
                fanout,
                steps,
                operation=label,
                backend=backend,
                check=check,
                message=message,
                template=self.trace_template,
            )
        return finding

    def release(self, fanout: Fanout) -> None:
        fanout.close()
        for name, target in fanout.targets.items():
            self.factories[name].release(target)

    # one case ---------------------------------------------------------------------------

    def handle(
        self, result: OperationResult, fanout: Fanout, case: Case, recorder: Any = None
    ) -> tuple[Execution | None, list[Finding]]:
        """Execute ``case`` on every backend and check every answer: the execution and
        its findings (not yet added to ``result``: the caller decides)."""
        headers: dict[str, str] = {}  # auth is already in the case (ParityAuth)
        try:
            execution = fanout.execute(case, headers)
        except Exception as exc:  # the harness or a backend broke: an error, not a verdict
            result.errors.append(f"{case.operation.label}: {type(exc).__name__}: {exc}")
            return None, []
        record_case(fanout, execution)
        return execution, self.findings(fanout, case, execution, headers, recorder)

    def findings(
        self,
        fanout: Fanout,
        case: Case,
        execution: Execution,
        headers: dict[str, str],
        recorder: Any = None,
    ) -> list[Finding]:
        curl = self._curl(case, headers)
        found: list[Finding] = []
        for backend, text in execution.rendered.items():
            found.append(Finding(backend, "divergence", text, execution.wire.line(), curl))
        for backend, response in execution.responses.items():
            try:
                failures: list[CheckFailure] = run_checks(
                    case, response, fanout.sessions[backend], headers, recorder
                )
            except Exception as exc:  # a check crashed: report it, keep going
                failures = [CheckFailure("check_error", type(exc).__name__, str(exc)[:500])]
            for failure in failures:
                message = f"{failure.title}\n{failure.message}".strip()
                message += f"\n[{response.status_code}] {(response.content or b'')[:300]!r}"
                found.append(Finding(backend, failure.check, message, execution.wire.line(), curl))
        return found

    def with_traces(
        self, label: str, fanout: Fanout, steps: list[Step], findings: list[Finding]
    ) -> list[Finding]:
        """``findings`` of the case ending ``steps``, each with its failure trace."""
        for finding in findings:
            finding.trace = failure_trace(
                fanout,
                steps,
                operation=label,
                backend=finding.backend,
                check=finding.check,
                message=finding.message,
                template=self.trace_template,
            )
        return findings

    def _curl(self, case: Case, headers: dict[str, str]) -> str:
        try:
            return case.as_curl_command(headers=headers, base_url=self.curl_base_url)
        except Exception:
            return ""

    # stateless --------------------------------------------------------------------------

    def _settings(self, examples: int) -> settings:
        return settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            report_multiple_bugs=True,
            verbosity=Verbosity.quiet,
            print_blob=False,
        )

    def _seed(self, *parts: str) -> int:
        return (self.seed + zlib.crc32("|".join(parts).encode())) % (2**32)

    def run_operation(self, operation: Any) -> OperationResult:
        """``examples`` cases for one operation: half positive, half negative."""
        result = OperationResult(operation.label)
        started = time.perf_counter()
        try:
            fanout, auth = self.new_fanout(operation.label)
        except SetupDiverged as diverged:  # no case can run there: that is the finding
            for finding in diverged.findings:
                result.add(finding)
            result.seconds = time.perf_counter() - started
            return result
        try:
            positive = (self.examples + 1) // 2
            for mode, count in (
                (GenerationMode.POSITIVE, positive),
                (GenerationMode.NEGATIVE, self.examples - positive),
            ):
                if count:
                    self._generate(result, fanout, auth, operation, mode, count)
        finally:
            result.backend_seconds = dict(fanout.backend_seconds)
            self.release(fanout)
        result.seconds = time.perf_counter() - started
        return result

    def _generate(
        self,
        result: OperationResult,
        fanout: Fanout,
        auth: dict[str, dict[str, str]],
        operation: Any,
        mode: GenerationMode,
        count: int,
    ) -> None:
        self.generate_in(fanout)
        strategy = with_seeded_ids(
            operation.as_strategy(generation_mode=mode, auth_storage=self.contract.schema.auth),
            operation,
            fanout.seeded,
        )
        #: the first failure of each kind seen while generating: reported as is when
        #: Hypothesis's final run of the shrunk case does not record it
        seen: dict[tuple[str, str], Finding] = {}
        calls = 0

        @self._settings(count)
        @seed(self._seed(operation.label, mode.value))
        @given(strategy)
        def cases(case: Case) -> None:
            nonlocal calls
            calls += 1
            generating = calls <= count  # then Hypothesis only shrinks and replays
            if calls > count + SHRINK_BUDGET and not _is_final():
                reject()  # shrinking has had its budget: skip the candidate
            before = len(fanout.steps)
            execution, found = self.handle(result, fanout, case)
            del fanout.steps[before:]  # a shared namespace: a case's trace is made anew
            if execution is None:
                return
            if generating:
                result.cases += 1
                result.examples += 1
                result.tally(execution)
                result.requests.append(f"{execution.wire.line()} {execution.wire.body!r}")
            new = sorted({f.key for f in found if not result.has(f.key)})
            if not new:
                return
            for finding in found:
                seen.setdefault(finding.key, finding)
            if _is_final():
                fresh = self._fresh_findings(operation.label, case, auth, fanout)
                for finding in fresh or found:
                    result.add(finding)
            raise failure_type(new[0])(f"{new[0][1]} on {new[0][0]}")

        try:
            cases()
        except Unsatisfiable:
            return  # e.g. no negative case exists for an operation without inputs
        except Exception as exc:
            if not _failures_only(exc, seen):  # generation itself failed
                result.errors.append(f"{operation.label} {mode.value}: {type(exc).__name__}: {exc}")
        for finding in seen.values():
            result.add(finding)  # no-op for every kind the final run recorded

    def _fresh_findings(
        self, label: str, case: Case, old_auth: dict[str, dict[str, str]], old: Fanout
    ) -> list[Finding]:
        """The shrunk ``case`` once more in a fresh namespace, recorded as a trace (auth
        and seeding set-up, then the case): its findings with that trace, or [] when it
        passes there (it failed because of earlier cases' data). The case's seeded ids
        are moved to the fresh namespace's (same seeding, same references)."""
        kept = self._current
        try:
            fanout, auth = self.new_fanout(label)
        except SetupDiverged as diverged:
            return diverged.findings
        ref = self.reference
        try:
            self.generate_in(fanout)
            headers = _swap_auth(case.headers or {}, old_auth, auth)
            try:
                with moved(case, old.normalizers[ref], fanout.normalizers[ref]):
                    execution = fanout.execute(case, headers)
            except Exception:
                return []
            record_case(fanout, execution)
            found = self.findings(fanout, case, execution, headers)
            return self.with_traces(label, fanout, fanout.steps, found)
        finally:
            self.generate_in(kept)
            self.release(fanout)

    # stateful ---------------------------------------------------------------------------

    def run_stateful(self, scenarios: int, steps: int = 10) -> OperationResult:
        """Link-based scenarios (the schema's state machine); each example is a fresh
        namespace, every step goes to every backend."""
        result = OperationResult(STATEFUL)
        started = time.perf_counter()
        try:  # a backend the binding cannot set up fails every chain's first step
            self.release(self.new_fanout(STATEFUL)[0])
        except SetupDiverged as diverged:
            for finding in diverged.findings:
                result.add(finding)
            result.seconds = time.perf_counter() - started
            return result
        runner = self
        base: Any = self.contract.schema.as_state_machine()
        totals: dict[str, float] = {}
        seen: dict[tuple[str, str], Finding] = {}
        chains = 0

        class Machine(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                nonlocal chains
                chains += 1
                if seen and chains > scenarios + SHRINK_BUDGET // 5 and not _is_final():
                    reject()  # shrinking has had its budget: skip the candidate
                self._fanout, _ = runner.new_fanout("stateful")
                runner.generate_in(self._fanout)
                self._seeded_ops = runner.seeded_operations(self._fanout)
                self._seeded_start = False

            @precondition(lambda self: bool(self._seeded_ops))
            @rule(target=Bundle(CATCH_ALL), data=st.data())
            def from_seeded_state(self, data: st.DataObject) -> StepOutput:
                """A chain may also start on the state the binding seeded: an operation
                whose path parameters all name seeded objects, drawn like the
                per-operation phase draws them (``seeding.py``), so the links out of
                it (a card's ETag into ``updateCardStatus``, a request into
                ``approveCardRequest``…) start past "not found". Its output goes
                to the link bundles like any root step's."""
                operation = data.draw(st.sampled_from(self._seeded_ops))
                strategy = operation.as_strategy(
                    generation_mode=GenerationMode.POSITIVE, phase=TestPhase.STATEFUL
                )
                case = data.draw(with_seeded_ids(strategy, operation, self._fanout.seeded))
                step = StepInput.initial(case)
                self.recorder.record_case(case=case)
                self.control.record_step(step, self.recorder)
                self._seeded_start = True
                try:
                    output: StepOutput = self.step(step)
                finally:
                    self._seeded_start = False
                return output

            def teardown(self) -> None:
                for name, seconds in self._fanout.backend_seconds.items():
                    totals[name] = totals.get(name, 0.0) + seconds
                runner.release(self._fanout)

            def call(self, case: Case, **kwargs: Any) -> Any:
                fanout = self._fanout
                execution, found = runner.handle(
                    result, fanout, case, getattr(self, "recorder", None)
                )
                if execution is None:
                    raise _Abort(case.operation.label)
                result.cases += 1
                result.tally(execution, self._rule_of(case))
                result.requests.append(f"{execution.wire.line()} {execution.wire.body!r}")
                new = sorted({f.key for f in found if not result.has(f.key)})
                if new:  # fail the step: Hypothesis shrinks the whole chain
                    traced = runner.with_traces(STATEFUL, fanout, fanout.steps, found)
                    for finding in traced:
                        known = seen.get(finding.key)
                        if known is None or _steps(finding) < _steps(known):
                            seen[finding.key] = finding  # the shortest chain so far
                    if _is_final():
                        for finding in traced:
                            result.add(finding)
                    raise failure_type(new[0])(f"{new[0][1]} on {new[0][0]}")
                return execution.responses[runner.reference]

            def validate_response(self, response: Any, case: Case, *args: Any, **kw: Any) -> None:
                return None  # checked for every backend in handle()

            def _rule_of(self, case: Case) -> str:
                """The link whose data ``case`` carries, or how its chain started."""
                node = self.recorder.cases.get(case.id)
                if node is not None and node.transition is not None and node.is_transition_applied:
                    return str(node.transition.id)
                start = "SEEDED" if self._seeded_start else "RANDOM"
                return f"{start} -> {case.operation.label}"

        config = self._settings(max(1, scenarios))
        config = settings(config, stateful_step_count=steps)
        try:
            # schemathesis refuses a machine without links (NoLinksFound); asked of its
            # own machine, since Machine adds a rule of ours (the seeded start)
            base()
            seed(self._seed("stateful"))(get_state_machine_test(Machine, settings=config))()
        except _Abort:
            pass
        except NoLinksFound:
            result.unsupported = "the schema defines no OpenAPI links to chain calls by"
        except Exception as exc:
            if not _failures_only(exc, seen):
                result.errors.append(f"stateful: {type(exc).__name__}: {str(exc)[:300]}")
        for finding in seen.values():
            result.add(finding)  # no-op for every kind the final run recorded
        self._shorten(result.findings)
        result.examples = min(chains, max(1, scenarios))
        result.backend_seconds = totals
        result.seconds = time.perf_counter() - started
        return result

    def _shorten(self, findings: list[Finding]) -> None:
        """Leave out the chain calls each finding's trace does not need (see
        :func:`shorten_chain`); findings of one chain on one backend (a divergence and
        the schema check it broke) are shortened once."""
        done: dict[tuple[str, ...], Trace] = {}
        for finding in findings:
            if finding.trace is None:
                continue
            key = (finding.backend, *(s.request.line() for s in finding.trace.steps))
            if key in done:
                shorter = done[key]
                if shorter.steps is not finding.trace.steps:
                    finding.trace = with_failure_of(shorter, finding.trace)
                continue
            prefix = f"{self.namespace_prefix}_short{next(self._ns)}"
            finding.trace = done[key] = shorten_chain(finding.trace, self.factories, prefix)

    def seeded_operations(self, fanout: Fanout) -> list[Any]:
        """The operations every path parameter of which the seeding has values for in
        ``fanout`` (a chain can start on them past "not found"), by label."""
        if not fanout.seeded:
            return []
        if self._operations is None:
            self._operations = self.operations()
        found = []
        for operation in self._operations:
            wanted = {
                str(p.name)
                for p in operation.iter_parameters()
                if p.location == ParameterLocation.PATH
            }
            seeded = {
                name
                for location, name in seeded_parameters(operation, fanout.seeded)
                if location == ParameterLocation.PATH
            }
            if wanted and wanted <= seeded:
                found.append(operation)
        return found

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class _Abort(Exception):
    """A stateful step could not be executed (already recorded as an error)."""


def _swap_auth(
    sent: Any, old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]
) -> dict[str, str]:
    """Headers that replace the credentials ``sent`` carries (``old``'s, for some role)
    with the same role's in ``new`` (another namespace's)."""
    lowered = {str(k).lower(): v for k, v in dict(sent).items()}
    for role, headers in old.items():
        if headers and all(lowered.get(k.lower()) == v for k, v in headers.items()):
            return dict(new.get(role, {}))
    return {}


def _steps(finding: Finding) -> int:
    return len(finding.trace.steps) if finding.trace is not None else 1 << 30
