"""The scoring function's asset, exactly as synthesis builds it, imported in isolation by the Lambda runtime's
Python (3.13) with only what that runtime provides (boto3 and its dependencies) and scoring one record.

The bundle is pure Python by design (fraud_core.scoring needs only the standard library; Powertools and
typing_extensions are pure Python), so it is the same for x86_64 and arm64 and needs no platform wheels.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.bundling import LAMBDA_PACKAGES, _LambdaBundler
from stacks.constructs.bundled_function import RUNTIME

ROOT = Path(__file__).resolve().parents[2]
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
SCRIPT = r'''
import base64, io, json, os, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
os.environ.update(ENDPOINT_NAME="ep", DECISIONS_BUCKET="b", DEAD_LETTER_QUEUE_URL="q", AWS_DEFAULT_REGION="us-east-1",
                  POWERTOOLS_METRICS_NAMESPACE="t")
import handler
assert "numpy" not in sys.modules, "the scorer must not need compiled packages"
tx = json.loads(sys.argv[3])
class Runtime:
    def invoke_endpoint(self, **kw):
        body = {"predictions": [{"transaction_id": tx["transaction_id"], "score": 0.7, "is_fraud": True}],
                "threshold": 0.5, "model_version": "m"}
        return {"Body": io.BytesIO(json.dumps(body).encode()), "InvokedProductionVariant": "primary"}
class S3:
    objects = {}
    def put_object(self, Bucket, Key, Body, ContentType): S3.objects[Key] = Body
handler._clients.update({"sagemaker-runtime": Runtime(), "s3": S3(), "sqs": object()})
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "scorer", 512, "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:scorer"
event = {"Records": [{"kinesis": {"data": base64.b64encode(json.dumps(tx).encode()).decode(), "sequenceNumber": "1",
                                  "partitionKey": "k", "approximateArrivalTimestamp": 1.7e9,
                                  "kinesisSchemaVersion": "1.0"},
                      "eventID": "shardId-000000000000:1", "eventSource": "aws:kinesis", "eventSourceARN": "a"}]}
out = handler.handler(event, Context())
(body,) = S3.objects.values()
print(json.dumps({"out": out, "decision": json.loads(body)["decision"], "python": sys.version.split()[0]}))
'''


def _runtime_python() -> str | None:
    """An interpreter of the runtime's Python version that actually runs (a pyenv shim may not)."""
    version = RUNTIME.name.removeprefix("python")  # e.g. "3.13"
    candidates = [str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))]
    candidates += [found] if (found := shutil.which(f"python{version}")) else []
    for candidate in candidates:
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def _bundle(tmp_path: Path, handler: str) -> Path:
    bundle = tmp_path / f"bundle-{handler}"
    assert _LambdaBundler(ROOT / "lambdas" / handler, LAMBDA_PACKAGES).try_bundle(str(bundle))
    return bundle


def _runtime_provided(tmp_path: Path) -> Path:
    """A folder with what the Lambda Python runtime provides besides the standard library."""
    provided = tmp_path / "runtime"
    provided.mkdir()
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        assert spec and spec.submodule_search_locations or spec.origin, name
        source = Path(next(iter(spec.submodule_search_locations))) if spec.submodule_search_locations \
            else Path(spec.origin)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, provided / source.name)
    return provided


@pytest.mark.parametrize("handler", ["monitoring_window", "monitoring_metrics", "retrain_trigger", "deployment",
                                     "quality_gate"])
def test_every_function_bundle_imports_under_the_lambda_runtimes_python(tmp_path: Path, handler: str) -> None:
    python = _runtime_python()
    if python is None:
        pytest.skip(f"no {RUNTIME.name} interpreter on this machine to run the bundle with")
    bundle, provided = _bundle(tmp_path, handler), _runtime_provided(tmp_path)
    script = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import handler; "
              "assert callable(handler.handler); assert 'numpy' not in sys.modules, 'no compiled packages'")
    done = subprocess.run([python, "-I", "-c", script, str(bundle), str(provided)], capture_output=True, text=True,
                          timeout=120, env={"AWS_DEFAULT_REGION": "us-east-1"})
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_built_bundle_scores_a_record_under_the_lambda_runtimes_python(tmp_path: Path) -> None:
    python = _runtime_python()
    if python is None:
        pytest.skip(f"no {RUNTIME.name} interpreter on this machine to run the bundle with")
    bundle, provided = _bundle(tmp_path, "scoring"), _runtime_provided(tmp_path)
    from fraud_core.simulator import simulate

    tx = simulate(1, seed=2).records()[0]
    import json

    done = subprocess.run([python, "-I", "-c", SCRIPT, str(bundle), str(provided), json.dumps(tx)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["out"] == {"batchItemFailures": []} and result["decision"] == "review"
    assert result["python"].startswith(RUNTIME.name.removeprefix("python")), sys.version
