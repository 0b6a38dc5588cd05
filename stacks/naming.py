"""Physical names of every resource, in one place: stacks, handlers and the local AWS agree on them."""

from __future__ import annotations

PROJECT = "mlops-demo"

# Data buckets the data foundation stack creates; the key is also the construct id suffix.
DATA_BUCKETS = ("raw", "curated", "models", "capture", "decisions", "labels")


def stack_name(profile: str, part: str) -> str:
    return f"MlopsDemo-{profile}-{part}"


def resource_name(profile: str, suffix: str) -> str:
    return f"{PROJECT}-{profile}-{suffix}"


def bucket_name(profile: str, purpose: str, account: str, region: str) -> str:
    # Bucket names are global: account and region make them unique per sandbox.
    return f"{PROJECT}-{profile}-{purpose}-{account}-{region}"
