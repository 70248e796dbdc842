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
