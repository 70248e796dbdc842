"""The versioned trace format.

A trace stores requests in *normalised* form (``/v1/cards/<id:3>``), so it is not tied to
one backend's raw ids: a replay denormalises each request with each backend's own
mapping, exactly like the live run did. Each step keeps every backend's normalised and
raw answer, so a reader can see what really came back without re-running anything.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from parity.diff.compare import Difference, compare
from parity.diff.normalize import NormalizedRequest
from parity.diff.options import DiffConfigError, DiffOptions
from parity.diff.render import render_side_by_side

SCHEMA_VERSION = 1
KIND = "parity-trace"


class TraceError(ValueError):
    """A file is not a trace this version of Parity can read (a user error: exit 2)."""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def collect_versions() -> dict[str, str]:
    """Versions that matter for reproducing a run on another machine."""
    import parity

    return {
        "python": platform.python_version(),
        "hypothesis": _version("hypothesis"),
        "schemathesis": _version("schemathesis"),
        "parity": parity.__version__,
    }


@dataclass
class Step:
    index: int
    request: NormalizedRequest
    #: backend -> {"normalized": {...}, "raw": {"status", "headers", "body"}, "elapsed"}
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: backend -> differences from the reference (only backends that differ)
    differences: dict[str, list[Difference]] = field(default_factory=dict)
    #: backend -> rendered side-by-side text (only backends that differ)
    rendered: dict[str, str] = field(default_factory=dict)

    def compare(
        self,
        reference: str,
        backend: str,
        expected: Any,
        actual: Any,
        ignore: tuple[str, ...] = (),
        title: str = "",
    ) -> None:
        """Record where ``backend``'s normalised answer differs from the reference's,
        with the side-by-side text a developer reads (headed ``title``)."""
        differences = compare(expected, actual, ignore=ignore)
        if differences:
            self.differences[backend] = differences
            self.rendered[backend] = render_side_by_side(
                title or f"step {self.index}: {self.request.line()}",
                reference,
                backend,
                expected,
                actual,
                differences,
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "request": self.request.to_dict(),
            "responses": self.responses,
            "differences": {b: [d.to_dict() for d in ds] for b, ds in self.differences.items()},
            "rendered": self.rendered,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(
            index=int(data["index"]),
            request=NormalizedRequest.from_dict(data["request"]),
            responses=dict(data.get("responses") or {}),
            differences={
                b: [Difference.from_dict(d) for d in ds]
                for b, ds in (data.get("differences") or {}).items()
            },
            rendered=dict(data.get("rendered") or {}),
        )


@dataclass
class Trace:
    scenario: str
    reference: str
    backends: list[str]
    seed: int | None = None
    #: the app and configuration it ran with: {"binding": {name, binding}, "config": {…}}
    #: (``parity replay`` refuses a trace of another app)
    app: dict[str, Any] = field(default_factory=dict)
    #: the seed every store got (seeded ids); older traces kept it in ``app_overrides``
    store_seed: int | None = None
    engines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=collect_versions)
    steps: list[Step] = field(default_factory=list)
    created_at: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    #: a contract-suite failure: {"operation", "check" (a schemathesis check name or
    #: "divergence"), "backend", "message", "step", "response" (the failing backend's
    #: normalised answer at that step)}; ``None`` for a scenario trace
    contract: dict[str, Any] | None = None
    #: did a replay of its calls reproduce its divergence when it was saved? ``False``:
    #: it did not (the divergence depends on something its calls do not carry); ``None``:
    #: not checked (a trace a replay cannot re-run, or saved by an older Parity)
    replays: bool | None = None

    @property
    def replay_seed(self) -> int:
        """The seed to build the stores with, so ids come out as they were recorded."""
        for value in (self.store_seed, self.seed):
            if value is not None:
                return int(value)
        return 0

    def diff_options(self) -> DiffOptions | None:
        """The diff options the trace was recorded with (``None`` if it does not say)."""
        table = (self.app.get("config") or {}).get("diff")
        if not isinstance(table, dict):
            return None
        try:
            return DiffOptions.from_table(table, f"trace {self.scenario}: app.config.diff")
        except DiffConfigError as exc:
            raise TraceError(str(exc)) from exc

    @property
    def app_name(self) -> str | None:
        name = (self.app.get("binding") or {}).get("name")
        return str(name) if name else None

    @property
    def divergent_step(self) -> Step | None:
        return next((s for s in self.steps if s.differences), None)

    def divergence_signature(self) -> tuple[int, dict[str, list[str]]] | None:
        """(step index, backend -> differing paths): what "the same divergence" means."""
        step = self.divergent_step
        if step is None:
            return None
        return step.index, {b: [d.path for d in ds] for b, ds in sorted(step.differences.items())}

    def to_dict(self) -> dict[str, Any]:
        step = self.divergent_step
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "reference": self.reference,
            "backends": self.backends,
            "seed": self.seed,
            "store_seed": self.store_seed,
            "app": self.app,
            "engines": self.engines,
            "versions": self.versions,
            "created_at": self.created_at,
            "divergence": None
            if step is None
            else {
                "step": step.index,
                "backends": sorted(step.differences),
                "paths": {b: [d.path for d in ds] for b, ds in step.differences.items()},
            },
            "steps": [s.to_dict() for s in self.steps],
            **({"contract": self.contract} if self.contract else {}),
            **({"replays": self.replays} if self.replays is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise TraceError("not a parity trace (missing kind: parity-trace)")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise TraceError(
                f"trace schema_version {version!r} is not supported (this Parity reads "
                f"{SCHEMA_VERSION})"
            )
        try:
            return cls(
                scenario=str(data["scenario"]),
                reference=str(data["reference"]),
                backends=list(data["backends"]),
                seed=data.get("seed"),
                app=dict(data.get("app") or {}),
                store_seed=data.get("store_seed", (data.get("app_overrides") or {}).get("id_seed")),
                engines=dict(data.get("engines") or {}),
                versions=dict(data.get("versions") or {}),
                steps=[Step.from_dict(s) for s in data.get("steps") or []],
                created_at=str(data.get("created_at", "")),
                contract=dict(data["contract"]) if data.get("contract") else None,
                replays=bool(data["replays"]) if data.get("replays") is not None else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TraceError(f"malformed trace: {exc}") from exc
