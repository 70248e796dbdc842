"""``python -m parity.contract``: re-run the contract suite, or one operation of it,
with a given seed; the replay command every contract failure in a report points to.

Exit codes as ``parity``: 0 pass, 1 failure or divergence, 2 infrastructure or usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from parity.config import ConfigError, load_config
from parity.contract.runner import STATEFUL, ContractRunner
from parity.contract.suite import contract_for, stateful_scenarios
from parity.run.backends import InfraError, parse_backends, provision


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parity.contract", description=__doc__)
    parser.add_argument("--backends", default="memory,sqlite")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument(
        "--operation", help='one operation, e.g. "GET /v1/cards", or "stateful (links)"'
    )
    args = parser.parse_args(argv)
    backends = None
    try:
        config = load_config()
        backends = provision(parse_backends(args.backends), config, args.seed)
        contract = contract_for(config, backends, "replay_schema")
        assert backends.binding is not None
    except (ConfigError, InfraError) as exc:
        if backends is not None:
            backends.close()
        print(f"parity.contract: error: {exc}", file=sys.stderr)
        return 2
    runner = ContractRunner(
        contract,
        backends.factories,
        backends.reference,
        binding=backends.binding,
        options=config.diff,
        examples=args.examples,
        seed=args.seed,
        namespace_prefix="replay",
    )
    try:
        ops = [op for op in runner.operations() if args.operation in (None, op.label)]
        results = [runner.run_operation(op) for op in ops]
        if args.operation in (None, STATEFUL):
            results.append(runner.run_stateful(stateful_scenarios(args.examples), 10))
        if not results:
            print(f"parity.contract: error: no operation {args.operation!r}", file=sys.stderr)
            return 2
    finally:
        runner.close()
        backends.close()
    failed = False
    for result in results:
        status = "ERROR" if result.errors else "FAIL" if result.findings else "ok"
        print(f"{status:5} {result.label}  ({result.cases} cases)")
        for finding in result.findings:
            failed = True
            print(f"  [{finding.backend}] {finding.check}: {finding.request}")
            print("    " + finding.message.replace("\n", "\n    "))
            if finding.curl:
                print(f"    reproduce: {finding.curl}")
        for error in result.errors:
            print(f"  error: {error}")
    if any(r.errors for r in results):
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
