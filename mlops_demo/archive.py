"""Read back what the Firehose archive wrote to S3 (used by the demo and tests to prove no loss)."""

from __future__ import annotations

import gzip
import json
from typing import Any


def read_archive(s3: Any, bucket: str, prefix: str = "transactions/") -> tuple[list[str], list[bytes]]:
    """Return (object keys, records). Records are newline-delimited JSON, as our producer writes them."""
    keys: list[str] = []
    records: list[bytes] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            keys.append(obj["Key"])
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".gz"):
                body = gzip.decompress(body)
            records.extend(line for line in body.split(b"\n") if line)
    return keys, records


def transaction_ids(records: list[bytes]) -> list[str]:
    """IDs of the records that are JSON objects with an id (poison records are counted separately)."""
    ids = []
    for raw in records:
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("transaction_id"), str):
            ids.append(rec["transaction_id"])
    return ids
