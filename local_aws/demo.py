"""`make demo`: the whole story on the local AWS, one narrative, every number tagged with provenance.

The story so far: synthesize the real CDK app, deploy its templates into the local AWS, replay a
month of simulated card transactions through the Kinesis stream, let the Firehose archive deliver
them to S3 (read back: nothing lost), land the delayed chargeback labels, then run the synthesized
training state machine: preprocess -> train -> evaluate -> gate -> register, with the real job
scripts, and print what it decided and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from fraud_core.config import load_config
from fraud_core.simulator import LABEL_CONFIRMATION_DAYS, labels_as_of
from local_aws.archive_reader import read_archive, transaction_ids
from local_aws.clock import SimulatedClock
from local_aws.deploy import StackDeployment, deploy_assembly
from local_aws.executions import ExecutionResult, run_execution
from local_aws.firehose_emulator import KinesisToS3Delivery
from local_aws.kinesis_producer import put_all
from local_aws.progress import Console, tagged
from local_aws.runtime import local_aws
from local_aws.synth import synthesize
from local_aws.training_data import training_history, write_labels
from stacks.naming import stack_name


@dataclass
class DemoOptions:
    profile: str = "sandbox"
    transactions: int = 50_000
    seed: int = 7
    scenario: str = "baseline"
    workdir: Path = Path(".local-aws")
    serve_port: int | None = None  # keep a server on 127.0.0.1 while the demo runs


@dataclass
class DemoResult:
    stacks: list[StackDeployment] = field(default_factory=list)
    records_sent: int = 0
    records_failed: int = 0
    records_archived: int = 0
    archive_objects: int = 0
    missing_ids: int = 0
    duplicate_ids: int = 0
    fraud_rate: float = 0.0
    labels_landed: int = 0
    training: ExecutionResult | None = None
    evaluation: dict | None = None
    package: dict | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds, measured-local
    simulated_seconds: dict[str, float] = field(default_factory=dict)  # simulated-clock

    @property
    def resources_deployed(self) -> int:
        return sum(len(s.resources) for s in self.stacks)


def run_demo(options: DemoOptions, console: Console | None = None) -> DemoResult:
    console = console or Console()
    config = load_config(options.profile)
    result = DemoResult()
    clock = SimulatedClock()
    wall = time.perf_counter()
    console.say(f"mlops-demo on the local AWS: profile '{config.name}', {options.transactions:,} "
                f"transactions, seed {options.seed}, scenario '{options.scenario}'")

    assembly = options.workdir / f"cdk.out-{config.name}"
    with console.step(f"Synthesizing the CDK app (profile {config.name}) into {assembly}"):
        t = time.perf_counter()
        synthesize(config.name, assembly)
        result.timings["synth"] = time.perf_counter() - t

    with local_aws(serve_port=options.serve_port, workdir=options.workdir / "runtime") as aws:
        if aws.endpoint_url:
            console.say(f"    local AWS served at {aws.endpoint_url} (aws --endpoint-url {aws.endpoint_url} ...)")
        with console.step("Deploying the synthesized templates into the local AWS (CloudFormation in moto)"):
            t = time.perf_counter()

            def report(stack: StackDeployment) -> None:
                console.say(f"    {stack.stack_name}: {stack.status}, {len(stack.resources)} resources, "
                            f"{stack.assets_published} assets published")
                for item in stack.not_emulated:
                    console.say(f"      not emulated: {item['ResourceType']} ({item['LogicalResourceId']}): "
                                f"{item['Reason']}")

            result.stacks = deploy_assembly(aws, assembly, on_stack=report)
            result.timings["deploy"] = time.perf_counter() - t

        data = next(s for s in result.stacks if s.stack_name == stack_name(config.name, "DataFoundation"))
        stream_name = data.outputs["TransactionsStreamName"]
        raw_bucket = data.outputs["RawBucketName"]

        with console.step(f"Simulating {options.transactions:,} card transactions ({options.scenario}) over the "
                          f"{config.training_window_days}-day training window"):
            t = time.perf_counter()
            batch = training_history(config, options.transactions, seed=options.seed, scenario=options.scenario)
            payloads = batch.encoded()
            keys = [f"C{c:07d}" for c in batch.customer_idx.tolist()]
            result.timings["simulate"] = time.perf_counter() - t
            result.fraud_rate = batch.fraud_rate
            console.say(f"    fraud rate {batch.fraud_rate:.2%} ({int(batch.is_fraud.sum()):,} frauds), events from "
                        f"{_iso(batch.start_ms)} to {_iso(batch.end_ms)}")

        with console.step(f"Replaying them through Kinesis '{stream_name}' (PutRecords, 500 per call)"):
            t = time.perf_counter()
            bar = console.bar(len(payloads), "records sent")
            # Newline-delimited so the archive is line-oriented JSON, as Athena and the jobs read it.
            produced = put_all(aws.client("kinesis"), stream_name,
                               [(k, p + b"\n") for k, p in zip(keys, payloads, strict=True)],
                               sleep=clock.sleep, on_progress=bar.advance)
            result.timings["stream"] = time.perf_counter() - t
            result.records_sent, result.records_failed = produced.sent, produced.failed
            rate = produced.sent / max(result.timings["stream"], 1e-9)
            console.say(f"    {produced.sent:,} sent in {produced.batches} calls, {produced.failed} failed, "
                        f"{tagged(f'{rate:,.0f} records/s', 'measured-local')}")

        with console.step(f"Firehose '{data.outputs['ArchiveDeliveryStreamName']}' archives the stream to S3"):
            delivery = KinesisToS3Delivery(aws, data.outputs["ArchiveDeliveryStreamName"], clock)
            delivery.poll()
            clock.advance(delivery.buffer_seconds)  # the buffer interval passes on the simulated clock
            delivery.tick()
            result.simulated_seconds["archive_buffer_interval"] = delivery.buffer_seconds
            console.say(f"    {delivery.report.records_delivered:,} records in "
                        f"{len(delivery.report.objects_written)} objects, "
                        f"{delivery.report.bytes_written / 1024:,.0f} KiB gzip, delivered after "
                        f"{tagged(f'{delivery.buffer_seconds} s buffer interval', 'simulated-clock')}")
            if delivery.report.objects_written:
                console.say(f"    e.g. s3://{raw_bucket}/{delivery.report.objects_written[0]}")

        with console.step("Reading the archive back from S3"):
            object_keys, archived = read_archive(aws.client("s3"), raw_bucket)
            ids = transaction_ids(archived)
            sent_ids = set(batch.transaction_ids())
            result.records_archived = len(archived)
            result.archive_objects = len(object_keys)
            result.missing_ids = len(sent_ids - set(ids))
            result.duplicate_ids = len(ids) - len(set(ids))
            console.say(f"    {len(archived):,} records archived; missing {result.missing_ids}, "
                        f"duplicated {result.duplicate_ids}")

        with console.step("Chargebacks and confirmations land in the labels bucket (delayed labels)"):
            labels = labels_as_of(batch, _now())
            write_labels(aws.client("s3"), data.outputs["LabelsBucketName"], labels,
                         kms_key=data.outputs["DataKeyArn"])
            result.labels_landed = len(labels)
            frauds = sum(label["is_fraud"] for label in labels)
            pending = len(batch) - len(labels)
            console.say(f"    {len(labels):,} labels available now ({frauds:,} chargebacks, the rest confirmed "
                        f"legitimate after {LABEL_CONFIRMATION_DAYS:.0f} days); {pending:,} still pending")

        training_stack = next(s for s in result.stacks
                              if s.stack_name == stack_name(config.name, "TrainingPipeline"))
        with console.step(f"Training pipeline (Step Functions '{config.name}' definition, SageMaker jobs run locally)"):
            run_name = f"demo-{options.seed}-{int(clock.start.timestamp())}"
            result.training = run_execution(
                aws, training_stack.outputs["TrainingStateMachineArn"], run_name,
                on_state=lambda state: console.say(
                    f"    -> {state:<24} [simulated t+{aws.clock.elapsed_seconds:.0f} s]"))
            result.timings["training_pipeline"] = result.training.wall_seconds
            result.simulated_seconds["training_pipeline"] = result.training.simulated_seconds
            for job in aws.jobs.jobs.values() if aws.jobs else []:
                console.say(f"    job {job.name}: {job.final_status} in "
                            f"{tagged(f'{job.wall_seconds:.1f} s', 'measured-local')}"
                            + (f" - {job.failure_reason}" if job.failure_reason else ""))
            if result.training.status != "SUCCEEDED":
                console.say(f"    FAILED: {result.training.error}: {result.training.cause}")
            else:
                result.evaluation = _read_json(aws, data.outputs["CuratedBucketName"],
                                               f"runs/{run_name}/evaluation/evaluation.json")
                result.package = aws.client("sagemaker").describe_model_package(
                    ModelPackageName=result.training.output["registered"]["arn"])
                _print_training(console, result)

    result.timings["total"] = time.perf_counter() - wall
    _summary(console, result)
    return result


def _iso(epoch_ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d")


def _now():  # noqa: ANN202 - the run's "now": labels available at the moment the pipeline starts
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _read_json(aws, bucket: str, key: str) -> dict:  # noqa: ANN001
    import json

    return json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _print_training(console: Console, r: DemoResult) -> None:
    ev, gate = r.evaluation or {}, (r.training.output or {}).get("gate", {}) if r.training else {}
    cand, champ = ev.get("candidate", {}), ev.get("champion")
    window, costs = ev.get("test_window", {}), ev.get("costs", {})

    def num(d: dict, key: str, fmt: str = ".3f") -> str:
        return tagged(format(d.get(key, 0.0), fmt), "measured-local")

    console.say(f"    held-out test window {window.get('start', '?')[:10]} .. {window.get('end', '?')[:10]}: "
                f"{window.get('rows', 0):,} transactions, {window.get('positives', 0)} frauds "
                f"(base rate {cand.get('base_rate', 0):.2%})")
    console.say(f"    PR-AUC {num(cand, 'pr_auc')} (primary: a random model scores the base rate), "
                f"ROC-AUC {num(cand, 'roc_auc')}")
    console.say(f"    at the operating threshold {cand.get('threshold', 0):.3g} (chosen on validation for cost: "
                f"missed fraud ${costs.get('false_negative', 0):.0f}, "
                f"false alarm ${costs.get('false_positive', 0):.0f}): "
                f"precision {num(cand, 'precision')}, recall {num(cand, 'recall')}")
    console.say(f"    calibration: Brier {num(cand, 'brier', '.4f')}, ECE {num(cand, 'ece', '.4f')}")
    if champ:
        console.say(f"    champion on the same window: PR-AUC {num(champ, 'pr_auc')}")
    else:
        console.say("    champion: none yet (first model), so only the PR-AUC floor applies")
    console.say(f"    gate: {gate.get('reason', '?')}")
    if r.package:
        console.say(f"    registered {r.package['ModelPackageArn']} as {r.package['ModelApprovalStatus']}")
    wall = tagged(f"{r.training.wall_seconds:.1f} s", "measured-local")
    waits = tagged(f"{r.training.simulated_seconds:.0f} s", "simulated-clock")
    console.say(f"    {r.training.transitions} state transitions, {wall} wall, {waits} of waits")


def _summary(console: Console, r: DemoResult) -> None:
    rows = [
        ("stacks deployed", f"{len(r.stacks)} ({', '.join(s.stack_name for s in r.stacks)})", "measured-local"),
        ("resources deployed", f"{r.resources_deployed}", "measured-local"),
        ("not emulated locally", f"{sum(len(s.not_emulated) for s in r.stacks)} (listed above)", "measured-local"),
        ("records sent to Kinesis", f"{r.records_sent:,} ({r.records_failed} failed)", "measured-local"),
        ("records archived in S3", f"{r.records_archived:,} in {r.archive_objects} objects", "measured-local"),
        ("records lost / duplicated", f"{r.missing_ids} / {r.duplicate_ids}", "measured-local"),
        ("fraud rate in simulated data", f"{r.fraud_rate:.2%}", "measured-local"),
        ("labels landed", f"{r.labels_landed:,}", "measured-local"),
        ("training pipeline", (r.training.status if r.training else "not run"), "measured-local"),
        ("model PR-AUC (held-out window)", f"{(r.evaluation or {}).get('candidate', {}).get('pr_auc', 0):.3f}",
         "measured-local"),
        ("gate decision", ((r.training.output or {}).get("gate", {}).get("status", "-") if r.training else "-"),
         "measured-local"),
        ("state transitions (billed)", f"{r.training.transitions if r.training else 0}", "measured-local"),
        *[(f"simulated: {k}", f"{v:.0f} s", "simulated-clock") for k, v in r.simulated_seconds.items()],
        *[(f"time: {k}", f"{v:.2f} s", "measured-local") for k, v in r.timings.items()],
    ]
    width = max(len(a) for a, _, _ in rows)
    console.say("\nSummary")
    for name, value, provenance in rows:
        console.say(f"  {name:<{width}}  {value}  [{provenance}]")
