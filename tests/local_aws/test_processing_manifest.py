"""Processing job inputs on the local AWS: S3DataType ManifestFile stages exactly the objects a manifest lists, by
their keys relative to its prefix; an S3DataType the API does not define fails the job naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local_aws.runtime import LocalAws, local_aws

ROLE = "arn:aws:iam::123456789012:role/job"
# Prints every staged file under the input as "relative/path=content", sorted.
LIST_INPUT = """
import os, pathlib
root = pathlib.Path(os.environ["SM_PROCESSING_ROOT"]) / "input" / "data"
for p in sorted(x for x in root.rglob("*") if x.is_file()):
    print(f"{p.relative_to(root).as_posix()}={p.read_text()}")
"""


@pytest.fixture()
def aws() -> Iterator[LocalAws]:
    with local_aws() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="data")
        for key in ("raw/day=1/a.csv", "raw/day=2/b.csv", "raw/day=3/not-listed.csv"):
            s3.put_object(Bucket="data", Key=key, Body=key.encode())
        yield aws


def _run(aws: LocalAws, name: str, data_type: str, uri: str) -> dict:
    sm = aws.client("sagemaker")
    sm.create_processing_job(
        ProcessingJobName=name, RoleArn=ROLE,
        AppSpecification={"ImageUri": "local", "ContainerEntrypoint": ["python3", "-c", LIST_INPUT]},
        ProcessingInputs=[{"InputName": "data", "S3Input": {
            "S3Uri": uri, "LocalPath": "/opt/ml/processing/input/data", "S3DataType": data_type,
            "S3InputMode": "File"}}],
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium",
                                               "VolumeSizeInGB": 1}},
        StoppingCondition={"MaxRuntimeInSeconds": 60})
    assert aws.jobs.jobs[name].wait(30)
    aws.clock.advance(max(0.0, aws.jobs.jobs[name].ends_at - aws.clock.elapsed_seconds))
    return sm.describe_processing_job(ProcessingJobName=name)


def _manifest(aws: LocalAws, body: object) -> str:
    aws.client("s3").put_object(Bucket="data", Key="manifests/input.manifest", Body=json.dumps(body).encode())
    return "s3://data/manifests/input.manifest"


def test_a_manifest_stages_only_its_keys_under_the_local_path_by_their_relative_key(aws) -> None:
    uri = _manifest(aws, [{"prefix": "s3://data/raw/"}, "day=1/a.csv", "day=2/b.csv"])
    described = _run(aws, "manifest", "ManifestFile", uri)
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert aws.jobs.jobs["manifest"].log.splitlines() == ["day=1/a.csv=raw/day=1/a.csv", "day=2/b.csv=raw/day=2/b.csv"]


def test_an_s3_prefix_input_still_stages_everything_under_the_prefix(aws) -> None:
    described = _run(aws, "prefix", "S3Prefix", "s3://data/raw/")
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert len(aws.jobs.jobs["prefix"].log.splitlines()) == 3


@pytest.mark.parametrize(("body", "reason"), [
    (["day=1/a.csv"], 'must be a JSON array starting with {"prefix"'),
    ([{"prefix": "s3://data/raw/"}], "one or more non-empty keys"),
    ([{"prefix": "s3://data/raw/"}, "day=9/missing.csv"], "cannot read s3://data/raw/day=9/missing.csv"),
    ([{"prefix": "s3://data/raw/"}, "../escape.csv"], "outside the input's LocalPath"),
])
def test_a_bad_manifest_fails_the_job_saying_what_is_wrong(aws, body: object, reason: str) -> None:
    described = _run(aws, "bad-manifest", "ManifestFile", _manifest(aws, body))
    assert described["ProcessingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError: ") and reason in described["FailureReason"]


def test_an_unknown_s3_data_type_fails_the_job_naming_the_field(aws) -> None:
    described = _run(aws, "unknown-type", "AugmentedManifestFile", "s3://data/raw/")
    assert described["ProcessingJobStatus"] == "Failed"
    assert described["FailureReason"] == (
        "ClientError: ProcessingInputs[0] (data): S3Input.S3DataType 'AugmentedManifestFile' is not supported; "
        "valid values: ManifestFile | S3Prefix")
