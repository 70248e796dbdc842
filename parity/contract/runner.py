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

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import get_state_machine_test
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.result import Ok

from parity.binding import AppBinding
from parity.contract.checks import CheckFailure, run_checks
from parity.contract.differential import Execution, Fanout
from parity.contract.schema import Contract, ContractConfigError, operation_id
from parity.diff.options import DiffOptions
from parity.targets.base import Target
from parity.targets.factory import TargetFactory

STATEFUL = "stateful (links)"
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


@dataclass
class OperationResult:
    label: str
    cases: int = 0
    seconds: float = 0.0
    backend_seconds: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # wire lines, for determinism checks
    errors: list[str] = field(default_factory=list)
    #: why nothing could run (e.g. a schema without links): "unsupported", not an error
    unsupported: str = ""

    def failed(self, backend: str) -> list[Finding]:
        return [f for f in self.findings if f.backend == backend]

    def add(self, finding: Finding) -> None:
        """Keep one finding per (backend, check): the first, i.e. the simplest seen."""
        if not any(
            f.backend == finding.backend and f.check == finding.check for f in self.findings
        ):
            self.findings.append(finding)


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
        #: the reference backend's auth headers per role, in the current namespace
        self._auth: dict[str, dict[str, str]] = {}
        self._install_auth()

    def _install_auth(self) -> None:
        """Bearer tokens through schemathesis's own auth mechanism (schema-local), so
        generated cases carry them *before* their metadata is computed: a negative case
        is then judged on what it really sends, as the CLI judges it."""
        runner = self

        class ParityAuth:
            def get(self, case: Case, ctx: Any) -> dict[str, str]:
                return runner.auth_for(case)

            def set(self, case: Case, data: dict[str, str], ctx: Any) -> None:
                headers = CaseInsensitiveDict(case.headers or {})
                headers.update(data)
                case.headers = headers

        self.contract.schema.auth(refresh_interval=None)(ParityAuth)

    def role_for(self, case: Case) -> str:
        return ADMIN if operation_id(case.operation) in self.contract.admin_operations else USER

    def auth_for(self, case: Case) -> dict[str, str]:
        return self._auth.get(self.role_for(case), {})

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
        ``auth_headers`` hook per role; (fanout, the reference's headers per role)."""
        slug = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")[:24]
        namespace = f"{self.namespace_prefix}_{slug}_{next(self._ns)}"
        targets: dict[str, Target] = {n: f.new_target(namespace) for n, f in self.factories.items()}
        fanout = Fanout(targets, self.reference, self.executor, self.options)
        roles = [USER, ADMIN] if self.contract.admin_operations else [USER]
        for name, target in targets.items():
            normalizer = fanout.normalizers[name]

            def call(
                method: str,
                path: str,
                json: Any = None,
                headers: dict[str, str] | None = None,
                _target: Target = target,
                _normalizer: Any = normalizer,
            ) -> Any:
                response = _target.request(method, path, headers, json)
                _normalizer.response(response)  # ids and tokens it mints map per backend
                return response

            store = self.factories[name].store_of(target)
            try:
                fanout.auth[name] = {r: self.binding.auth_headers(call, store, r) for r in roles}
            except Exception:
                self.release(fanout)
                raise
        return fanout, fanout.auth[self.reference]

    def release(self, fanout: Fanout) -> None:
        fanout.close()
        for name, target in fanout.targets.items():
            self.factories[name].release(target)

    # one case ---------------------------------------------------------------------------

    def handle(
        self, result: OperationResult, fanout: Fanout, case: Case, recorder: Any = None
    ) -> Execution | None:
        headers: dict[str, str] = {}  # auth is already in the case (ParityAuth)
        try:
            execution = fanout.execute(case, headers)
        except Exception as exc:  # the harness or a backend broke: an error, not a verdict
            result.errors.append(f"{case.operation.label}: {type(exc).__name__}: {exc}")
            return None
        result.cases += 1
        result.requests.append(f"{execution.wire.line()} {execution.wire.body!r}")
        curl = self._curl(case, headers)
        for backend, text in execution.rendered.items():
            result.add(Finding(backend, "divergence", text, execution.wire.line(), curl))
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
                result.add(Finding(backend, failure.check, message, execution.wire.line(), curl))
        return execution

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
            phases=[Phase.explicit, Phase.generate],
            verbosity=Verbosity.quiet,
            print_blob=False,
        )

    def _seed(self, *parts: str) -> int:
        return (self.seed + zlib.crc32("|".join(parts).encode())) % (2**32)

    def run_operation(self, operation: Any) -> OperationResult:
        """``examples`` cases for one operation: half positive, half negative."""
        result = OperationResult(operation.label)
        started = time.perf_counter()
        fanout, auth = self.new_fanout(operation.label)
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
        self._auth = auth
        strategy = operation.as_strategy(
            generation_mode=mode, auth_storage=self.contract.schema.auth
        )

        @self._settings(count)
        @seed(self._seed(operation.label, mode.value))
        @given(strategy)
        def cases(case: Case) -> None:
            self.handle(result, fanout, case)

        try:
            cases()
        except Unsatisfiable:
            return  # e.g. no negative case exists for an operation without inputs
        except Exception as exc:  # generation itself failed
            result.errors.append(f"{operation.label} {mode.value}: {type(exc).__name__}: {exc}")

    # stateful ---------------------------------------------------------------------------

    def run_stateful(self, scenarios: int, steps: int = 10) -> OperationResult:
        """Link-based scenarios (the schema's state machine); each example is a fresh
        namespace, every step goes to every backend."""
        result = OperationResult(STATEFUL)
        started = time.perf_counter()
        runner = self
        base: Any = self.contract.schema.as_state_machine()
        totals: dict[str, float] = {}

        class Machine(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                self._fanout, runner._auth = runner.new_fanout("stateful")
                self._last: Execution | None = None

            def teardown(self) -> None:
                for name, seconds in self._fanout.backend_seconds.items():
                    totals[name] = totals.get(name, 0.0) + seconds
                runner.release(self._fanout)

            def call(self, case: Case, **kwargs: Any) -> Any:
                execution = runner.handle(
                    result, self._fanout, case, getattr(self, "recorder", None)
                )
                if execution is None:
                    raise _Abort(case.operation.label)
                return execution.responses[runner.reference]

            def validate_response(self, response: Any, case: Case, *args: Any, **kw: Any) -> None:
                return None  # checked for every backend in handle()

        config = self._settings(max(1, scenarios))
        config = settings(config, stateful_step_count=steps)
        try:
            seed(self._seed("stateful"))(get_state_machine_test(Machine, settings=config))()
        except _Abort:
            pass
        except NoLinksFound:
            result.unsupported = "the schema defines no OpenAPI links to chain calls by"
        except Exception as exc:
            result.errors.append(f"stateful: {type(exc).__name__}: {str(exc)[:300]}")
        result.backend_seconds = totals
        result.seconds = time.perf_counter() - started
        return result

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class _Abort(Exception):
    """A stateful step could not be executed (already recorded as an error)."""
