"""Profiles as data: what a user sees when a profile or a setting is right, wrong, missing or unknown.

Covers the three ways a profile is chosen: fraud_core.config directly, CDK context (`cdk synth -c profile=...`)
and the `mlops-demo` command line.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import aws_cdk as cdk
import pytest

from fraud_core.config import PROFILES, ConfigError, ProfileConfig, load_config
from mlops_demo.cli import main
from stacks.app_builder import build_app

SETTINGS = [f.name for f in fields(ProfileConfig) if f.name != "name"]


# --- profiles ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["sandbox", "prod"])
def test_both_profiles_load_and_validate(profile: str) -> None:
    config = load_config(profile)
    assert config.name == profile
    assert config == ProfileConfig.from_mapping(profile, PROFILES[profile])
    assert set(config.to_dict()) == {"name", *SETTINGS}


def test_sandbox_is_the_default_profile() -> None:
    assert load_config().name == "sandbox"


def test_sandbox_is_destroyable_and_prod_retains_data() -> None:
    sandbox, prod = load_config("sandbox"), load_config("prod")
    assert (sandbox.removal_policy, prod.removal_policy) == ("destroy", "retain")
    assert (sandbox.deployment_strategy, prod.deployment_strategy) == ("all_at_once", "canary")
    assert prod.endpoint_instance_count > sandbox.endpoint_instance_count


def test_unknown_profile_names_profile_and_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("staging")
    message = str(err.value)
    assert err.value.key == "profile"
    assert "'profile'" in message and "sandbox" in message and "prod" in message and "'staging'" in message


# --- invalid, missing and unknown settings ------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("kinesis_shard_count", 0, "must be between 1 and 50"),
    ("kinesis_retention_hours", 23, "must be between 24 and 8760"),
    ("firehose_buffer_seconds", 901, "must be between 0 and 900"),
    ("deployment_strategy", "yolo", "must be one of all_at_once, canary"),
    ("removal_policy", "delete", "must be one of destroy, retain"),
    ("log_retention_days", 8, "must be one of CloudWatch's retention values"),
    ("kinesis_shard_count", True, "must be an integer"),
    ("raw_retention_days", 14.5, "must be an integer"),
    ("canary_traffic_percent", "10", "must be an integer"),
    ("endpoint_instance_type", "", "must be a non-empty string"),
])
def test_invalid_value_names_the_key_the_rule_and_the_value(key: str, value: Any, rule: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("sandbox", {key: value})
    message = str(err.value)
    assert err.value.key == key
    assert f"'{key}'" in message and rule in message and f"(got {value!r})" in message


def test_log_retention_error_lists_the_values_cloudwatch_accepts() -> None:
    with pytest.raises(ConfigError, match=r"log_retention_days.*\b7, 14, 30\b"):
        load_config("prod", {"log_retention_days": 8})


@pytest.mark.parametrize("key", SETTINGS)
def test_missing_value_names_the_key(key: str) -> None:
    values = {k: v for k, v in PROFILES["sandbox"].items() if k != key}
    with pytest.raises(ConfigError) as err:
        ProfileConfig.from_mapping("sandbox", values)
    assert err.value.key == key
    assert f"'{key}'" in str(err.value) and "missing" in str(err.value)


def test_unknown_override_names_it_and_lists_every_allowed_key() -> None:
    with pytest.raises(ConfigError) as err:
        load_config("sandbox", {"shard_count": 2})
    message = str(err.value)
    assert err.value.key == "shard_count"
    assert "'shard_count'" in message and "unknown key" in message
    allowed = message.split("allowed keys: ", 1)[1].split(", ")
    assert allowed == SETTINGS


def test_override_changes_only_that_setting() -> None:
    base = load_config("prod")
    changed = load_config("prod", {"kinesis_shard_count": 4})
    assert changed.kinesis_shard_count == 4
    assert {**changed.to_dict(), "kinesis_shard_count": base.kinesis_shard_count} == base.to_dict()
    assert base.with_overrides({"kinesis_shard_count": 4}) == changed


def test_with_overrides_validates_too() -> None:
    with pytest.raises(ConfigError, match="kinesis_shard_count"):
        load_config("prod").with_overrides({"kinesis_shard_count": 51})


# --- CDK context (no synth: building the construct tree is enough) -------------------------------------------------


def test_cdk_context_selects_the_profile() -> None:
    _, config = build_app(cdk.App(context={"profile": "prod"}), nag=False)
    assert config == load_config("prod")


def test_cdk_context_without_profile_uses_sandbox() -> None:
    _, config = build_app(cdk.App(), nag=False)
    assert config.name == "sandbox"


@pytest.mark.parametrize("overrides", [{"kinesis_shard_count": 3}, '{"kinesis_shard_count": 3}'],
                         ids=["object", "json-string"])
def test_cdk_context_config_overrides_single_keys(overrides: dict | str) -> None:
    # `-c config='{"kinesis_shard_count": 3}'` arrives from the CLI as a JSON string; cdk.json gives an object.
    _, config = build_app(cdk.App(context={"profile": "prod", "config": overrides}), nag=False)
    assert config == load_config("prod", {"kinesis_shard_count": 3})


def test_cdk_context_unknown_profile_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="'profile'.*sandbox, prod"):
        build_app(cdk.App(context={"profile": "nope"}), nag=False)


def test_cdk_context_invalid_override_names_the_key() -> None:
    with pytest.raises(ConfigError, match="'kinesis_shard_count'.*between 1 and 50"):
        build_app(cdk.App(context={"config": {"kinesis_shard_count": 0}}), nag=False)


# --- command line -------------------------------------------------------------------------------------------------


def test_cli_config_prints_the_profile_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--profile", "prod"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["name"] == "prod"
    assert printed == load_config("prod").to_dict()


@pytest.mark.parametrize("command", ["demo", "synth", "serve", "config"])
def test_cli_rejects_an_unknown_profile_with_usage_error(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--profile", "nope"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--profile" in err and "'nope'" in err and "sandbox, prod" in err


def test_cli_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("    ") and line.split()}
    assert {"demo", "synth", "serve", "simulate", "config"} <= listed


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
def test_malformed_config_context_is_a_config_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="config': must be a JSON object"):
        build_app(cdk.App(context={"config": raw}), nag=False)


def test_empty_profile_context_is_rejected_not_defaulted() -> None:
    with pytest.raises(ConfigError, match="profile': must not be empty"):
        build_app(cdk.App(context={"profile": ""}), nag=False)


def test_pipeline_timeout_must_outlive_its_three_jobs() -> None:
    with pytest.raises(ConfigError, match="pipeline_timeout_minutes': must exceed 3 x job_timeout_minutes"):
        load_config("sandbox", {"job_timeout_minutes": 60, "pipeline_timeout_minutes": 180})


def test_raw_data_must_be_kept_as_long_as_training_reads_it() -> None:
    with pytest.raises(ConfigError, match=r"raw_retention_days': must be >= label_maturity_days \+ training_window"):
        load_config("sandbox", {"raw_retention_days": 14})


def test_a_canary_must_be_whole_instances_and_at_most_half_the_fleet() -> None:
    with pytest.raises(ConfigError, match="canary_traffic_percent': with canary, must select at least one of the 4"):
        load_config("prod", {"canary_traffic_percent": 10})  # 0.4 of an instance
    with pytest.raises(ConfigError, match="canary_traffic_percent"):
        load_config("sandbox", {"deployment_strategy": "canary"})  # 50% of one instance
    assert load_config("prod", {"canary_traffic_percent": 50}).canary_traffic_percent == 50


def test_the_deployment_timeout_covers_provisioning_and_every_bake() -> None:
    # prod: canary = 2 traffic steps + the final wait, 3 bakes of 35 min + 20 min provisioning = 125 > 120
    with pytest.raises(ConfigError, match=r"deployment_timeout_minutes': must cover provisioning .* 3 bakes .*125 min"):
        load_config("prod", {"bake_minutes": 35})
    assert load_config("prod", {"bake_minutes": 33}).bake_minutes == 33  # 119 min


def test_the_fleet_may_not_scale_below_its_base_size() -> None:
    with pytest.raises(ConfigError, match=r"endpoint_max_instance_count': must be >= endpoint_instance_count \(4\)"):
        load_config("prod", {"endpoint_max_instance_count": 3})


def test_the_monitoring_window_must_still_be_in_the_capture_bucket() -> None:
    with pytest.raises(ConfigError, match="monitoring_window_hours': must be <= capture_retention_days x 24 "
                                          r"\(48 h\)"):
        load_config("sandbox", {"capture_retention_days": 2, "monitoring_window_hours": 72})


def test_the_monitoring_schedule_is_an_eventbridge_expression() -> None:
    with pytest.raises(ConfigError, match="monitoring_schedule': must be \"off\", rate"):
        load_config("sandbox", {"monitoring_schedule": "hourly"})
    assert load_config("sandbox", {"monitoring_schedule": "off"}).monitoring_schedule == "off"


def test_decisions_must_be_kept_until_their_labels_mature_and_the_quality_window_is_read() -> None:
    with pytest.raises(ConfigError, match=r"decisions_retention_days': must be >= label_maturity_days \+ "
                                          r"quality_window_days \(37\)"):
        load_config("sandbox", {"decisions_retention_days": 14})


def test_the_rollback_window_reaches_the_first_judgement_of_a_models_own_decisions() -> None:
    with pytest.raises(ConfigError, match=r"quality_rollback_days': must be >= label_maturity_days \+ "
                                          r"quality_window_days \(37\)"):
        load_config("sandbox", {"quality_rollback_days": 30})
