"""A SageMaker processing job running one of the project's job scripts: its code assets and its request.

Shared by the training pipeline and the drift monitor, so both run job scripts the same way: the job source
(fraud_core + sagemaker_jobs as sourcedir.tar.gz) and the entry point are CDK assets handed to the job as
inputs, the scikit-learn image runs `python3 <entrypoint> <script> <args>`, outputs are encrypted with the data
key, and so is the instance volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Fn
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.bundling import ROOT, job_source_bundling

PROCESSING_ROOT = "/opt/ml/processing"


def s3_input(name: str, uri: Any, local: str, data_type: str = "S3Prefix") -> dict[str, Any]:
    """A ProcessingInput downloaded to /opt/ml/processing/input/<local>; data_type S3Prefix or ManifestFile."""
    return {"InputName": name, "S3Input": {"S3Uri": uri, "LocalPath": f"{PROCESSING_ROOT}/input/{local}",
                                           "S3DataType": data_type, "S3InputMode": "File"}}


def s3_output(name: str, uri: Any) -> dict[str, Any]:
    """A ProcessingOutput uploaded from /opt/ml/processing/output/<name> when the job ends."""
    return {"OutputName": name, "S3Output": {"S3Uri": uri, "LocalPath": f"{PROCESSING_ROOT}/output/{name}",
                                             "S3UploadMode": "EndOfJob"}}


@dataclass(frozen=True)
class JobCode:
    """The two code assets of a stack's processing jobs (construct ids JobSource and JobEntrypoint)."""

    source: s3_assets.Asset
    entry: s3_assets.Asset

    @classmethod
    def in_stack(cls, scope: Construct) -> JobCode:
        return cls(s3_assets.Asset(scope, "JobSource", path=str(ROOT / "sagemaker_jobs"),
                                   bundling=job_source_bundling()),
                   s3_assets.Asset(scope, "JobEntrypoint", path=str(ROOT / "sagemaker_jobs" / "job_entry.py")))

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return [s3_input("code", self.source.s3_object_url, "code"),
                s3_input("entrypoint", self.entry.s3_object_url, "entrypoint")]

    def grant_read(self, role: iam.IGrantable) -> None:
        for asset in (self.source, self.entry):
            asset.grant_read(role)

    def request(self, *, image_uri: str, script: str, args: Any, inputs: Any, outputs: list[dict[str, Any]],
                instance_type: str, key_arn: str, timeout_s: int, tags: list[dict[str, Any]]) -> dict[str, Any]:
        """CreateProcessingJob's parameters (without the job name and role) for `script` of sagemaker_jobs.

        `inputs` is the whole input list, `self.inputs` (the code) included, or a JSONPath to one built at run time.
        """
        return {
            "AppSpecification": {
                "ImageUri": image_uri,
                # The entrypoint asset's object key is content-addressed: <hash>.py.
                "ContainerEntrypoint": ["python3", Fn.join("", [f"{PROCESSING_ROOT}/input/entrypoint/",
                                                               self.entry.s3_object_key]), script],
                "ContainerArguments": args,
            },
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {"Outputs": outputs, "KmsKeyId": key_arn},
            "ProcessingResources": {"ClusterConfig": {
                "InstanceCount": 1, "InstanceType": instance_type, "VolumeSizeInGB": 20, "VolumeKmsKeyId": key_arn}},
            "StoppingCondition": {"MaxRuntimeInSeconds": timeout_s},
            "Tags": tags,
        }
