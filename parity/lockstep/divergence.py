"""The failure a lockstep step raises when a backend answers differently."""

from __future__ import annotations

from parity.trace.model import Step


class Divergence(AssertionError):
    """A backend disagreed with the reference. The message is the side-by-side diff.

    Subclasses ``AssertionError`` so plain pytest and Hypothesis treat it as a test
    failure (and shrink it), never as an error in the harness.
    """

    def __init__(self, step: Step, reference: str) -> None:
        self.step = step
        self.reference = reference
        self.backends = sorted(step.differences)
        header = (
            f"divergence at step {step.index} ({step.request.line()}): "
            f"{', '.join(self.backends)} differ from {reference}"
        )
        body = "\n\n".join(step.rendered[b] for b in self.backends)
        super().__init__(f"{header}\n{body}")


class BackendDown(RuntimeError):
    """A backend answered 503: its store is unreachable. Infrastructure, not parity.

    Deliberately *not* an ``AssertionError``: the runner turns it into exit code 2, and
    nothing about it is reported as a divergence.
    """

    def __init__(self, backend: str, status: int, detail: str) -> None:
        how = f"HTTP {status}: {detail}" if status else detail
        super().__init__(f"{backend} became unavailable mid-run ({how})")
        self.backend = backend
        self.detail = detail


def find_backend_down(error: BaseException | None) -> BackendDown | None:
    """The :class:`BackendDown` in ``error`` (or in an exception group), if any."""
    if isinstance(error, BackendDown):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = find_backend_down(inner)
            if found is not None:
                return found
    return None
