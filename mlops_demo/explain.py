"""`mlops-demo explain <transaction id>`: everything the system knows about one scored transaction.

Its decision (score, threshold, model version, variant: the scorer's decisions bucket), the input the endpoint
captured, the registered model package that scored it, its label once one arrived, and the features that drove
its score (fraud_core.explain: occlusion against the model's own training baseline).

The lookups scan the buckets' objects for the id, which suits a sandbox or the local AWS. At production volume the
same questions go to Athena over the partitioned decisions (decisions/date=.../) and capture (by hour) instead.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraud_core.capture import read_capture
from fraud_core.explain import Explanation, explain_record
from fraud_core.model_artifact import load_model_dir
from stacks.naming import bucket_name, resource_name

Client = Callable[[str], Any]


@dataclass
class TransactionStory:
    transaction_id: str
    decision: dict[str, Any] | None = None
    captured: dict[str, Any] | None = None
    label: dict[str, Any] | None = None
    package_arn: str = ""
    explanation: Explanation | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self, label_maturity_days: int) -> list[str]:
        d = self.decision
        out = [f"transaction {self.transaction_id}"]
        if d is None:
            return [*out, "  no decision found: not scored yet, or dead-lettered (see the invalid-records queue)"]
        out.append(f"  decision {d['decision']}: score {d['score']:.4g} vs threshold {d['threshold']:.4g}, model "
                   f"{d['model_version']} on variant {d['variant']}, scored {d['scored_at']}")
        out.append(f"  model package {self.package_arn or '(not found in the registry)'}")
        out.append("  captured input: " + (json.dumps(self.captured, sort_keys=True) if self.captured
                                          else "not captured (sampling, or capture not flushed yet)"))
        out.append("  label: " + (f"{'fraud' if self.label['is_fraud'] else 'legitimate'} (available "
                                  f"{self.label['label_available_time']})" if self.label else
                                  f"not known yet (chargebacks arrive within {label_maturity_days} days)"))
        if self.explanation is not None:
            out.append(f"  why: {self.explanation.reason()}")
        out += [f"  note: {n}" for n in self.notes]
        return out


def explain_transaction(client: Client, profile: str, transaction_id: str) -> TransactionStory:
    account = client("sts").get_caller_identity()["Account"]
    region = client("s3").meta.region_name
    s3 = client("s3")

    def bucket(purpose: str) -> str:
        return bucket_name(profile, purpose, account, region)

    story = TransactionStory(transaction_id)
    needle = transaction_id.encode()
    story.decision = next((json.loads(line) for line in _lines(s3, bucket("decisions"), "decisions/", needle)), None)
    story.label = next((json.loads(line) for line in _lines(s3, bucket("labels"), "labels/", needle)), None)
    captured = read_capture(list(_lines(s3, bucket("capture"), "datacapture/", needle)))
    story.captured = next((r for r in captured.records if r.get("transaction_id") == transaction_id), None)
    if story.decision is not None:
        story.package_arn, model_url = _package(client("sagemaker"), profile, story.decision["model_version"])
        record = story.captured
        if record is None:
            story.notes.append("no captured input: the features that drove the score cannot be recomputed")
        elif model_url:
            story.explanation = explain_record(record, _load_model(s3, model_url))
    return story


def _lines(s3: Any, bucket: str, prefix: str, needle: bytes) -> Any:
    """Every line (of every object under prefix, gzip or plain) that contains `needle`."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            if needle in body:
                yield from (line for line in body.splitlines() if needle in line)


def _package(sm: Any, profile: str, model_version: str) -> tuple[str, str]:
    """(package ARN, model URL) of the registered package whose artifact the training job `model_version` made."""
    group = resource_name(profile, "fraud-models")
    for page in sm.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group):
        for summary in page["ModelPackageSummaryList"]:
            package = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            url = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
            if f"/{model_version}/" in url:
                return summary["ModelPackageArn"], url
    return "", ""


def _load_model(s3: Any, url: str) -> Any:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    target = Path(tempfile.mkdtemp(prefix="explain-"))
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        tar.extractall(target, filter="data")
    return load_model_dir(target)
