"""The in-process Lambda runtime: a handler sees the simulated clock, and its sleeps cost no wall time."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from pathlib import Path

from local_aws.awslambda.runtime import InProcessLambdaRunner

HANDLER = b'''
import time

def handler(event, context):
    time.sleep(event["sleep"])  # e.g. an SDK's retry backoff
    return {"now": time.time()}
'''


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", HANDLER)
    return buf.getvalue()


def test_a_handler_reads_the_simulated_clock_and_its_sleep_returns_at_once(tmp_path: Path) -> None:
    runner = InProcessLambdaRunner(tmp_path, now=lambda: 1_800_000_000.0)
    result: dict = {}

    def invoke() -> None:
        result["out"] = runner.invoke(function_name="f", handler="index.handler", code_zip=_zip(), code_sha="abc",
                                      environment={}, event={"sleep": 3600}, arn="arn:aws:lambda:::function:f")

    thread = threading.Thread(target=invoke, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the handler's hour-long sleep ran in wall time"
    assert json.loads(result["out"].payload) == {"now": 1_800_000_000.0}
    assert time.time() > 1_700_000_000 and time.sleep.__module__ == "time", "restored after the invocation"
