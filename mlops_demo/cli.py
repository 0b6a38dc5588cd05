"""`mlops-demo`: the command line of the demo, the simulator and the local AWS (`mlops-demo --help`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fraud_core.config import PROFILES, ConfigError, load_config


def _profile(value: str) -> str:
    try:
        load_config(value)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return value


def _bounded(kind: type, lo: float, hi: float, what: str) -> Callable[[str], Any]:
    """An argparse type: a `kind` number in [lo, hi]; errors say the rule and what was given."""

    def parse(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} (got {value!r})") from None
        if not lo <= number <= hi:
            rule = f"must be >= {lo:g}" if hi == float("inf") else f"must be between {lo:g} and {hi:g}"
            raise argparse.ArgumentTypeError(f"{rule} (got {number:g})")
        return number

    return parse


_positive = _bounded(int, 1, float("inf"), "a whole number")
_port = _bounded(int, 0, 65535, "a TCP port number")
_time_scale = _bounded(float, 0.1, 1000, "a number")


def _scenario(value: str) -> str:
    from fraud_core.simulator import SCENARIOS

    if value not in SCENARIOS:
        raise argparse.ArgumentTypeError(f"unknown scenario {value!r}; allowed: {', '.join(SCENARIOS)}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops-demo",
        description="Fraud-scoring MLOps reference system: CDK app, simulator and a local AWS (moto).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    profile_help = f"deployment profile ({', '.join(PROFILES)})"

    p = sub.add_parser("demo", help="run the whole story on the local AWS (what `make demo` runs)")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--transactions", type=_positive, default=50_000,
                   help="transactions to simulate over the training window and stream")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scenario", type=_scenario, default="baseline")
    p.add_argument("--workdir", type=Path, default=Path(".local-aws"), help="where the assembly is written")
    p.add_argument("--serve", type=_port, metavar="PORT", default=None,
                   help="also serve the local AWS on 127.0.0.1:PORT while the demo runs, and keep serving "
                        "afterwards until Ctrl-C")

    p = sub.add_parser("synth", help="synthesize the CDK app (cdk-nag checks run) without the CDK CLI")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--out", type=Path, default=Path("cdk.out"))

    p = sub.add_parser("serve", help="deploy the stacks into a local AWS served on 127.0.0.1 and wait")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--port", type=_port, default=4566,
                   help="TCP port on 127.0.0.1 to serve the AWS APIs on (default 4566; 0 picks a free one)")
    p.add_argument("--time-scale", type=_time_scale, default=10.0,
                   help="simulated seconds per wall-clock second (default 10: a 60 s buffer interval takes 6 s)")
    p.add_argument("--workdir", type=Path, default=Path(".local-aws"), help="where the assembly is written")

    p = sub.add_parser("simulate", help="write simulated transactions (and labels) as JSON lines")
    p.add_argument("--transactions", type=_positive, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scenario", type=_scenario, default="baseline")
    p.add_argument("--out", type=Path, required=True, help="transactions file (.jsonl)")
    p.add_argument("--labels", type=Path, default=None, help="optional labels file (.jsonl)")
    p.add_argument("--for-training", type=_profile, metavar="PROFILE", default=None,
                   help="place the data in that profile's training window as of now (to seed a real sandbox)")

    p = sub.add_parser("rollback", help="put the previous known-good model back on the endpoint (deploy workflow)")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--reason", required=True, help="why: recorded on the withdrawn package and in the notice")
    p.add_argument("--endpoint-url", default=None,
                   help="a local AWS served by `mlops-demo serve` (default: AWS, with your credentials)")

    p = sub.add_parser("explain", help="one transaction: its decision, captured input, model package, label, and the "
                                       "features that drove its score")
    p.add_argument("transaction_id")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--endpoint-url", default=None, help="a local AWS served by `mlops-demo serve` (default: AWS)")

    p = sub.add_parser("redrive", help="score the batches the scoring function discarded (failed-batches queue)")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--endpoint-url", default=None, help="a local AWS served by `mlops-demo serve` (default: AWS)")

    p = sub.add_parser("teardown", help="delete the endpoint, configs and models the deploy workflow created")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--endpoint-url", default=None, help="a local AWS served by `mlops-demo serve` (default: AWS)")

    p = sub.add_parser("config", help="print the validated config of a profile as JSON")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # moto's Step Functions interpreter logs every caught task error at ERROR; the demo reports them itself.
    import logging

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    from local_aws.server import PortInUseError

    try:
        return _dispatch(args)
    except (ConfigError, PortInUseError) as err:
        print(f"mlops-demo: {err.args[-1] if isinstance(err, PortInUseError) else err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "config":
        print(json.dumps(load_config(args.profile).to_dict(), indent=2))
        return 0
    if args.command == "synth":
        from mlops_demo.synth import synthesize

        out = synthesize(args.profile, args.out)
        print(f"synthesized profile {args.profile} into {out} (cdk-nag clean)")
        return 0
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "demo":
        from local_aws.server import check_port_free
        from mlops_demo.scenarios import TRAINING_REFUSED, story_scenario
        from mlops_demo.story import DemoOptions, run_demo

        if args.serve is not None:
            check_port_free(args.serve)
        result = run_demo(DemoOptions(profile=args.profile, transactions=args.transactions, seed=args.seed,
                                      scenario=args.scenario, workdir=args.workdir, serve_port=args.serve,
                                      linger=args.serve is not None))
        if result.lost:
            print(f"mlops-demo: {result.lost} records were lost", file=sys.stderr)
            return 1
        if result.serving_failed:
            print("mlops-demo: the approved model was not served as the story expects (see above)", file=sys.stderr)
            return 1
        scenario = story_scenario(args.scenario)
        if not result.training_succeeded:
            if scenario.expected == TRAINING_REFUSED:
                print(f"mlops-demo: the training pipeline refused the window, as the {args.scenario} scenario expects "
                      f"({scenario.why})")
                return 0
            print("mlops-demo: the training pipeline did not succeed (see above)", file=sys.stderr)
            return 1
        monitor = result.get("monitor")
        if monitor is not None and monitor.ending != monitor.scenario.expected:
            print(f"mlops-demo: monitoring ended {monitor.ending}; the {args.scenario} scenario expects "
                  f"{monitor.scenario.expected} ({monitor.scenario.why})", file=sys.stderr)
            return 1
        return 0
    if args.command == "serve":
        return _serve(args)
    if args.command == "rollback":
        return _rollback(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "redrive":
        from mlops_demo.redrive import redrive

        report = redrive(args.profile, endpoint_url=args.endpoint_url)
        print(f"{report.batches} discarded batches ({report.records:,} records): {report.redriven} redriven, "
              f"{len(report.kept)} kept, {report.expired} records past the stream's retention (lost)")
        for why in report.kept:
            print(f"  kept {why}")
        return 0 if not report.kept and not report.expired else 1
    if args.command == "teardown":
        from mlops_demo.teardown import teardown

        for item in teardown(args.profile, endpoint_url=args.endpoint_url) or ["nothing to delete"]:
            print(f"deleted {item}" if item != "nothing to delete" else item)
        return 0
    raise AssertionError(args.command)


def _simulate(args: argparse.Namespace) -> int:
    from fraud_core.simulator import simulate
    from mlops_demo.history import training_history

    if args.for_training:
        batch = training_history(load_config(args.for_training), args.transactions, seed=args.seed,
                                 scenario=args.scenario)
    else:
        batch = simulate(args.transactions, seed=args.seed, scenario=args.scenario)
    _write_atomically(args.out, b"\n".join(batch.encoded()) + b"\n")
    if args.labels:
        lines = [json.dumps(label).encode() for label in batch.labels()]
        _write_atomically(args.labels, b"\n".join(lines) + b"\n")
    print(f"wrote {len(batch):,} transactions ({batch.fraud_rate:.2%} fraud) to {args.out}")
    return 0


def _write_atomically(path: Path, data: bytes) -> None:
    # Write then rename, so an interrupted run never leaves a half-written file behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _explain(args: argparse.Namespace) -> int:
    import boto3

    from mlops_demo.explain import explain_transaction

    story = explain_transaction(lambda service: boto3.client(service, endpoint_url=args.endpoint_url), args.profile,
                                args.transaction_id)
    print("\n".join(story.lines(load_config(args.profile).label_maturity_days)))
    return 0 if story.decision is not None else 1


def _rollback(args: argparse.Namespace) -> int:
    from mlops_demo.rollback import start_rollback

    described = start_rollback(args.profile, args.reason, endpoint_url=args.endpoint_url)
    print(f"rollback {described['executionArn'].rsplit(':', 1)[-1]}: {described['status']}")
    if described["status"] != "SUCCEEDED":
        print(f"mlops-demo: {described.get('error', '')}: {described.get('cause', 'still running')}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    from mlops_demo.serve import serve

    return serve(args.profile, args.port, args.workdir, args.time_scale)


if __name__ == "__main__":
    sys.exit(main())
