"""The data foundation as CloudFormation will see it: what gets encrypted, logged, kept and deleted, per profile.

Every test reads the templates the session fixtures synthesized once (tests/conftest.py); expected values come
from fraud_core.config, so a profile change shows up here as a template change, never as a silent drift.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from fraud_core.config import ProfileConfig, load_config
from stacks.naming import DATA_BUCKETS

PROFILES = ("sandbox", "prod")
STACK = "DataFoundation"
ACCESS_LOGS = "access-logs"
VERSIONED = {"curated", "models", "decisions", "labels"}
HIVE_PREFIX = "transactions/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
# The longest commercial region names today (14 characters) and a 12-digit account id.
LONGEST_REGION = "ap-southeast-2"
ACCOUNT = "123456789012"

Resource = dict[str, Any]


# --- helpers -----------------------------------------------------------------------------------------------


def resources(template: dict, cfn_type: str) -> dict[str, Resource]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == cfn_type}


def only(template: dict, cfn_type: str) -> tuple[str, Resource]:
    found = resources(template, cfn_type)
    assert len(found) == 1, f"expected exactly one {cfn_type}, found {sorted(found)}"
    return next(iter(found.items()))


def arn_of(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def purpose_of(bucket: Resource, profile: str) -> str:
    """The bucket's purpose, read from its physical name `mlops-demo-<profile>-<purpose>-<account>-<region>`."""
    first = bucket["Properties"]["BucketName"]["Fn::Join"][1][0]
    head = f"mlops-demo-{profile}-"
    assert first.startswith(head) and first.endswith("-"), first
    return first[len(head):-1]


def buckets(template: dict, profile: str) -> dict[str, tuple[str, Resource]]:
    """purpose -> (logical id, bucket resource)."""
    return {purpose_of(r, profile): (lid, r) for lid, r in resources(template, "AWS::S3::Bucket").items()}


def expected_expiration(config: ProfileConfig) -> dict[str, int | None]:
    return {
        "raw": config.raw_retention_days,
        "curated": config.curated_retention_days,
        "models": None,  # model artifacts are lineage for registered packages: they never expire
        "capture": config.capture_retention_days,
        "decisions": config.decisions_retention_days,
        "labels": config.labels_retention_days,
        ACCESS_LOGS: config.log_retention_days,
    }


def lifecycle_rules(bucket: Resource) -> list[dict]:
    rules = bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
    assert all(rule["Status"] == "Enabled" for rule in rules), rules
    return rules


@pytest.fixture(params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def template(templates: dict[str, dict[str, dict]], profile: str) -> dict:
    return templates[profile][STACK]


@pytest.fixture
def config(profile: str) -> ProfileConfig:
    return load_config(profile)


@pytest.fixture
def key_id(template: dict) -> str:
    return only(template, "AWS::KMS::Key")[0]


# --- buckets: encryption, public access, TLS ------------------------------------------------------------------


def test_stack_has_the_six_data_buckets_and_one_access_log_bucket(template: dict, profile: str) -> None:
    assert set(buckets(template, profile)) == {*DATA_BUCKETS, ACCESS_LOGS}
    Template.from_json(template).resource_count_is("AWS::S3::Bucket", len(DATA_BUCKETS) + 1)


def test_data_buckets_use_the_stack_key_and_access_logs_use_sse_s3(template: dict, profile: str, key_id: str) -> None:
    for purpose, (_, bucket) in buckets(template, profile).items():
        sse = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert len(sse) == 1, purpose
        default = sse[0]["ServerSideEncryptionByDefault"]
        if purpose == ACCESS_LOGS:
            # S3 server access logs cannot be delivered to a bucket whose default encryption is SSE-KMS.
            assert default == {"SSEAlgorithm": "AES256"}, purpose
        else:
            assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": arn_of(key_id)}, purpose
            assert sse[0].get("BucketKeyEnabled") is True, f"{purpose}: S3 bucket keys cut KMS request cost"


def test_every_bucket_blocks_all_public_access(template: dict, profile: str) -> None:
    for purpose, (_, bucket) in buckets(template, profile).items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, purpose


def test_every_bucket_policy_denies_requests_without_tls(template: dict, profile: str) -> None:
    policies = {p["Properties"]["Bucket"]["Ref"]: p for p in resources(template, "AWS::S3::BucketPolicy").values()}
    for purpose, (lid, _) in buckets(template, profile).items():
        assert lid in policies, f"{purpose} bucket has no bucket policy"
        denies = [
            s for s in policies[lid]["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(denies) == 1, f"{purpose} bucket does not deny plain-HTTP requests"
        deny = denies[0]
        assert deny["Principal"] == {"AWS": "*"} and deny["Action"] == "s3:*", purpose
        assert arn_of(lid) in deny["Resource"], f"{purpose}: the deny must cover the bucket itself"
        assert {"Fn::Join": ["", [arn_of(lid), "/*"]]} in deny["Resource"], f"{purpose}: and every object"


# --- buckets: access logs, versioning, lifecycle ---------------------------------------------------------------


def test_data_buckets_log_to_the_access_log_bucket_under_their_own_prefix(template: dict, profile: str) -> None:
    by_purpose = buckets(template, profile)
    logs_id, logs_bucket = by_purpose.pop(ACCESS_LOGS)
    assert "LoggingConfiguration" not in logs_bucket["Properties"], "the log bucket must not log into itself"
    for purpose, (_, bucket) in by_purpose.items():
        assert bucket["Properties"]["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": logs_id},
            "LogFilePrefix": f"{purpose}/",
        }, purpose


def test_access_log_delivery_is_granted_by_bucket_policy_not_acls(template: dict, profile: str) -> None:
    by_purpose = buckets(template, profile)
    logs_id, logs_bucket = by_purpose.pop(ACCESS_LOGS)
    assert logs_bucket["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    for purpose, (lid, _) in by_purpose.items():
        Template.from_json(template).has_resource_properties("AWS::S3::BucketPolicy", {
            "Bucket": {"Ref": logs_id},
            "PolicyDocument": {"Statement": Match.array_with([{
                "Action": "s3:PutObject",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Condition": Match.object_like({"ArnLike": {"aws:SourceArn": arn_of(lid)}}),
                "Resource": {"Fn::Join": ["", [arn_of(logs_id), f"/{purpose}/*"]]},
            }])},
        })


def test_versioning_is_enabled_exactly_for_curated_models_decisions_and_labels(template: dict, profile: str) -> None:
    versioned = {
        purpose for purpose, (_, bucket) in buckets(template, profile).items()
        if bucket["Properties"].get("VersioningConfiguration") == {"Status": "Enabled"}
    }
    assert versioned == VERSIONED


def test_objects_expire_after_the_profile_retention_and_models_never(
    template: dict, profile: str, config: ProfileConfig
) -> None:
    actual = {}
    for purpose, (_, bucket) in buckets(template, profile).items():
        days = [rule["ExpirationInDays"] for rule in lifecycle_rules(bucket) if "ExpirationInDays" in rule]
        assert len(days) <= 1, f"{purpose}: conflicting expiration rules {days}"
        actual[purpose] = days[0] if days else None
    assert actual == expected_expiration(config)


def test_versioned_buckets_expire_noncurrent_versions_after_the_profile_window(
    template: dict, profile: str, config: ProfileConfig
) -> None:
    for purpose, (_, bucket) in buckets(template, profile).items():
        noncurrent = [r["NoncurrentVersionExpiration"] for r in lifecycle_rules(bucket)
                      if "NoncurrentVersionExpiration" in r]
        if purpose in VERSIONED:
            assert noncurrent == [{"NoncurrentDays": config.noncurrent_version_days}], purpose
        else:
            assert noncurrent == [], f"{purpose} is not versioned; a noncurrent rule there is dead config"


def test_every_data_bucket_aborts_incomplete_multipart_uploads(template: dict, profile: str) -> None:
    # The access-log bucket is written only by S3 log delivery, which does not use multipart uploads.
    for purpose, (_, bucket) in buckets(template, profile).items():
        if purpose == ACCESS_LOGS:
            continue
        aborts = [r["AbortIncompleteMultipartUpload"] for r in lifecycle_rules(bucket)
                  if "AbortIncompleteMultipartUpload" in r]
        assert aborts == [{"DaysAfterInitiation": 1}], purpose


# --- removal ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "policy"), [("sandbox", "Delete"), ("prod", "Retain")])
def test_data_bearing_resources_follow_the_profile_removal_policy(template: dict, profile: str, policy: str) -> None:
    data_types = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Kinesis::Stream", "AWS::Logs::LogGroup")
    checked = 0
    for cfn_type in data_types:
        for lid, resource in resources(template, cfn_type).items():
            assert resource.get("DeletionPolicy") == policy, f"{lid} ({cfn_type})"
            assert resource.get("UpdateReplacePolicy") == policy, f"{lid} ({cfn_type})"
            checked += 1
    assert checked == len(DATA_BUCKETS) + 1 + 1 + 1 + 1


def test_sandbox_empties_every_bucket_on_destroy(templates: dict[str, dict[str, dict]]) -> None:
    template = templates["sandbox"][STACK]
    auto_delete = resources(template, "Custom::S3AutoDeleteObjects").values()
    emptied = {r["Properties"]["BucketName"]["Ref"] for r in auto_delete}
    assert emptied == set(resources(template, "AWS::S3::Bucket")), "`cdk destroy` would fail on a non-empty bucket"


def test_prod_never_deletes_objects_automatically(templates: dict[str, dict[str, dict]]) -> None:
    template = templates["prod"][STACK]
    assert resources(template, "Custom::S3AutoDeleteObjects") == {}
    assert resources(template, "AWS::Lambda::Function") == {}, "no auto-delete handler in prod"


@pytest.mark.parametrize(("profile", "days"), [("sandbox", 7), ("prod", 30)])
def test_key_deletion_waiting_period(template: dict, profile: str, days: int) -> None:
    Template.from_json(template).has_resource_properties("AWS::KMS::Key", {"PendingWindowInDays": days})


# --- stream, archive, alerts, key -------------------------------------------------------------------------------


def test_transactions_stream_is_kms_encrypted_and_sized_by_config(
    template: dict, profile: str, config: ProfileConfig, key_id: str
) -> None:
    Template.from_json(template).has_resource_properties("AWS::Kinesis::Stream", {
        "Name": f"mlops-demo-{profile}-transactions",
        "ShardCount": config.kinesis_shard_count,
        "RetentionPeriodHours": config.kinesis_retention_hours,
        "StreamEncryption": {"EncryptionType": "KMS", "KeyId": arn_of(key_id)},
    })


def test_firehose_archives_the_stream_into_the_raw_bucket_by_date(
    template: dict, profile: str, config: ProfileConfig, key_id: str
) -> None:
    stream_id, _ = only(template, "AWS::Kinesis::Stream")
    raw_id, _ = buckets(template, profile)["raw"]
    _, delivery = only(template, "AWS::KinesisFirehose::DeliveryStream")
    props = delivery["Properties"]
    assert props["DeliveryStreamName"] == f"mlops-demo-{profile}-archive"
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == arn_of(stream_id)
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert s3["BucketARN"] == arn_of(raw_id)
    assert s3["Prefix"] == HIVE_PREFIX
    # With a custom prefix that uses expressions, Firehose requires the error prefix to name the error type.
    assert s3["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": arn_of(key_id)}}
    assert s3["BufferingHints"] == {
        "IntervalInSeconds": config.firehose_buffer_seconds,
        "SizeInMBs": config.firehose_buffer_mib,
    }
    assert s3["CloudWatchLoggingOptions"]["Enabled"] is True


def test_firehose_roles_can_read_the_encrypted_stream_and_write_only_the_raw_bucket(
    template: dict, profile: str, key_id: str
) -> None:
    stream_id, _ = only(template, "AWS::Kinesis::Stream")
    raw_id, _ = buckets(template, profile)["raw"]
    _, delivery = only(template, "AWS::KinesisFirehose::DeliveryStream")
    role_of = {p["Properties"]["Roles"][0]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
               for p in resources(template, "AWS::IAM::Policy").values()}
    source = role_of[delivery["Properties"]["KinesisStreamSourceConfiguration"]["RoleARN"]["Fn::GetAtt"][0]]
    dest = role_of[delivery["Properties"]["ExtendedS3DestinationConfiguration"]["RoleARN"]["Fn::GetAtt"][0]]

    def allowed(statements: list[dict], action: str) -> list:
        return [s["Resource"] for s in statements if action in s["Action"] or s["Action"] == action]

    assert allowed(source, "kinesis:GetRecords") == [arn_of(stream_id)]
    assert allowed(source, "kms:Decrypt") == [arn_of(key_id)]
    assert allowed(dest, "s3:PutObject") == [[arn_of(raw_id), {"Fn::Join": ["", [arn_of(raw_id), "/*"]]}]]
    assert arn_of(key_id) in allowed(dest, "kms:GenerateDataKey*")


def test_alerts_topic_is_encrypted_with_the_data_key(template: dict, profile: str, key_id: str) -> None:
    Template.from_json(template).has_resource_properties("AWS::SNS::Topic", {
        "TopicName": f"mlops-demo-{profile}-alerts",
        "KmsMasterKeyId": arn_of(key_id),
    })


def test_data_key_rotates_and_lets_cloudwatch_alarms_publish_to_the_encrypted_topic(template: dict) -> None:
    _, key = only(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["Properties"]["KeyPolicy"]["Statement"]
                  if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1
    assert set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# --- names ---------------------------------------------------------------------------------------------------------


def test_bucket_names_embed_profile_purpose_account_and_region(template: dict, profile: str) -> None:
    for purpose, (_, bucket) in buckets(template, profile).items():
        assert bucket["Properties"]["BucketName"] == {"Fn::Join": ["", [
            f"mlops-demo-{profile}-{purpose}-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"},
        ]]}, purpose


def test_bucket_names_fit_s3_limits_in_every_region(template: dict, profile: str) -> None:
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": LONGEST_REGION}
    for _, bucket in buckets(template, profile).values():
        parts = bucket["Properties"]["BucketName"]["Fn::Join"][1]
        name = "".join(p if isinstance(p, str) else pseudo[p["Ref"]] for p in parts)
        assert 3 <= len(name) <= 63, f"{name} is {len(name)} characters; S3 allows 63"
        assert name == name.lower() and all(c.isalnum() or c == "-" for c in name), name


def test_firehose_appends_a_newline_to_every_record(template: dict) -> None:
    """Firehose concatenates records without delimiters by default: a record put without a trailing newline
    would run into the next one. AppendDelimiterToRecord keeps the archive one JSON object per line."""
    _, delivery = only(template, "AWS::KinesisFirehose::DeliveryStream")
    processing = delivery["Properties"]["ExtendedS3DestinationConfiguration"]["ProcessingConfiguration"]
    assert processing == {"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]}


def test_the_data_key_arn_is_published_for_other_stacks_under_a_fixed_name(template: dict, profile: str,
                                                                            key_id: str) -> None:
    _, parameter = only(template, "AWS::SSM::Parameter")
    assert parameter["Properties"]["Name"] == f"/mlops-demo/{profile}/data-key-arn"
    assert parameter["Properties"]["Value"] == arn_of(key_id)
    assert "Tags" not in parameter["Properties"], "moto 5.2.5 cannot create a tagged SSM parameter from a template"
    assert all("Export" not in output for output in template.get("Outputs", {}).values()), \
        "no stack imports from the data foundation"
