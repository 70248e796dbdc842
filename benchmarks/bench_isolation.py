"""Per-example isolation cost, for any project: what a fresh, isolated app costs per
Hypothesis example on each engine, and what dropping the example's store costs.

    python benchmarks/bench_isolation.py [--config examples/bookshelf/pyproject.toml]
        [--backends sqlite,postgres@local] [--examples 50]

For each backend: build a target for a new namespace (the engine's store or isolated
store, the binding's build_app or warm rebind), send one request so the app really runs,
release it, and wait for its namespace to be dropped. Prints milliseconds per example
(set-up + one request, and the drop measured apart) — isolation cost, not app speed.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

from parity.config import load_config
from parity.run.backends import provision
from parity.targets.factory import AppTargetFactory


def measure(
    names: list[str], examples: int, config: Path | None = None, path: str = "/"
) -> dict[str, tuple[float, float]]:
    """Per backend: (set-up + one call, drop) in milliseconds per example."""
    warnings.simplefilter("ignore")
    backends = provision(names, load_config(config), 0)
    out: dict[str, tuple[float, float]] = {}
    try:
        for name, factory in backends.factories.items():
            assert isinstance(factory, AppTargetFactory)
            factory.release(factory.new_target("warmup_0"))  # imports, pools, first routes
            setup = drop = 0.0
            for i in range(examples):
                started = time.perf_counter()
                target = factory.new_target(f"bench_{i}")
                target.request("GET", path)
                setup += time.perf_counter() - started
                started = time.perf_counter()
                factory.release(target)
                factory.flush()
                drop += time.perf_counter() - started
            out[name] = (setup / examples * 1000, drop / examples * 1000)
    finally:
        backends.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="a pyproject.toml with [tool.parity]")
    parser.add_argument("--backends", help="default: the project's backends")
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--path", default="/", help="the one request each example sends")
    args = parser.parse_args()
    config = load_config(args.config)
    names = args.backends.split(",") if args.backends else list(config.backends)
    print(f"app {config.app}")
    print(f"{'backend':<24} {'set-up+1 call':>14} {'drop':>10}   per example, {args.examples}")
    for name, (setup, drop) in measure(names, args.examples, args.config, args.path).items():
        print(f"{name:<24} {setup:>11.2f} ms {drop:>7.2f} ms")


if __name__ == "__main__":
    main()
