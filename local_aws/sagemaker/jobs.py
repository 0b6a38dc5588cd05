"""SageMaker processing and training jobs, run for real as local processes (moto only records them).

When a state machine (or anyone) calls CreateProcessingJob / CreateTrainingJob on the local AWS,
the job's real script runs here with SageMaker's container conventions:

- processing: every ProcessingInput is staged from S3 (an S3Prefix, or the objects a ManifestFile
  lists) under a local stand-in for /opt/ml/processing, the ContainerEntrypoint + ContainerArguments
  run with those paths mapped, and each ProcessingOutput is uploaded to its S3Uri when the process
  exits 0 (EndOfJob);
- training (script mode of the framework containers): the sagemaker_submit_directory tarball is
  unpacked, channels are staged under input/data/<channel>, the program runs with hyperparameters
  as `--key value` and the SM_* variables set, and model/ is uploaded as
  <S3OutputPath>/<job>/output/model.tar.gz.

Create* returns at once, as on AWS, and the job runs on a worker thread. Describe* reports
InProgress until the job has finished *and* the simulated clock has passed its measured run time; a
Describe that finds the job still running waits for it a bounded while (DESCRIBE_WAIT_S), standing
in for the minutes a real poll interval covers. The failure reason is read, as SageMaker does,
from /opt/ml/output/failure.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_aws.clock import SimulatedClock
from local_aws.faults import ApiFaults
from local_aws.logs.writer import write_log_lines

# Where SageMaker writes a job's stdout/stderr (https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html).
LOG_GROUPS = {"processing": "/aws/sagemaker/ProcessingJobs", "training": "/aws/sagemaker/TrainingJobs"}

PROCESSING_ROOT = "/opt/ml/processing"
ML_ROOT = "/opt/ml"
DESCRIBE_WAIT_S = 45.0  # real seconds one Describe may wait for a running job (API calls time out at 60 s)


@dataclass
class JobRecord:
    kind: str  # "processing" | "training"
    name: str
    final_status: str = "InProgress"
    failure_reason: str | None = None
    wall_seconds: float = 0.0
    started_at: float = 0.0  # simulated-clock seconds
    ends_at: float = 0.0
    log: str = ""
    log_stream: str = ""  # CloudWatch Logs stream in LOG_GROUPS[kind]
    log_error: str | None = None  # why the log could not be published, if it could not
    metrics: dict[str, float] = field(default_factory=dict)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def status_at(self, now: float) -> str:
        if not self.finished.is_set() or now < self.ends_at:
            return "InProgress"
        return self.final_status

    def wait(self, timeout: float) -> bool:
        return self.finished.wait(timeout)


class LocalJobRunner:
    def __init__(self, client: Callable[[str], Any], clock: SimulatedClock, workdir: Path, faults: ApiFaults,
                 python: str = sys.executable) -> None:
        self.client, self.clock, self.workdir, self.python = client, clock, workdir.resolve(), python
        self.faults = faults
        self.jobs: dict[str, JobRecord] = {}
        self.describe_wait_s = DESCRIBE_WAIT_S

    def inject_api_error(self, action: str, code: str = "ThrottlingException", message: str = "Rate exceeded",
                         times: int = 1) -> None:
        """Make the next `times` calls of `action` (e.g. CreateTrainingJob) fail as AWS would."""
        self.faults.inject(action, code, message, times)

    # --- running jobs ------------------------------------------------------------------------------
    def start(self, kind: str, name: str, spec: dict[str, Any]) -> JobRecord:
        """Register the job and run it on a worker thread; returns at once, as CreateXJob does."""
        record = JobRecord(kind, name, started_at=self.clock.elapsed_seconds)
        self.jobs[name] = record
        run: Callable[[JobRecord, dict[str, Any]], None] = (
            self._run_processing if kind == "processing" else self._run_training)
        threading.Thread(target=self._guarded, args=(run, record, spec), name=f"job-{name}", daemon=True).start()
        return record

    def _guarded(self, run: Callable[[JobRecord, dict[str, Any]], None], record: JobRecord,
                 spec: dict[str, Any]) -> None:
        try:
            run(record, spec)
        except _JobSetupError as err:
            record.final_status, record.failure_reason = "Failed", f"ClientError: {err}"
        except Exception as err:  # an emulator bug must fail the job, never hang the pipeline
            record.final_status, record.failure_reason = "Failed", f"InternalServerError: {err!r}"
        finally:
            record.ends_at = record.started_at + max(1, math.ceil(record.wall_seconds))
            try:
                self._publish_log(record)
            except Exception as err:  # a logging problem must neither hang nor fail the job
                record.log_error = repr(err)
            record.finished.set()

    def _publish_log(self, record: JobRecord) -> None:
        """The job's output as CloudWatch Logs events, where SageMaker puts them: <job>/algo-1-<epoch>."""
        started = self.clock.at(record.started_at)
        record.log_stream = f"{record.name}/algo-1-{int(started.timestamp())}"
        lines = (record.log or "").splitlines() or [f"(no output) {record.final_status}"]
        if record.failure_reason:
            lines.append(f"FailureReason: {record.failure_reason}")
        write_log_lines(self.client("logs"), LOG_GROUPS[record.kind], record.log_stream, lines,
                        int(started.timestamp() * 1000))

    def _run_processing(self, record: JobRecord, spec: dict[str, Any]) -> None:
        name = record.name
        job_dir = self._fresh_dir(name)
        root = job_dir / "processing"
        for index, item in enumerate(spec.get("processing_inputs") or []):
            if item.get("S3Input"):
                self._stage_processing_input(index, item, root)
        app = spec["app_specification"]
        command = [self._map_arg(a, root) for a in [*app.get("ContainerEntrypoint", []),
                                                     *app.get("ContainerArguments", [])]]
        outputs = (spec.get("processing_output_config") or {}).get("Outputs", [])
        for out in outputs:
            self._map(out["S3Output"]["LocalPath"], PROCESSING_ROOT, root).mkdir(parents=True, exist_ok=True)
        env = {"SM_PROCESSING_ROOT": str(root), "SM_OUTPUT_DIR": str(job_dir / "output")}
        limit = (spec.get("stopping_condition") or {}).get("MaxRuntimeInSeconds")
        self._execute(record, command, env, cwd=job_dir, timeout=limit, failure_dir=job_dir / "output")
        if record.final_status == "Completed":
            kms = (spec.get("processing_output_config") or {}).get("KmsKeyId")
            for out in outputs:
                self._upload_dir(self._map(out["S3Output"]["LocalPath"], PROCESSING_ROOT, root),
                                 out["S3Output"]["S3Uri"], kms)

    def _stage_processing_input(self, index: int, item: dict[str, Any], root: Path) -> None:
        """One ProcessingInput's S3 data under its LocalPath, by its S3DataType (ManifestFile | S3Prefix,
        https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProcessingS3Input.html)."""
        s3_input = item["S3Input"]
        dest = self._map(s3_input["LocalPath"], PROCESSING_ROOT, root)
        data_type = s3_input.get("S3DataType")
        if data_type == "S3Prefix":
            self._download_prefix(s3_input["S3Uri"], dest)
        elif data_type == "ManifestFile":
            self._download_manifest(s3_input["S3Uri"], dest)
        else:
            raise _JobSetupError(f"ProcessingInputs[{index}] ({item.get('InputName', 'unnamed')}): "
                                 f"S3Input.S3DataType {data_type!r} is not supported; valid values: "
                                 "ManifestFile | S3Prefix")

    def _run_training(self, record: JobRecord, spec: dict[str, Any]) -> None:
        name = record.name
        job_dir = self._fresh_dir(name)
        ml = job_dir / "ml"
        hps = {k: _json_value(v) for k, v in (spec.get("hyper_parameters") or {}).items()}
        submit = hps.pop("sagemaker_submit_directory", None)
        program = hps.pop("sagemaker_program", None)
        if not submit or not program:
            raise _JobSetupError("script mode needs sagemaker_submit_directory and sagemaker_program")
        hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        code = ml / "code"
        code.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(self._get(submit))) as tar:
            tar.extractall(code, filter="data")
        channels = []
        for channel in spec.get("input_data_config") or []:
            cname = channel["ChannelName"]
            self._download_prefix(channel["DataSource"]["S3DataSource"]["S3Uri"], ml / "input" / "data" / cname)
            channels.append(cname)
        (ml / "input" / "config").mkdir(parents=True, exist_ok=True)
        (ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hps))
        for d in ("model", "output/data"):
            (ml / d).mkdir(parents=True, exist_ok=True)
        env = {
            "SM_MODEL_DIR": str(ml / "model"), "SM_OUTPUT_DATA_DIR": str(ml / "output" / "data"),
            "SM_OUTPUT_DIR": str(ml / "output"), "SM_INPUT_DIR": str(ml / "input"),
            "SM_CHANNELS": json.dumps(channels), "SM_HPS": json.dumps(hps), "SM_CURRENT_HOST": "algo-1",
            "SM_HOSTS": '["algo-1"]', "PYTHONPATH": str(code), "TRAINING_JOB_NAME": name,
            **{f"SM_CHANNEL_{c.upper()}": str(ml / "input" / "data" / c) for c in channels},
        }
        args = [a for k, v in hps.items() for a in (f"--{k}", str(v))]
        limit = (spec.get("stopping_condition") or {}).get("MaxRuntimeInSeconds")
        self._execute(record, [self.python, str(code / program), *args], env, cwd=code, timeout=limit,
                      failure_dir=ml / "output")
        for definition in (spec.get("algorithm_specification") or {}).get("MetricDefinitions", []):
            found = re.findall(definition["Regex"], record.log)
            if found:
                record.metrics[definition["Name"]] = float(found[-1])
        if record.final_status == "Completed":
            out = spec["output_data_config"]["S3OutputPath"].rstrip("/")
            kms = spec["output_data_config"].get("KmsKeyId")
            self._put(f"{out}/{name}/output/model.tar.gz", _tar_gz(ml / "model"), kms)
            self._put(f"{out}/{name}/output/output.tar.gz", _tar_gz(ml / "output" / "data"), kms)

    def _execute(self, record: JobRecord, command: list[str], env: dict[str, str], *, cwd: Path,
                 timeout: int | None, failure_dir: Path) -> None:
        import os

        if command and command[0] in ("python3", "python"):
            command = [self.python, *command[1:]]
        failure_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        try:
            proc = subprocess.run(command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            record.wall_seconds = time.perf_counter() - started
            record.final_status, record.failure_reason = "Stopped", "MaxRuntimeExceeded"
            return
        record.wall_seconds = time.perf_counter() - started
        record.log = proc.stdout + proc.stderr
        if proc.returncode == 0:
            record.final_status = "Completed"
            return
        failure_file = failure_dir / "failure"
        reason = failure_file.read_text().strip() if failure_file.exists() else ""
        if not reason:
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            reason = lines[-1] if lines else f"exit code {proc.returncode}"
        record.final_status, record.failure_reason = "Failed", f"AlgorithmError: {reason}"[:1024]

    # --- S3 staging ----------------------------------------------------------------------------------
    def _fresh_dir(self, name: str) -> Path:
        path = self.workdir / "jobs" / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return path

    @staticmethod
    def _map(path: str, container_root: str, local_root: Path) -> Path:
        if not path.startswith(container_root):
            raise _JobSetupError(f"LocalPath {path} must be under {container_root}")
        return local_root / path[len(container_root):].lstrip("/")

    @staticmethod
    def _map_arg(arg: str, root: Path) -> str:
        return str(root) + arg[len(PROCESSING_ROOT):] if arg.startswith(PROCESSING_ROOT) else arg

    def _download_prefix(self, uri: str, dest: Path) -> None:
        bucket, prefix = _split(uri)
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        found = 0
        for page in self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                target = dest / obj["Key"][len(base):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.client("s3").get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
                found += 1
        if not found:
            raise _JobSetupError(f"No S3 objects found under S3 URL \"{uri}\" given in input data source")

    def _download_manifest(self, uri: str, dest: Path) -> None:
        """The objects a manifest lists, each under `dest` by its key relative to the manifest's prefix.

        The format is SageMaker's (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_S3DataSource.html):
        a JSON array whose first element is {"prefix": "s3://bucket/path/"} and whose other elements are keys
        that SageMaker appends to that prefix (one bucket per manifest)."""
        prefix, relative_keys = _read_manifest(uri, self._get(uri))
        for relative in relative_keys:
            target = _inside(dest, relative, uri)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._get(prefix + relative))

    def _upload_dir(self, local: Path, uri: str, kms: str | None) -> None:
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            self._put(f"{uri.rstrip('/')}/{path.relative_to(local).as_posix()}", path.read_bytes(), kms)

    def _get(self, uri: str) -> bytes:
        bucket, key = _split(uri)
        try:
            return self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as err:  # surfaced as the job's failure reason
            raise _JobSetupError(f"cannot read {uri}: {err}") from err

    def _put(self, uri: str, body: bytes, kms: str | None) -> None:
        bucket, key = _split(uri)
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms} if kms else {}
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=body, **extra)


class _JobSetupError(Exception):
    pass


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise _JobSetupError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _read_manifest(uri: str, body: bytes) -> tuple[str, list[str]]:
    """(prefix, relative keys) of a ManifestFile, or _JobSetupError saying what is wrong with it."""
    try:
        manifest = json.loads(body)
    except ValueError as err:
        raise _JobSetupError(f"manifest {uri} is not JSON: {err}") from None
    if not (isinstance(manifest, list) and manifest and isinstance(manifest[0], dict)
            and isinstance(manifest[0].get("prefix"), str)):
        raise _JobSetupError(f'manifest {uri}: must be a JSON array starting with {{"prefix": "s3://bucket/path/"}}')
    prefix, relative_keys = manifest[0]["prefix"], manifest[1:]
    if not prefix.startswith("s3://") or len(prefix) <= len("s3://"):
        raise _JobSetupError(f"manifest {uri}: prefix {prefix!r} is not an s3:// URI")
    if not relative_keys or not all(isinstance(k, str) and k for k in relative_keys):
        raise _JobSetupError(f"manifest {uri}: the prefix must be followed by one or more non-empty keys")
    return prefix, relative_keys


def _inside(dest: Path, relative: str, uri: str) -> Path:
    """Where a manifest key lands under `dest`; a key that would land outside it (absolute, `..`) is refused."""
    target = (dest / relative).resolve()
    if relative.startswith("/") or not target.is_relative_to(dest.resolve()):
        raise _JobSetupError(f"manifest {uri}: key {relative!r} would be written outside the input's LocalPath")
    return target


def _json_value(value: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def _tar_gz(directory: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            tar.add(path, arcname=path.relative_to(directory).as_posix())
    return buf.getvalue()
