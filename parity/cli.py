"""The ``parity`` command. Exit codes: 0 parity, 1 divergence/contract failure,
2 infrastructure error or bad input (always one clear line, never a traceback)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from parity.baseline import BaselineError
from parity.binding import BindingError
from parity.config import SUITES, ConfigError, ParityConfig, load_config
from parity.interrupts import exit_within, interruptible
from parity.report.model import ReportError
from parity.run.backends import InfraError
from parity.trace.model import Trace, TraceError

if TYPE_CHECKING:
    from parity.trace.replay import ReplayResult

EXIT_PARITY, EXIT_DIVERGENCE, EXIT_INFRA = 0, 1, 2
USER_ERRORS = (ConfigError, InfraError, TraceError, ReportError, BaselineError, BindingError)


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be at least {least}" if least else f"{text!r} cannot be negative"
        )
    return value


def _positive(text: str) -> int:
    return _whole_number(text, 1)


def _count(text: str) -> int:
    return _whole_number(text, 0)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a seed cannot be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parity", description="Prove that one API behaves the same on every backend."
    )
    parser.add_argument("--config", type=Path, help="pyproject.toml with [tool.parity]")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run suites on backends in lockstep")
    run.add_argument("--backends", help="comma-separated engines (default: serverless ones)")
    run.add_argument(
        "--profile",
        default=os.environ.get("PARITY_PROFILE") or None,
        help="a [tool.parity.profiles.NAME] set of options (env PARITY_PROFILE); flags win",
    )
    run.add_argument("--suite", choices=SUITES, help="what to run (default: scenarios)")
    run.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    run.add_argument("--examples", type=_positive, help="Hypothesis examples per scenario")
    run.add_argument("--steps", type=_positive, help="stateful steps per example")
    run.add_argument(
        "--shrink-examples",
        type=_count,
        help="examples Hypothesis may spend shrinking a divergence before Parity's "
        "minimizer finishes it (default: until Hypothesis is done; 0: no shrinking and no "
        "minimizer, the divergence as first found: a verdict only)",
    )
    run.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop at the first failing cell (the rest is reported as not run); exit 1",
    )
    run.add_argument("--seed", type=_seed, help="seed (default: random, printed)")
    run.add_argument("--report-dir", type=Path, help="where reports go (default: reports)")
    run.add_argument(
        "--transport",
        choices=["asgi", "http"],
        default="asgi",
        help="in-process ASGI (fast) or a real uvicorn server per backend",
    )
    run.add_argument(
        "-n",
        "--workers",
        type=_positive,
        default=1,
        help="parallel workers (pytest-xdist); results merge into one report",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        help="run part K of N (a CI matrix of N machines, same --seed on each); "
        "join the parts with parity report merge",
    )
    run.add_argument(
        "--no-regressions",
        action="store_true",
        help="skip replaying the fixtures/regressions corpus",
    )

    rep = sub.add_parser("replay", help="re-run a saved trace and print the diff")
    rep.add_argument("trace", type=Path)
    rep.add_argument("--backends", help="comma-separated engines (default: the trace's)")
    rep.add_argument(
        "--without-diverged",
        action="store_true",
        help="allow --backends to leave out the backend the trace diverged on "
        "(e.g. to check a fix on another engine); said in the output",
    )
    rep.add_argument(
        "--emit",
        choices=["pytest", "curl"],
        help="instead of replaying, write the trace as a self-contained pytest file "
        "(httpx, one base URL per backend) or a curl script",
    )
    rep.add_argument(
        "--out",
        type=Path,
        help="the file --emit writes (default: next to the trace, test_<name>.py / <name>.sh)",
    )

    sub.add_parser("backends", help="list engines and whether they run here")

    init = sub.add_parser("init", help="write a starter binding, scenario and [tool.parity]")
    init.add_argument("--app", required=True, help="package.module:factory(database_url)")
    init.add_argument("--resource", default="/items", help="a CRUD collection path")
    init.add_argument("--dir", type=Path, default=Path("."), help="the project directory")

    report = sub.add_parser("report", help="work with reports")
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    merge = report_sub.add_parser("merge", help="join parity.json files into one report")
    merge.add_argument("inputs", type=Path, nargs="+")
    merge.add_argument("--out", type=Path, required=True)

    selftest = sub.add_parser("selftest", help="prove the harness catches planted faults")
    selftest.add_argument("--examples", type=_positive, help="per scenario (200)")
    selftest.add_argument("--seed", type=_seed, default=0)
    selftest.add_argument(
        "--steps",
        type=_positive,
        help="stateful steps per example (15; short runs shrink faster)",
    )
    selftest.add_argument(
        "--shrink-examples", type=_positive, help="as parity run's (default: unbounded)"
    )
    selftest.add_argument(
        "--profile",
        help="take the depth (examples, steps, shrinking, caps) from this profile: "
        "would that job catch each fault?",
    )
    selftest.add_argument(
        "--registry",
        help="a module that registers the faults (default: [tool.parity] selftest), "
        "e.g. a sign-off set of migration bugs kept apart from the selftest",
    )
    selftest.add_argument(
        "--max-calls",
        type=_positive,
        help="a caught fault passes only if shrunk to at most this many calls (8)",
    )
    selftest.add_argument("--report-dir", type=Path, help="default: <report_dir>/selftest")
    selftest.add_argument("--faults", help="comma-separated fault names (default: all)")
    mutate = sub.add_parser(
        "mutate", help="score how many mutants of a backend module Parity catches"
    )
    mutate.add_argument("module", help="the backend module to mutate (package.module)")
    mutate.add_argument("--backends", help="engines to run (default: the run default)")
    mutate.add_argument("--suite", choices=SUITES, default="scenarios")
    mutate.add_argument("--scenarios", help="comma-separated scenario names (default: all)")
    mutate.add_argument("--examples", type=_positive, default=50, help="per scenario (50)")
    mutate.add_argument("--steps", type=_positive)
    mutate.add_argument("--seed", type=_seed, default=0, help="one seed for every mutant (0)")
    mutate.add_argument("--max-mutants", type=_positive, help="a seeded sample (default: all)")
    mutate.add_argument("--timeout", type=float, help="seconds per mutant (3x unmutated + 30)")
    mutate.add_argument(
        "--jobs", type=_positive, default=1, help="mutants run at once (1; each a process)"
    )
    mutate.add_argument("--report-dir", type=Path, default=Path("reports/mutation"))
    for command in (run, rep, selftest, merge, mutate):
        # ``parity run --config x.toml`` works too (argparse wants it before the command)
        command.add_argument(
            "--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def _capture_app_logs(report_dir: Path) -> None:
    """The apps under test log to ``<report dir>/app.log``, not over the verdict line.

    A store that dies mid-run makes the app and its drivers log every failed call; the
    terminal keeps one clear line, the log file keeps the detail.
    """
    root = logging.getLogger()
    if any(getattr(h, "_parity", False) for h in root.handlers):
        return
    report_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(report_dir / "app.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler._parity = True  # type: ignore[attr-defined]
    root.addHandler(handler)


def main(argv: Sequence[str] | None = None, *, bounded_exit: bool = False) -> int:
    """The ``parity`` command; its exit code. ``bounded_exit`` (the console script): after
    an interrupt the process ends within :data:`parity.interrupts.EXIT_GRACE` seconds,
    whatever is still in flight (never set it in a process that goes on after this)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    report_dir = getattr(args, "report_dir", None)
    try:
        if report_dir is not None:
            from parity.run.orchestrator import check_report_dir

            check_report_dir(Path(report_dir))
        _capture_app_logs(Path(report_dir) if report_dir else Path("reports"))
        with interruptible():
            config = load_config(args.config)
            return _dispatch(args, config)
    except USER_ERRORS as exc:
        print(f"parity: error: {exc}", file=sys.stderr)
        return EXIT_INFRA
    except KeyboardInterrupt:
        print("parity: interrupted", file=sys.stderr)
        if bounded_exit:  # a call still in flight must not hold the exit
            exit_within(EXIT_INFRA)
        return EXIT_INFRA


def _dispatch(args: argparse.Namespace, config: ParityConfig) -> int:
    if args.command == "run":
        return _run(args, config)
    if args.command == "replay":
        return _replay(args, config)
    if args.command == "backends":
        return _backends(config)
    if args.command == "init":
        from parity.init import InitOptions, run_init

        written = run_init(InitOptions(args.dir, args.app, args.resource))
        print("wrote " + ", ".join(str(p) for p in written) + "; next: parity run")
        return EXIT_PARITY
    if args.command == "report":
        return _merge(args)
    if args.command == "selftest":
        return _selftest(args, config)
    if args.command == "mutate":
        return _mutate(args)
    raise AssertionError(args.command)


def _selftest(args: argparse.Namespace, config: ParityConfig) -> int:
    from parity.selftest.runner import MAX_STEPS, Depth, run_selftest

    profile = config.profile(args.profile) if args.profile else None
    caps = dict(config.scenario_max_examples)
    caps.update((profile.scenario_max_examples if profile else None) or ())
    chosen = {
        key: value
        for key in ("examples", "steps", "shrink_examples")
        if (value := getattr(args, key) or (getattr(profile, key) if profile else None)) is not None
    }
    depth = Depth(**chosen, scenario_max_examples=caps or None)
    if args.registry:
        config = config.with_overrides(selftest=args.registry)
    return run_selftest(
        config,
        depth,
        seed=args.seed,
        report_dir=args.report_dir,
        faults=args.faults.split(",") if args.faults else None,
        max_calls=args.max_calls or MAX_STEPS,
    )


def _mutate(args: argparse.Namespace) -> int:
    from parity.mutate.runner import MutateOptions, run_mutate

    run_args = ["--suite", args.suite, "--examples", str(args.examples), "--seed", str(args.seed)]
    for flag, value in (("--backends", args.backends), ("--scenarios", args.scenarios)):
        if value is not None:
            run_args += [flag, value]
    if args.steps is not None:
        run_args += ["--steps", str(args.steps)]
    options = MutateOptions(
        args.module,
        tuple(run_args),
        args.report_dir,
        args.max_mutants,
        args.seed,
        args.timeout,
        args.jobs,
    )
    return run_mutate(options)


def apply_profile(args: argparse.Namespace, config: ParityConfig) -> None:
    """Fill the ``run`` options the command line left unset from ``--profile``."""
    if args.profile:
        profile = config.profile(args.profile)
        if args.backends is None and profile.backends is not None:
            args.backends = ",".join(profile.backends)
        if args.scenarios is None and profile.scenarios is not None:
            args.scenarios = ",".join(profile.scenarios)
        for key in ("suite", "examples", "steps", "shrink_examples"):
            if getattr(args, key) is None:
                setattr(args, key, getattr(profile, key))
    if args.suite is None:
        args.suite = "scenarios"
    caps = dict(config.scenario_max_examples)
    if args.profile:
        caps.update(config.profile(args.profile).scenario_max_examples or ())
    args.scenario_max_examples = caps


def _run(args: argparse.Namespace, config: ParityConfig) -> int:
    from parity.run.backends import parse_backends
    from parity.run.orchestrator import RunOptions, execute

    apply_profile(args, config)
    backends = parse_backends(args.backends) if args.backends is not None else None
    if backends and args.suite != "ports":  # port implementations are checked by name
        check_engines(backends, config)
    from parity.run.orchestrator import check_scenario_caps, check_scenarios, suite_names
    from parity.run.shard import parse_shard

    check_scenarios(config, suite_names(args.suite), _names(args.scenarios))
    check_scenario_caps(config, suite_names(args.suite), args.scenario_max_examples)
    shard = parse_shard(args.shard, args.seed)
    if args.workers > 1 and args.fail_fast:
        raise ConfigError("--fail-fast runs in one process: leave out -n/--workers")
    if args.workers > 1 and args.suite == "ports":
        raise ConfigError("--suite ports runs in one process: leave out -n/--workers")
    if args.workers > 1:
        from parity.xdist import run_parallel

        return run_parallel(args, config, backends, shard)
    options = RunOptions(
        backends=backends,
        suite=args.suite,
        examples=args.examples,
        steps=args.steps,
        shrink_examples=args.shrink_examples,
        scenario_max_examples=args.scenario_max_examples,
        seed=args.seed,
        report_dir=args.report_dir,
        transport=args.transport,
        regressions=not args.no_regressions,
        scenarios=_names(args.scenarios),
        shard=shard,
        fail_fast=args.fail_fast,
    )
    outcome = execute(options, config)
    if outcome.files:
        print(f"reports: {', '.join(str(p) for p in outcome.files)}")
    return outcome.exit_code


def check_engines(names: list[str], config: ParityConfig) -> None:
    """Unknown engine names are one line (with a "did you mean"), before anything starts."""
    from parity.engines.base import EngineUnavailable
    from parity.engines.registry import (
        ENGINES,
        PREFERENCES,
        check_name,
        load_entry_points,
        register_engine,
        unknown_engine,
    )
    from parity.run.backends import load_faults

    for name, spec in config.engines.items():
        register_engine(name, spec)
    load_entry_points()
    if any(n.startswith("fault:") for n in names):
        load_faults(config)
    for name in names:
        if "+" in name and name not in config.urls:
            try:
                check_name(name)  # the base engine and its +modifiers
            except EngineUnavailable as exc:
                raise ConfigError(f"--backends: {name!r}: {exc.reason}") from None
        elif name not in ENGINES and name not in PREFERENCES and name not in config.urls:
            raise ConfigError(f"--backends: {name!r}: {unknown_engine(name).reason}")


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--scenarios needs at least one scenario name")
    return names


def _replay(args: argparse.Namespace, config: ParityConfig) -> int:
    from parity.lockstep.session import LockstepSession
    from parity.run.backends import app_record, parse_backends, provision
    from parity.trace.replay import check_replayable, replay
    from parity.trace.store import load_trace

    trace = load_trace(args.trace)
    from parity.ports.replay import is_port_trace

    if is_port_trace(trace):
        if args.emit:
            raise ConfigError(
                "--emit writes HTTP requests; a port trace replays with parity replay"
            )
        return _replay_port(args, config, trace)
    if args.emit:
        return _emit(args, trace)
    names = parse_backends(args.backends) if args.backends is not None else list(trace.backends)
    dropped = check_replayable(trace, config, names, allow_dropped=args.without_diverged)
    if dropped:
        print(f"note: replaying without {', '.join(dropped)}, where the trace diverged")
    config = config.with_overrides(reference=trace.reference)
    backends = provision(names, config, trace.replay_seed)
    try:
        session = LockstepSession(
            backends.factories,
            backends.reference,
            namespace_prefix="replay",
            options=trace.diff_options() or backends.diff,
            engines=backends.info,
            app=app_record(backends, config),
            seed=trace.replay_seed,
        )
        try:
            result = replay(trace, session)
        finally:
            session.close()
    finally:
        backends.close()
    steps = len(result.trace.steps)
    if result.divergence is None and trace.contract:
        # A contract check that every backend fails alike shows no divergence: the failure
        # is the failing backend's answer, compared with the recorded one.
        from parity.contract.traces import same_failure

        if same_failure(trace, result.trace):
            check, backend = trace.contract.get("check"), trace.contract.get("backend")
            print(f"same contract failure as recorded: {check} on {backend} ({steps} step(s))")
            return EXIT_DIVERGENCE
    return _verdict(trace, result)


def _verdict(trace: Trace, result: ReplayResult) -> int:
    """Print what a replay found; its exit code."""
    if result.divergence is None:
        names = ", ".join(result.trace.backends)
        print(f"no divergence: {len(result.trace.steps)} step(s) replayed on {names}")
        if trace.replays is False:
            from parity.trace.minimize import NOT_REPLAYING

            print(f"note: {NOT_REPLAYING}")
        return EXIT_PARITY
    print(str(result.divergence))
    same = result.same_divergence_as(trace)
    print(
        f"\n{'same divergence as recorded' if same else 'a DIFFERENT divergence than recorded'}"
        f" (step {result.divergence.step.index} of {len(trace.steps)})"
    )
    return EXIT_DIVERGENCE


def _replay_port(args: argparse.Namespace, config: ParityConfig, trace: Trace) -> int:
    from parity.ports.replay import replay_port
    from parity.run.backends import parse_backends

    names = parse_backends(args.backends) if args.backends is not None else None
    result = replay_port(trace, config, names, allow_dropped=args.without_diverged)
    return _verdict(trace, result)


def _emit(args: argparse.Namespace, trace: Trace) -> int:
    from parity.trace.emit import emit_curl, emit_pytest, env_var

    if trace.divergent_step is None:
        raise ConfigError(f"{args.trace}: the trace records no divergence: nothing to reproduce")
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", args.trace.stem).strip("_")
    if args.emit == "pytest":
        out = args.out or args.trace.with_name(f"test_{stem}.py")
        text = emit_pytest(trace)
    else:
        out = args.out or args.trace.with_name(f"{stem}.sh")
        text = emit_curl(trace)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a directory; name a file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from exc
    print(f"wrote {out}")
    if args.emit == "pytest":
        urls = " ".join(f"{env_var(b)}=http://..." for b in trace.backends)
        print(f"run it against fresh servers: {urls} python -m pytest {shlex.quote(str(out))}")
    else:
        out.chmod(0o755)
        print(f"run it against a fresh server: bash {shlex.quote(str(out))} http://127.0.0.1:8000")
    return EXIT_PARITY


def _backends(config: ParityConfig) -> int:
    from parity.run.backends import engine_status

    rows = engine_status(config)
    width = max(len(name) for name, _, _ in rows)
    for name, ok, why in rows:
        print(f"{name:<{width}}  {'available' if ok else 'unavailable'}{'' if ok else ': ' + why}")
    return EXIT_PARITY


def _merge(args: argparse.Namespace) -> int:
    from parity.report.merge import check_shards, merge_reports
    from parity.report.model import RunReport
    from parity.report.writers import write_all
    from parity.run.orchestrator import check_report_dir

    check_report_dir(args.out, "--out")
    reports = [RunReport.load(p) for p in args.inputs]
    check_shards(reports)
    merged = merge_reports(reports)
    written = write_all(merged, args.out)
    print(f"merged {len(args.inputs)} report(s): {', '.join(str(p) for p in written)}")
    return merged.exit_code


def console() -> None:
    """``parity`` and ``python -m parity.cli``: :func:`main` as a process of its own."""
    sys.exit(main(bounded_exit=True))


if __name__ == "__main__":
    console()
