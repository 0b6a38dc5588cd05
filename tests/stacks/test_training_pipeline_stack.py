"""The training stack as AWS will run it: images per region, KMS grants, IAM scopes, job names, the package.

Each test pins one behaviour a real deploy depends on (issue 6's findings), on the session's synthesized templates
(tests/conftest.py); the job-name test runs the synthesized naming expressions in moto's interpreter.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import aws_cdk as cdk
import pytest
from deployability import Assembly, state_machines

from stacks.app_builder import build_app
from stacks.constructs.sagemaker_job import SAGEMAKER_NAME, job_name
from stacks.naming import LOG_GROUP_PREFIXES, SAGEMAKER_NAME_MAX
from stacks.sklearn_images import ACCOUNTS, INFERENCE_TAG, TRAINING_TAG, SklearnImages, UnsupportedRegionError

PROFILES = ("sandbox", "prod")
STACK = "TrainingPipeline"
# States the local AWS tests, the demo and runbooks name: a refactor must not rename them.
STABLE_STATES = {
    "AsOfGiven?", "UseGivenAsOf", "UseStartTimeAsOf", "Preprocess", "WaitPreprocess", "DescribePreprocess",
    "PreprocessFinished?", "DescribePreprocessFailure", "PreprocessJobStopped", "PreprocessDone", "Train",
    "WaitTrain", "DescribeTrain", "TrainFinished?", "DescribeTrainFailure", "TrainJobStopped", "TrainDone",
    "FindChampion", "ChampionExists?", "DescribeChampion", "PreprocessInputsWithChampion",
    "PreprocessInputsWithoutChampion", "PreprocessInputs", "ChampionToCompare?", "InputsWithChampion",
    "InputsWithoutChampion",
    "EvaluationInputs", "Evaluate", "WaitEvaluate", "DescribeEvaluate", "EvaluateFinished?",
    "DescribeEvaluateFailure", "EvaluateJobStopped", "EvaluateDone", "ApplyQualityGate", "Register",
    "NotifyRegistered", "Done", "NotifyFailure", "SummarizeFailure", "PipelineFailed"}


@pytest.fixture(scope="module")
def resolved(templates: dict[str, dict[str, dict]]) -> dict[str, Assembly]:
    return {p: Assembly(templates[p]) for p in PROFILES}


def _definition(resolved: dict[str, Assembly], profile: str) -> dict[str, Any]:
    (definition,) = [d for stack, _, d in state_machines(resolved[profile]) if stack == "TrainingPipeline"]
    return definition


def _resources(template: dict, cfn_type: str) -> dict[str, dict]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == cfn_type}


def _policy_statements(assembly: Assembly, stack: str, role_prefix: str) -> list[dict]:
    template = assembly.templates[stack]
    return [s for p in _resources(template, "AWS::IAM::Policy").values()
            if any(r["Ref"].startswith(role_prefix) for r in p["Properties"]["Roles"])
            for s in assembly.resolve(p["Properties"]["PolicyDocument"], stack)["Statement"]]


@pytest.mark.parametrize("profile", PROFILES)
def test_state_names_are_those_the_local_aws_and_the_runbook_use(resolved: dict[str, Assembly], profile: str) -> None:
    assert set(_definition(resolved, profile)["States"]) == STABLE_STATES


# --- finding 1: volume keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_job_role_may_create_grants_on_the_data_key_for_aws_resources_only(resolved: dict[str, Assembly],
                                                                           profile: str) -> None:
    assembly = resolved[profile]
    definition = _definition(resolved, profile)
    keys = {definition["States"][s]["Parameters"][r]["VolumeKmsKeyId"] if r == "ResourceConfig" else
            definition["States"][s]["Parameters"][r]["ClusterConfig"]["VolumeKmsKeyId"]
            for s, r in (("Preprocess", "ProcessingResources"), ("Evaluate", "ProcessingResources"),
                         ("Train", "ResourceConfig"))}
    (key,) = keys
    grants = [s for s in _policy_statements(assembly, STACK, "SageMakerJobRole") if s["Action"] == "kms:CreateGrant"]
    assert grants == [{"Sid": "SageMakerVolumeKeyGrants", "Effect": "Allow", "Action": "kms:CreateGrant",
                       "Resource": key, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]


# --- finding 2: images and regions --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_image_map_is_the_published_table_and_other_regions_are_refused(templates: dict[str, dict[str, dict]],
                                                                        profile: str) -> None:
    template = templates[profile][STACK]
    (mapping,) = template["Mappings"].values()
    assert {r: v["account"] for r, v in mapping.items()} == dict(ACCOUNTS)
    assert len(ACCOUNTS) >= 29 and "ap-southeast-4" in ACCOUNTS and "cn-north-1" not in ACCOUNTS
    (rule,) = [r for name, r in template["Rules"].items() if name.startswith("SklearnImageSupportedRegion")]
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Contains": [sorted(ACCOUNTS), {"Ref": "AWS::Region"}]}
    assert "not published in this region" in assertion["AssertDescription"]


def test_synth_fails_clearly_for_a_target_region_without_the_images(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_DEFAULT_REGION", "us-gov-west-1")
    with pytest.raises(UnsupportedRegionError, match=r"region 'us-gov-west-1': .*Supported regions: af-south-1"):
        build_app(cdk.App(context={"profile": "sandbox"}), nag=False)
    app = cdk.App()
    stack = cdk.Stack(app, "Pinned", env=cdk.Environment(region="mx-central-1"))
    with pytest.raises(UnsupportedRegionError, match="mx-central-1"):
        SklearnImages(stack, "Images")


@pytest.mark.parametrize("profile", PROFILES)
def test_jobs_run_the_training_image_and_the_package_names_the_published_inference_image(
        resolved: dict[str, Assembly], profile: str) -> None:
    states = _definition(resolved, profile)["States"]
    registry = f"{ACCOUNTS['ap-southeast-2']}.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-scikit-learn"
    for name in ("Preprocess", "Evaluate"):
        assert states[name]["Parameters"]["AppSpecification"]["ImageUri"] == f"{registry}:{TRAINING_TAG}"
    assert states["Train"]["Parameters"]["AlgorithmSpecification"]["TrainingImage"] == f"{registry}:{TRAINING_TAG}"
    (container,) = states["Register"]["Parameters"]["InferenceSpecification"]["Containers"]
    assert container["Image"] == f"{registry}:{INFERENCE_TAG}"
    assert (TRAINING_TAG, INFERENCE_TAG) == ("1.4-2-cpu-py3", "1.4-2-py312-cpu-py3")  # same scikit-learn, 1.4.2


# --- finding 3: ListModelPackages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_find_champion_may_list_packages(resolved: dict[str, Assembly], profile: str) -> None:
    statements = _policy_statements(resolved[profile], STACK, "TrainingPipelineRole")
    (listing,) = [s for s in statements if "sagemaker:listModelPackages" in s["Action"]]
    assert listing["Resource"] == "*"


# --- finding 4: job names -----------------------------------------------------------------------------------------


EXECUTION_NAMES = ["first-run", "retrain_2026_06_01", "a" * 80, "b" * 79 + "_", "nightly.2026-06-01",
                   "ünïcödé-lauf", "再訓練", "x"]


def test_job_names_are_valid_for_any_execution_name_in_the_local_interpreter(resolved: dict[str, Assembly]) -> None:
    """The synthesized run-id and job-name expressions, run by moto's interpreter (as the local AWS patches it)."""
    from local_aws.runtime import local_aws

    states = _definition(resolved, "sandbox")["States"]
    run_id = states["UseStartTimeAsOf"]["Parameters"]
    names = {step: states[step]["Parameters"][member]
             for step, member in (("Preprocess", "ProcessingJobName.$"), ("Train", "TrainingJobName.$"),
                                  ("Evaluate", "ProcessingJobName.$"))}
    cause = states["DescribePreprocessFailure"]["ResultSelector"]["Cause.$"]
    probe = {"StartAt": "RunId", "States": {
        "RunId": {"Type": "Pass", "ResultPath": "$.run", "Parameters": run_id, "Next": "Names"},
        "Names": {"Type": "Pass", "Parameters": {
            **{f"{step}.$": expr for step, expr in names.items()},
            "cause.$": cause.replace("$.ProcessingJobName", "$.run.id").replace("$.FailureReason", "$.run.id")},
                  "End": True}}}
    with local_aws() as aws:
        sfn = aws.client("stepfunctions")
        arn = sfn.create_state_machine(name="job-names", definition=json.dumps(probe),
                                       roleArn="arn:aws:iam::123456789012:role/probe")["stateMachineArn"]
        outputs = {}
        for name in EXECUTION_NAMES:
            execution = sfn.start_execution(stateMachineArn=arn, name=name)["executionArn"]
            for _ in range(500):
                described = sfn.describe_execution(executionArn=execution)
                if described["status"] != "RUNNING":
                    break
                time.sleep(0.01)
            assert described["status"] == "SUCCEEDED", (name, described.get("cause"))
            outputs[name] = json.loads(described["output"])
    run_ids = set()
    for name, out in outputs.items():
        for step in names:
            assert SAGEMAKER_NAME.fullmatch(out[step]) and len(out[step]) <= SAGEMAKER_NAME_MAX, (name, out[step])
        run_ids.add(out["Preprocess"].rsplit("-", 1)[0])
        assert out["cause"].startswith(f"{name}-preprocess: "), "the cause names the run and step readably"
    assert len(run_ids) == len(EXECUTION_NAMES), "each execution gets its own job names"


def test_a_job_suffix_that_would_break_the_name_pattern_fails_synthesis() -> None:
    assert job_name("evaluate")
    with pytest.raises(ValueError, match="at most 63 characters"):
        job_name("x" * 31)
    with pytest.raises(ValueError, match="must match"):
        job_name("bad_suffix")


# --- finding 5: encrypted logs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_every_log_group_is_encrypted_with_the_data_key_that_lets_logs_use_it(resolved: dict[str, Assembly],
                                                                            profile: str) -> None:
    assembly = resolved[profile]
    data = assembly.templates["DataFoundation"]
    ((key_id, key),) = _resources(data, "AWS::KMS::Key").items()
    key_arn = assembly.resolve({"Fn::GetAtt": [key_id, "Arn"]}, "DataFoundation")
    (logs_statement,) = [s for s in assembly.resolve(key["Properties"]["KeyPolicy"], "DataFoundation")["Statement"]
                         if s.get("Sid") == "AllowCloudWatchLogsForProjectLogGroups"]
    assert logs_statement["Principal"] == {"Service": "logs.ap-southeast-2.amazonaws.com"}
    patterns = logs_statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert len(patterns) == len(LOG_GROUP_PREFIXES)
    groups = [(stack, g) for stack, t in assembly.templates.items()
              for g in _resources(t, "AWS::Logs::LogGroup").values()]
    # training, deploy, drift- and quality-monitor state machines; quality gate, deploy helper, scorer, capture and
    # quality windows, monitor metrics and retrain trigger functions; Firehose delivery errors
    assert len(groups) == 12
    for stack, group in groups:
        props = assembly.resolve(group["Properties"], stack)
        assert props.get("KmsKeyId") == key_arn, props
        group_arn = f"arn:aws:logs:ap-southeast-2:123456789012:log-group:{props['LogGroupName']}"
        assert any(re.fullmatch(p.replace("*", ".*"), group_arn) for p in patterns), (group_arn, patterns)


# --- finding 6: a self-contained package ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_the_registered_package_depends_on_no_cdk_asset(resolved: dict[str, Assembly], profile: str) -> None:
    register = _definition(resolved, profile)["States"]["Register"]["Parameters"]
    (container,) = register["InferenceSpecification"]["Containers"]
    # The code directory is on PYTHONPATH, so the container imports the handler without its start-up
    # `pip install .` (which needs internet access and fails under network isolation).
    assert container["Environment"] == {"SAGEMAKER_PROGRAM": "inference.py", "PYTHONPATH": "/opt/ml/model/code",
                                        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                                        "SAGEMAKER_REGION": "ap-southeast-2", "OMP_NUM_THREADS": "1"}
    assert "cdk-hnb659fds-assets" not in json.dumps(register["InferenceSpecification"])
    assert container["ModelDataUrl.$"].startswith("States.Format('s3://mlops-demo-")
