"""Load one module mutated, in the child process that runs Parity against it.

``PARITY_MUTANT=package.module:17`` makes the next import of ``package.module`` compile
mutant 17 of its source (under its real file name, so tracebacks point at the line).
The parent never imports the mutated module itself: each mutant gets a fresh process,
so no mutant leaks into another's run.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from parity.mutate.operators import apply

ENV = "PARITY_MUTANT"


class _MutantLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, index: int) -> None:
        super().__init__(fullname, path)
        self.index = index

    def exec_module(self, module: ModuleType) -> None:
        source = Path(self.path).read_text(encoding="utf-8")
        code = compile(apply(source, self.index), self.path, "exec")
        exec(code, module.__dict__)


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, fullname: str, index: int) -> None:
        self.fullname = fullname
        self.index = index

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.fullname:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.origin and spec.origin.endswith(".py"):
                loader = _MutantLoader(fullname, spec.origin, self.index)
                return importlib.util.spec_from_file_location(fullname, spec.origin, loader=loader)
        return None


def parse(value: str) -> tuple[str, int]:
    module, _, index = value.rpartition(":")
    if not module or not index.isdigit():
        raise ValueError(f"{ENV}={value!r}: expected package.module:INDEX")
    return module, int(index)


def install_from_env() -> bool:
    """Install the finder if ``PARITY_MUTANT`` asks for a mutant; True when it did."""
    value = os.environ.get(ENV)
    if not value:
        return False
    module, index = parse(value)
    if module in sys.modules:
        raise RuntimeError(f"{module} was imported before the mutant hook was installed")
    sys.meta_path.insert(0, _MutantFinder(module, index))
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m parity.mutate.hook run ...``: the parity CLI with the mutant loaded."""
    install_from_env()
    from parity.cli import main as parity_main

    return parity_main(list(argv) if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
