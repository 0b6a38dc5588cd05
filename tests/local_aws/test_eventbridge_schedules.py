"""EventBridge scheduled rules on the local AWS: rate and cron expressions fire on the simulated clock, deliver
AWS's "Scheduled Event" to their targets, stop when disabled or deleted, and invalid expressions are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from local_aws.clock import SimulatedClock
from local_aws.events.schedules import ScheduleExpressionError, parse_schedule
from local_aws.runtime import LocalAws, local_aws

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
ROLE = "arn:aws:iam::123456789012:role/r"
MONDAY = datetime(2024, 3, 4, tzinfo=UTC)  # 00:00 UTC on a Monday
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/{}"


@pytest.fixture()
def aws() -> Iterator[LocalAws]:
    with local_aws(clock=SimulatedClock(MONDAY)) as aws:
        yield aws


def _scheduled_machine(aws: LocalAws, expression: str, **target: str) -> str:
    arn = aws.client("stepfunctions").create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    events = aws.client("events")
    events.put_rule(Name="r", ScheduleExpression=expression)
    events.put_targets(Rule="r", Targets=[{"Id": "sfn", "Arn": arn, "RoleArn": ROLE, **target}])
    return arn


def _executions(aws: LocalAws, arn: str) -> list[tuple[datetime, dict]]:
    """(start date, input) of every execution, oldest first."""
    sfn = aws.client("stepfunctions")
    found = [(e["startDate"], json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]))
             for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
    return sorted(found, key=lambda pair: pair[0])


def test_a_rate_rule_starts_the_state_machine_one_period_after_creation_then_every_period(aws) -> None:
    arn = _scheduled_machine(aws, "rate(5 minutes)")
    aws.clock.advance(299)
    assert _executions(aws, arn) == [], "the first firing is one period after the rule is created"
    aws.clock.advance(1801)  # to 35 min
    starts = [start for start, _ in _executions(aws, arn)]
    assert starts == [MONDAY + timedelta(minutes=m) for m in range(5, 36, 5)]
    assert [event["time"] for _, event in _executions(aws, arn)] == \
        [f"2024-03-04T00:{m:02d}:00Z" for m in range(5, 36, 5)]
    assert [d.outcome for d in aws.events.deliveries] == ["delivered"] * 7


def test_the_scheduled_event_has_aws_shape_and_target_input_options_apply(aws) -> None:
    arn = _scheduled_machine(aws, "rate(1 hour)")
    aws.client("events").put_targets(Rule="r", Targets=[
        {"Id": "const", "Arn": arn, "RoleArn": ROLE, "Input": '{"run": "scheduled"}'},
        {"Id": "path", "Arn": arn, "RoleArn": ROLE, "InputPath": "$.resources"},
        {"Id": "tmpl", "Arn": arn, "RoleArn": ROLE,
         "InputTransformer": {"InputPathsMap": {"t": "$.time"}, "InputTemplate": '{"at": "<t>"}'}}])
    aws.clock.advance(3600)
    inputs = [event for _, event in _executions(aws, arn)]
    (whole,) = [i for i in inputs if isinstance(i, dict) and "detail-type" in i]
    assert set(whole) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert {k: v for k, v in whole.items() if k != "id"} == {
        "version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
        "time": "2024-03-04T01:00:00Z", "region": "us-east-1", "resources": [RULE_ARN.format("r")], "detail": {}}
    assert len(whole["id"]) == 36
    others = [i for i in inputs if i is not whole]
    assert sorted(map(json.dumps, others)) == sorted(map(json.dumps, [
        {"run": "scheduled"}, [RULE_ARN.format("r")], {"at": "2024-03-04T01:00:00Z"}]))


def test_a_cron_rule_fires_at_its_utc_times_over_a_simulated_day(aws) -> None:
    arn = _scheduled_machine(aws, "cron(0/20 9-10 * * ? *)")
    aws.clock.advance(86_400)
    assert [start for start, _ in _executions(aws, arn)] == [
        MONDAY.replace(hour=h, minute=m) for h in (9, 10) for m in (0, 20, 40)]
    assert aws.schedules.next_times() == {RULE_ARN.format("r"): MONDAY + timedelta(days=1, hours=9)}


def test_cron_days_of_week_count_from_sunday_as_in_eventbridge(aws) -> None:
    arn = _scheduled_machine(aws, "cron(30 12 ? * 1,7 *)")  # 1 = SUN, 7 = SAT
    aws.clock.advance(7 * 86_400)
    assert [start for start, _ in _executions(aws, arn)] == [
        datetime(2024, 3, 9, 12, 30, tzinfo=UTC), datetime(2024, 3, 10, 12, 30, tzinfo=UTC)]


def test_disabling_stops_a_rule_enabling_restarts_its_rate_and_deleting_ends_it(aws) -> None:
    arn = _scheduled_machine(aws, "rate(1 minute)")
    events = aws.client("events")
    aws.clock.advance(180)
    events.disable_rule(Name="r")
    aws.clock.advance(600)
    assert len(_executions(aws, arn)) == 3, "a disabled rule does not fire"
    assert aws.schedules.next_times() == {}
    aws.clock.advance(30)  # re-enabled at 13:30: the rate starts again from there
    events.enable_rule(Name="r")
    aws.clock.advance(120)
    assert [start for start, _ in _executions(aws, arn)][3:] == [
        MONDAY + timedelta(minutes=14, seconds=30), MONDAY + timedelta(minutes=15, seconds=30)]
    events.remove_targets(Rule="r", Ids=["sfn"])
    events.delete_rule(Name="r")
    aws.clock.advance(600)
    assert len(_executions(aws, arn)) == 5 and aws.schedules.next_times() == {}
    assert not [t for t in aws.clock.pending() if t.name.startswith("eventbridge schedule")]


def test_an_unsupported_or_invalid_expression_is_refused_naming_the_field(aws) -> None:
    events = aws.client("events")
    for expression, field in [("cron(0 10 ? * 3#1,6#3 *)", "day-of-week"), ("cron(0 25 * * ? *)", "hours"),
                              ("cron(0 10 ? * MON/2 *)", "day-of-week"), ("cron(0 10 L-2 * ? *)", "day-of-month"),
                              ("rate(5 minute)", "rate unit")]:
        with pytest.raises(ClientError) as raised:
            events.put_rule(Name="bad", ScheduleExpression=expression)
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert field in raised.value.response["Error"]["Message"], expression
    assert events.list_rules()["Rules"] == [], "nothing was stored"
    with pytest.raises(ScheduleExpressionError) as error:
        parse_schedule("cron(0 10 * * * *)")
    assert error.value.field == "day-of-month/day-of-week"


@pytest.mark.parametrize(("expression", "expected"), [
    ("cron(0 0 L * ? *)", ["2024-03-31", "2024-04-30"]),          # last day of the month
    ("cron(0 0 LW * ? *)", ["2024-03-29", "2024-04-30"]),         # its last weekday (31 March 2024 is a Sunday)
    ("cron(0 0 1W * ? *)", ["2024-04-01", "2024-05-01"]),         # weekday nearest the 1st, within the month
    ("cron(0 0 15W * ? *)", ["2024-03-15", "2024-04-15"]),
    ("cron(0 0 ? * 6L *)", ["2024-03-29", "2024-04-26"]),         # last Friday
    ("cron(0 0 ? * 3#2 *)", ["2024-03-12", "2024-04-09"]),        # second Tuesday
    ("cron(0 0 1 JAN,jul ? 2024-2025)", ["2024-07-01", "2025-01-01"]),
    ("cron(0 0 29 2 ? *)", ["2028-02-29", "2032-02-29"]),
])
def test_cron_wildcards_follow_the_eventbridge_reference(expression: str, expected: list[str]) -> None:
    schedule = parse_schedule(expression)
    first = schedule.first_after(MONDAY + timedelta(days=1))
    assert first is not None
    second = schedule.next_after(first)
    assert [first.date().isoformat(), second.date().isoformat() if second else None] == expected


def test_a_cron_expression_with_no_time_left_never_fires() -> None:
    assert parse_schedule("cron(0 0 1 1 ? 1999)").first_after(MONDAY) is None
    assert parse_schedule("cron(0 0 31 2 ? *)").first_after(MONDAY) is None


def test_a_rule_deployed_by_cloudformation_fires_until_its_stack_is_deleted(aws) -> None:
    arn = aws.client("stepfunctions").create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    weekly = {"ScheduleExpression": "rate(7 days)", "State": "ENABLED",
              "Targets": [{"Id": "t", "Arn": arn, "RoleArn": ROLE}]}
    template = {"Resources": {"Weekly": {"Type": "AWS::Events::Rule", "Properties": weekly}}}
    cloudformation = aws.client("cloudformation")
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps(template))
    aws.clock.advance(7 * 86_400)
    assert [start for start, _ in _executions(aws, arn)] == [MONDAY + timedelta(days=7)]
    cloudformation.delete_stack(StackName="s")
    aws.clock.advance(7 * 86_400)
    assert len(_executions(aws, arn)) == 1 and aws.schedules.next_times() == {}


def test_a_schedule_only_rule_matches_no_bus_event(aws) -> None:
    arn = _scheduled_machine(aws, "rate(1 hour)")
    aws.client("events").put_events(Entries=[{"Source": "aws.sagemaker", "DetailType": "Anything", "Detail": "{}"}])
    aws.clock.advance(60)
    assert _executions(aws, arn) == []
