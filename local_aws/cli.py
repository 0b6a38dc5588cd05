"""`mlops-demo`: the command line for the local AWS and the simulator (`mlops-demo --help`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fraud_core.config import PROFILES, ConfigError, load_config


def _profile(value: str) -> str:
    try:
        load_config(value)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    return value


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {value!r})") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {n})")
    return n


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
    p.add_argument("--serve", type=int, metavar="PORT", default=None,
                   help="also serve the local AWS on 127.0.0.1:PORT while the demo runs")

    p = sub.add_parser("synth", help="synthesize the CDK app (cdk-nag checks run) without the CDK CLI")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--out", type=Path, default=Path("cdk.out"))

    p = sub.add_parser("serve", help="deploy the stacks into a local AWS served on 127.0.0.1 and wait")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    p.add_argument("--port", type=int, default=4566)
    p.add_argument("--workdir", type=Path, default=Path(".local-aws"))

    p = sub.add_parser("simulate", help="write simulated transactions (and labels) as JSON lines")
    p.add_argument("--transactions", type=_positive, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scenario", type=_scenario, default="baseline")
    p.add_argument("--out", type=Path, required=True, help="transactions file (.jsonl)")
    p.add_argument("--labels", type=Path, default=None, help="optional labels file (.jsonl)")
    p.add_argument("--for-training", type=_profile, metavar="PROFILE", default=None,
                   help="place the data in that profile's training window as of now (to seed a real sandbox)")

    p = sub.add_parser("config", help="print the validated config of a profile as JSON")
    p.add_argument("--profile", type=_profile, default="sandbox", help=profile_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # moto's Step Functions interpreter logs every caught task error at ERROR; the demo reports them itself.
    import logging

    logging.getLogger("moto").setLevel(logging.CRITICAL)
    try:
        return _dispatch(args)
    except ConfigError as err:
        print(f"mlops-demo: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "config":
        print(json.dumps(load_config(args.profile).to_dict(), indent=2))
        return 0
    if args.command == "synth":
        from local_aws.synth import synthesize

        out = synthesize(args.profile, args.out)
        print(f"synthesized profile {args.profile} into {out} (cdk-nag clean)")
        return 0
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "demo":
        from local_aws.demo import DemoOptions, run_demo

        result = run_demo(DemoOptions(profile=args.profile, transactions=args.transactions, seed=args.seed,
                                      scenario=args.scenario, workdir=args.workdir, serve_port=args.serve))
        lost = result.missing_ids + result.records_failed
        if lost:
            print(f"mlops-demo: {lost} records were lost", file=sys.stderr)
            return 1
        if result.training is None or result.training.status != "SUCCEEDED":
            print("mlops-demo: the training pipeline did not succeed (see above)", file=sys.stderr)
            return 1
        return 0
    if args.command == "serve":
        return _serve(args)
    raise AssertionError(args.command)


def _simulate(args: argparse.Namespace) -> int:
    from fraud_core.simulator import simulate
    from local_aws.training_data import training_history

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


def _serve(args: argparse.Namespace) -> int:
    import threading

    from local_aws.deploy import deploy_assembly
    from local_aws.firehose_emulator import start_archive_pump
    from local_aws.runtime import local_aws
    from local_aws.synth import synthesize

    assembly = synthesize(args.profile, args.workdir / f"cdk.out-{args.profile}")
    with local_aws(serve_port=args.port, workdir=args.workdir / "serve-runtime") as aws:
        for stack in deploy_assembly(aws, assembly):
            print(f"{stack.stack_name}: {stack.status} ({len(stack.resources)} resources)")
        start_archive_pump(aws, aws.clock)  # records put on the stream reach S3 after the buffer interval
        print(f"\nlocal AWS listening on {aws.endpoint_url}; try:\n"
              f"  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={aws.region} \\\n"
              f"  aws --endpoint-url {aws.endpoint_url} s3 ls\n"
              "Ctrl-C stops it (everything is in memory and is discarded).", flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
