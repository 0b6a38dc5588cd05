"""Physical names of every resource, in one place: stacks, handlers and the local AWS agree on them."""

from __future__ import annotations

PROJECT = "mlops-demo"
SAGEMAKER_NAME_MAX = 63  # jobs, models, endpoint configs: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
RUN_ID_LENGTH = 32  # the hex MD5 digest the state machines name their runs' resources with

# Data buckets the data foundation stack creates; the key is also the construct id suffix.
DATA_BUCKETS = ("raw", "curated", "models", "capture", "decisions", "labels")


def stack_name(profile: str, part: str) -> str:
    return f"MlopsDemo-{profile}-{part}"


def resource_name(profile: str, suffix: str) -> str:
    return f"{PROJECT}-{profile}-{suffix}"


def bucket_name(profile: str, purpose: str, account: str, region: str) -> str:
    # Bucket names are global: account and region make them unique per sandbox.
    return f"{PROJECT}-{profile}-{purpose}-{account}-{region}"


def parameter_name(profile: str, suffix: str) -> str:
    """SSM parameter names: one hierarchy per profile, /mlops-demo/<profile>/<suffix>."""
    return f"/{PROJECT}/{profile}/{suffix}"


def arn(service: str, resource: str, *, partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


# Every log group the project creates lives under one of these prefixes (followed by resource_name(profile, ...)):
# the data key's policy lets CloudWatch Logs use the key for exactly these log groups.
LOG_GROUP_PREFIXES = ("/aws/vendedlogs/states/", "/aws/lambda/", "/aws/kinesisfirehose/")


def log_group_name(prefix: str, profile: str, suffix: str) -> str:
    if prefix not in LOG_GROUP_PREFIXES:
        raise ValueError(f"log group prefix {prefix!r} is not one the data key's policy covers: {LOG_GROUP_PREFIXES}")
    return f"{prefix}{resource_name(profile, suffix)}"


def generated_prefix(profile: str) -> str:
    """Models and endpoint configs the deploy workflow creates are named <prefix><run digest>: scoped to the
    profile, so IAM, the rollback helper and `mlops-demo teardown` touch this profile's and nothing else."""
    prefix = resource_name(profile, "")
    if len(prefix) + RUN_ID_LENGTH > SAGEMAKER_NAME_MAX:
        longest = SAGEMAKER_NAME_MAX - RUN_ID_LENGTH - len(resource_name("", ""))
        raise ValueError(f"profile {profile!r}: model and endpoint-config names {prefix}<{RUN_ID_LENGTH}-character "
                         f"digest> would exceed SageMaker's {SAGEMAKER_NAME_MAX} characters; use a profile name of at "
                         f"most {longest} characters")
    return prefix
