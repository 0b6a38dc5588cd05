"""Binds the SageMaker job runner into moto: CreateProcessingJob/CreateTrainingJob start real work,
Describe* reports its status on the simulated clock (moto alone marks every job Completed at once)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.sagemaker.models import SageMakerModelBackend

from local_aws.clock import SimulatedClock
from local_aws.patching import MotoPatches
from local_aws.sagemaker.jobs import JobRecord, LocalJobRunner

# kind -> (moto backend's job dict, status attribute, API action suffix)
_JOB_KINDS = {
    "processing": ("processing_jobs", "processing_job_status", "ProcessingJob"),
    "training": ("training_jobs", "training_job_status", "TrainingJob"),
}
# What a failed/stopped/completed training job shows as SecondaryStatus on AWS.
_SECONDARY = {"InProgress": "Training", "Failed": "Failed", "Stopped": "MaxRuntimeExceeded", "Completed": "Completed"}


def install(patches: MotoPatches, runner: LocalJobRunner, clock: SimulatedClock) -> None:
    def injected(action: str) -> None:
        err = runner.faults.take(action)
        if err:
            raise JsonRESTError(err.code, err.message)

    for kind, (jobs_attr, status_attr, action) in _JOB_KINDS.items():
        original_create = getattr(SageMakerModelBackend, f"create_{kind}_job")
        original_describe = getattr(SageMakerModelBackend, f"describe_{kind}_job")

        def create(self: Any, *, _kind: str = kind, _create: Any = original_create, _status: str = status_attr,
                   _action: str = action, **kwargs: Any) -> Any:
            injected(f"Create{_action}")
            problem = request_error(f"{_kind}JobName", kwargs[f"{_kind}_job_name"], kwargs.get("tags") or [])
            if problem:
                raise JsonRESTError("ValidationException", problem)
            job = _create(self, **kwargs)
            _apply_status(job, _kind, _status, runner.start(_kind, kwargs[f"{_kind}_job_name"], kwargs), clock)
            return job

        def describe(self: Any, name: str, *, _kind: str = kind, _describe: Any = original_describe,
                     _jobs: str = jobs_attr, _status: str = status_attr, _action: str = action) -> Any:
            injected(f"Describe{_action}")
            job = getattr(self, _jobs).get(name)
            if name in runner.jobs and job is not None:
                runner.jobs[name].wait(runner.describe_wait_s)
                _apply_status(job, _kind, _status, runner.jobs[name], clock)
            return _describe(self, name)

        patches.replace(SageMakerModelBackend, f"create_{kind}_job", create,
                        why=f"Create{action} runs the job's real script (local_aws.sagemaker.jobs)")
        patches.replace(SageMakerModelBackend, f"describe_{kind}_job", describe,
                        why=f"Describe{action} reports the job's status on the simulated clock")


# Name and tag rules of the SageMaker API (CreateProcessingJob / CreateTrainingJob, Tag).
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
TAG_VALUE_SYMBOLS = set("_.:/=+-@")


def request_error(member: str, name: str, tags: list[dict[str, str]]) -> str | None:
    """The validation error AWS would return for a job name or tag value, or None."""
    if not NAME_PATTERN.match(name):
        return (f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {NAME_PATTERN.pattern}")
    for i, tag in enumerate(tags, start=1):
        value = str(tag.get("Value", ""))
        bad = [c for c in value if not (unicodedata.category(c)[0] in "LNZ" or c in TAG_VALUE_SYMBOLS)]
        if bad or len(value) > 256:
            return (f"1 validation error detected: Value '{value}' at 'tags.{i}.member.value' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")
    return None


def _apply_status(job: Any, kind: str, attr: str, record: JobRecord, clock: SimulatedClock) -> None:
    status = record.status_at(clock.elapsed_seconds)
    setattr(job, attr, status)
    job.last_modified_time = clock.now().replace(tzinfo=None)
    if kind == "training":
        job.secondary_status = _SECONDARY[status]
        if status == "Completed" and record.metrics:
            job.final_metric_data_list = [{"MetricName": k, "Value": v, "Timestamp": job.creation_time}
                                          for k, v in record.metrics.items()]
    if status in ("Failed", "Stopped") and record.failure_reason:
        job.failure_reason = record.failure_reason

