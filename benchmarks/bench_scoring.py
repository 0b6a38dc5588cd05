"""Streaming scoring: the scoring handler's throughput and per-record overhead, and stream -> decisions locally.

Run: ``python -m benchmarks.bench_scoring`` prints one JSON line per figure (``make bench`` runs it too).

What is measured (``measured-local``), with a model trained by the job code (``benchmarks.serving_model``):

- **handler throughput**: the real handler (``lambdas/scoring/handler.py``) on 1,000-record Kinesis batches, its
  ``InvokeEndpoint`` answered in-process by the started scikit-learn container (the endpoint's own inference code,
  no HTTP), S3 and SQS by clients that only keep what they are given. Records per second of handler wall time.
- **per-record overhead**: the same handler with the endpoint answering a precomputed response (no model), per
  record: what decoding, validation, the request, decisions, metrics and the partial-batch response cost.
  Alongside, the container call alone on the same 1,000 records, so the two add up to the throughput.
- **end to end, locally**: records put on the Kinesis stream of the deployed synthesized stacks, the event source
  mapping polled on the simulated clock, the scorer run, the endpoint hosted in the emulation, decisions written
  to S3; decisions per second of wall time from the first put to the last decision. This measures the local
  emulation (moto included), not AWS: Lambda on AWS runs shards in parallel, the emulation one batch at a time.
"""

from __future__ import annotations

import base64
import gc
import importlib.util
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from benchmarks.serving_model import TrainedModel, endpoint_model_dir, start_container, train_small_model
from fraud_core.simulator import simulate

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1_000  # the scoring mapping's largest batch in any profile, one endpoint request
REPEATS = 15
E2E_TRANSACTIONS = 20_000
OMP_THREADS = 1


class _Runtime:
    """sagemaker-runtime answered by a callable (body -> response bytes)."""

    def __init__(self, answer: Callable[[bytes], bytes]) -> None:
        self.answer = answer

    def invoke_endpoint(self, EndpointName: str, Body: bytes, ContentType: str) -> dict[str, Any]:  # noqa: N803
        return {"Body": io.BytesIO(self.answer(Body)), "InvokedProductionVariant": "AllTraffic"}


class _Sink:
    """S3 and SQS clients that keep what they are sent, as cheaply as possible."""

    def __init__(self) -> None:
        self.objects = 0
        self.letters = 0

    def put_object(self, **kwargs: Any) -> None:
        self.objects += 1

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.letters += len(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "scorer", 1024, "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:scorer"


def _load_handler() -> Any:
    os.environ.update({"ENDPOINT_NAME": "bench", "DECISIONS_BUCKET": "bench", "DEAD_LETTER_QUEUE_URL": "bench",
                       "POWERTOOLS_METRICS_NAMESPACE": "Bench", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    spec = importlib.util.spec_from_file_location("bench_scoring_handler", ROOT / "lambdas" / "scoring" / "handler.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["bench_scoring_handler"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def kinesis_event(payloads: list[bytes], first_sequence: int = 10**20) -> dict[str, Any]:
    """A Lambda event for a Kinesis batch, as the event source mapping builds it."""
    return {"Records": [{"kinesis": {"data": base64.b64encode(p).decode(), "sequenceNumber": str(first_sequence + i),
                                     "partitionKey": "k", "approximateArrivalTimestamp": time.time(),
                                     "kinesisSchemaVersion": "1.0"},
                         "eventID": f"shardId-000000000000:{first_sequence + i}", "eventSource": "aws:kinesis",
                         "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/transactions"}
                        for i, p in enumerate(payloads)]}


def _median_seconds(call: Callable[[], Any]) -> tuple[float, float, float]:
    call()  # warm-up
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def _figure(name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"figure": name, "value": value, "unit": unit, "provenance": "measured-local", **extra}


def _handler_figures(tmp: Path, trained: TrainedModel) -> list[dict[str, Any]]:
    container = start_container(endpoint_model_dir(trained, tmp / "endpoint" / "model"), tmp / "endpoint")
    payloads = simulate(BATCH, seed=11).encoded()
    event = kinesis_event(payloads)
    request = json.dumps({"instances": [json.loads(p) for p in payloads]}).encode()

    def model(body: bytes) -> bytes:
        response = container.invoke(body, "application/json", "application/json")
        assert response.status == 200, response.detail
        return response.body

    canned = model(request)
    handler, sink = _load_handler(), _Sink()
    handler._clients.update({"s3": sink, "sqs": sink})
    base = {"batch": BATCH, "repeats": REPEATS, "omp_threads": OMP_THREADS, "model_trees": trained.best_iteration}
    # The model's objects are long-lived, as in an endpoint process: keep them out of the collector's scans, or
    # every collection a batch's allocations trigger walks the model too (the Lambda process never holds it).
    gc.collect()
    gc.freeze()
    with threadpool_limits(OMP_THREADS):
        handler._clients["sagemaker-runtime"] = _Runtime(model)
        with_model, lo, hi = _median_seconds(lambda: handler.handler(event, _Context()))
        handler._clients["sagemaker-runtime"] = _Runtime(lambda body: canned)
        overhead, o_lo, o_hi = _median_seconds(lambda: handler.handler(event, _Context()))
        model_only, m_lo, m_hi = _median_seconds(lambda: model(request))
    assert sink.objects > 0, "the handler wrote its decisions"
    return [
        _figure("scoring_handler_throughput", round(BATCH / with_model), "records/s",
                spread=f"{BATCH / hi:,.0f}..{BATCH / lo:,.0f}", **base),
        _figure("scoring_handler_overhead_per_record", round(overhead / BATCH * 1e6, 1), "us",
                spread=f"{o_lo / BATCH * 1e6:.1f}..{o_hi / BATCH * 1e6:.1f}", **base),
        _figure("scoring_model_call_per_record", round(model_only / BATCH * 1e6, 1), "us",
                spread=f"{m_lo / BATCH * 1e6:.1f}..{m_hi / BATCH * 1e6:.1f}", **base),
    ]


def _end_to_end(tmp: Path, trained: TrainedModel) -> list[dict[str, Any]]:
    from benchmarks.local_serving import Serving
    from local_aws.cloudformation.deploy import deploy_assembly
    from local_aws.runtime import local_aws
    from mlops_demo.producer import put_all
    from mlops_demo.synth import synthesize

    assembly = synthesize("sandbox", tmp / "cdk.out")
    template = json.loads(next(assembly.glob("*TrainingPipeline*.template.json")).read_text())
    with local_aws(workdir=tmp / "aws") as aws:
        stacks = {s.artifact_id: s for s in deploy_assembly(aws, assembly)}
        serving = Serving(aws, stacks, template, tmp, trained.model_dir)
        serving.serve("bench-model")
        batch = simulate(E2E_TRANSACTIONS, seed=13, start=aws.clock.now(), days=1)
        stream = stacks["DataFoundation"].outputs["TransactionsStreamName"]
        bucket = stacks["DataFoundation"].outputs["DecisionsBucketName"]
        keys = [f"C{c:07d}" for c in batch.customer_idx.tolist()]
        t = time.perf_counter()
        sent = put_all(aws.client("kinesis"), stream, list(zip(keys, batch.encoded(), strict=True)))
        put_s = time.perf_counter() - t
        decided = 0
        while decided < sent.sent and time.perf_counter() - t < 600:
            aws.clock.advance(30)
            decided = _count_decisions(aws.client("s3"), bucket)
        wall = time.perf_counter() - t
    base = {"transactions": E2E_TRANSACTIONS, "profile": "sandbox", "put_s": round(put_s, 2)}
    return [_figure("scoring_end_to_end_local", round(decided / wall), "records/s", decided=decided, **base)]


def _count_decisions(s3: Any, bucket: str) -> int:
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="decisions/"):
        for obj in page.get("Contents", []):
            n += s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().count(b"\n")
    return n


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        trained = train_small_model(Path(tmp) / "train")
        return _handler_figures(Path(tmp), trained) + _end_to_end(Path(tmp), trained)


if __name__ == "__main__":
    for figure in run():
        print(json.dumps(figure), flush=True)
