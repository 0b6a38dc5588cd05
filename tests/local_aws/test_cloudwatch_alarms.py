"""CloudWatch metric-alarm evaluation in the local AWS, checked against AWS's documented behaviour.

The missing-data tables are those of "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html; the rows
marked "earlier revision" are from the page's history in github.com/awsdocs/amazon-cloudwatch-user-guide,
doc_source/AlarmThatSendsEmail.md). Datapoints are written oldest first: 0 not breaching, X breaching,
- missing; Period 5 minutes, Evaluation Periods 3, evaluation range 5, as in the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_aws.clock import SimulatedClock
from local_aws.cloudwatch.evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    AlarmDefinitionError,
    Datum,
    MetricMathError,
    StatisticSet,
    evaluate_alarm,
)
from local_aws.patching import MotoPatches, PatchError
from local_aws.runtime import LocalAws, local_aws

START = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)  # a multiple of every period used here
PERIOD = 300
KEEP = "retain current state"


def _alarm(**overrides: Any) -> dict[str, Any]:
    alarm = {"AlarmName": "errors", "Namespace": "App", "MetricName": "Errors", "Statistic": "Maximum",
             "Period": PERIOD, "EvaluationPeriods": 3, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"}
    alarm.update(overrides)
    return alarm


def _pattern(pattern: str) -> tuple[list[Datum], datetime]:
    """Datums for '0 - X - X' (oldest first) and the evaluation time right after the last period."""
    slots = pattern.split()
    data = [Datum("App", "Errors", START + timedelta(seconds=PERIOD * i + 7), 5.0 if s == "X" else 0.0)
            for i, s in enumerate(slots) if s != "-"]
    return data, START + timedelta(seconds=PERIOD * len(slots))


MODES = ("missing", "ignore", "breaching", "notBreaching")
# Data points | MISSING | IGNORE | BREACHING | NOT BREACHING: Datapoints to Alarm 3 of Evaluation Periods 3
THREE_OF_THREE = [
    ("0 - X - X", OK, OK, OK, OK),
    ("0 - - - -", OK, OK, OK, OK),
    ("- - - - -", INSUFFICIENT_DATA, KEEP, ALARM, OK),
    ("0 X X - X", ALARM, ALARM, ALARM, ALARM),
    ("- - X - -", ALARM, KEEP, ALARM, OK),  # "premature alarm state": oldest breaching is 3 periods old
    ("- - - - X", INSUFFICIENT_DATA, KEEP, ALARM, OK),  # earlier revision
    ("X - - - -", ALARM, KEEP, ALARM, OK),  # earlier revision: "the oldest evaluated data point is breaching"
]
# ... and Datapoints to Alarm 2 of Evaluation Periods 3 ("a 2 out of 3, M out of N alarm")
TWO_OF_THREE = [
    ("0 - X - X", ALARM, ALARM, ALARM, ALARM),
    ("0 0 X 0 X", ALARM, ALARM, ALARM, ALARM),
    ("0 - X - -", OK, OK, ALARM, OK),
    ("- - - - 0", OK, OK, ALARM, OK),
    ("- - X - -", ALARM, KEEP, ALARM, OK),
    ("- - - - X", INSUFFICIENT_DATA, KEEP, ALARM, OK),  # earlier revision
]
DOCUMENTED = [(m, row[0], mode, expected) for m, table in ((3, THREE_OF_THREE), (2, TWO_OF_THREE))
              for row in table for mode, expected in zip(MODES, row[1:], strict=True)]


@pytest.mark.parametrize(("datapoints_to_alarm", "pattern", "treat_missing_data", "expected"), DOCUMENTED,
                         ids=[f"{m}of3 [{p}] {t}" for m, p, t, _ in DOCUMENTED])
def test_the_documented_missing_data_tables(datapoints_to_alarm: int, pattern: str, treat_missing_data: str,
                                            expected: str) -> None:
    data, now = _pattern(pattern)
    alarm = _alarm(DatapointsToAlarm=datapoints_to_alarm, TreatMissingData=treat_missing_data)
    if expected == KEEP:
        for current in (OK, ALARM):
            result = evaluate_alarm(alarm, data, now, current_state=current)
            assert (result.state, result.changed, result.kept) == (current, False, True)
    else:
        assert evaluate_alarm(alarm, data, now, current_state=INSUFFICIENT_DATA).state == expected


def test_a_non_breaching_datapoint_leaving_the_evaluation_range_lets_breaching_missing_data_alarm() -> None:
    # "The next time this alarm is evaluated, if the data is still missing it will go to ALARM, as that
    # non-breaching data point will no longer be among the 5 most recent data points retrieved."
    data, now = _pattern("0 - - - -")
    alarm = _alarm(TreatMissingData="breaching")
    assert evaluate_alarm(alarm, data, now, OK).state == OK
    later = evaluate_alarm(alarm, data, now + timedelta(seconds=PERIOD), OK)
    assert later.state == ALARM
    assert later.reason == ("Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints "
                            "were treated as [Breaching].")


def test_the_reason_and_reason_data_read_like_aws() -> None:
    alarm = _alarm(Period=60, DatapointsToAlarm=2, Statistic="Sum")
    at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    data = [Datum("App", "Errors", at + timedelta(seconds=5), 0.5),
            Datum("App", "Errors", at + timedelta(minutes=1, seconds=5), 4.0),
            Datum("App", "Errors", at + timedelta(minutes=2, seconds=59), 5.0)]
    result = evaluate_alarm(alarm, data, at + timedelta(minutes=3, seconds=0.25), current_state=OK)
    assert (result.state, result.changed) == (ALARM, True)
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (03/12/26 10:02:00), 4.0 (03/12/26 10:01:00)] "
        "were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).")
    assert json.loads(result.reason_data_json) == {
        "version": "1.0", "queryDate": "2026-12-03T10:03:00.250+0000", "startDate": "2026-12-03T10:00:00.000+0000",
        "statistic": "Sum", "period": 60, "recentDatapoints": [0.5, 4.0, 5.0], "threshold": 1.0,
        "evaluatedDatapoints": [
            {"timestamp": "2026-12-03T10:02:00.000+0000", "sampleCount": 1.0, "value": 5.0},
            {"timestamp": "2026-12-03T10:01:00.000+0000", "sampleCount": 1.0, "value": 4.0},
            {"timestamp": "2026-12-03T10:00:00.000+0000", "sampleCount": 1.0, "value": 0.5}]}
    calm = [Datum("App", "Errors", at + timedelta(minutes=minute), 0.0) for minute in (3, 4)]
    still = evaluate_alarm(alarm, [*data, *calm[:1]], at + timedelta(minutes=4), current_state=ALARM)
    assert (still.state, still.changed) == (ALARM, False)  # 5.0 and 4.0 are still 2 of the last 3
    back = evaluate_alarm(alarm, [*data, *calm], at + timedelta(minutes=5), current_state=ALARM)
    assert back.reason == (  # leaving a 2-of-3 alarm takes 2 non-breaching datapoints of the last 3
        "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (03/12/26 10:04:00), 0.0 (03/12/26 10:03:00)] "
        "were not greater than the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition).")
    nothing = evaluate_alarm(alarm, [], at + timedelta(minutes=30), current_state=OK)
    assert (nothing.state, nothing.reason) == (INSUFFICIENT_DATA, "Insufficient Data: 3 datapoints were unknown.")


@pytest.mark.parametrize(("operator", "below", "equal", "above"), [
    ("GreaterThanOrEqualToThreshold", OK, ALARM, ALARM),
    ("GreaterThanThreshold", OK, OK, ALARM),
    ("LessThanThreshold", ALARM, OK, OK),
    ("LessThanOrEqualToThreshold", ALARM, ALARM, OK),
])
def test_each_comparison_operator(operator: str, below: str, equal: str, above: str) -> None:
    alarm = _alarm(ComparisonOperator=operator, EvaluationPeriods=1, Threshold=10.0)
    states = [evaluate_alarm(alarm, [Datum("App", "Errors", START, value)], START + timedelta(seconds=PERIOD)).state
              for value in (9.5, 10.0, 10.5)]
    assert states == [below, equal, above]


@pytest.mark.parametrize("operator", ["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold",
                                      "GreaterThanUpperThreshold"])
def test_anomaly_band_operators_are_refused_by_name(operator: str) -> None:
    with pytest.raises(AlarmDefinitionError, match=f"alarm 'errors': ComparisonOperator {operator} .*anomaly"):
        evaluate_alarm(_alarm(ComparisonOperator=operator), [], START)


def test_bad_definitions_name_the_field() -> None:
    with pytest.raises(AlarmDefinitionError, match=r"DatapointsToAlarm \(4\) must not exceed EvaluationPeriods \(3\)"):
        evaluate_alarm(_alarm(DatapointsToAlarm=4), [], START)
    with pytest.raises(AlarmDefinitionError, match="statistic 'tm99' is not evaluated"):
        evaluate_alarm(_alarm(Statistic=None, ExtendedStatistic="tm99"), [], START)
    with pytest.raises(AlarmDefinitionError, match="Period must be 10, 30 or a multiple of 60"):
        evaluate_alarm(_alarm(Period=45), [], START)


def _one_period(stat: str, datums: list[tuple[float | None, StatisticSet | None]], **overrides: Any) -> Any:
    alarm = _alarm(EvaluationPeriods=1, **overrides)
    if stat.startswith("p"):
        alarm["ExtendedStatistic"] = alarm.pop("Statistic") and stat
    else:
        alarm["Statistic"] = stat
    data = [Datum("App", "Errors", START + timedelta(seconds=i % PERIOD), value, statistic_set=stats)
            for i, (value, stats) in enumerate(datums)]
    return evaluate_alarm(alarm, data, START + timedelta(seconds=PERIOD), current_state=OK)


@pytest.mark.parametrize(("stat", "value"), [
    ("SampleCount", 7.0), ("Sum", 26.0), ("Average", 26.0 / 7), ("Minimum", 1.0), ("Maximum", 9.0)])
def test_statistics_combine_raw_values_and_statistic_sets(stat: str, value: float) -> None:
    result = _one_period(stat, [(1.0, None), (9.0, None), (None, StatisticSet(5, 16.0, 2.0, 5.0))])
    assert result.evaluated[0].value == pytest.approx(value)


@pytest.mark.parametrize(("stat", "value"), [("p90", 90.0), ("p99.5", 100.0), ("p50", 50.0), ("p0", 1.0),
                                             ("p100", 100.0), ("p12.34", 13.0)])
def test_percentiles_are_exact_nearest_rank_over_raw_values(stat: str, value: float) -> None:
    result = _one_period(stat, [(float(v), None) for v in range(100, 0, -1)])
    assert result.evaluated[0].value == value


def test_percentiles_need_raw_values_and_no_negative_ones() -> None:
    # usable statistic sets: SampleCount 1, or Minimum = Maximum (3 x 8.0 here)
    usable = _one_period("p50", [(None, StatisticSet(1, 7.0, 7.0, 7.0)), (None, StatisticSet(3, 24.0, 8.0, 8.0))])
    assert usable.evaluated[0].value == 8.0
    spread = _one_period("p50", [(1.0, None), (None, StatisticSet(3, 9.0, 2.0, 4.0))])
    assert (spread.state, spread.reason) == (INSUFFICIENT_DATA, "Insufficient Data: 1 datapoint was unknown.")
    assert _one_period("p50", [(-1.0, None), (5.0, None)]).state == INSUFFICIENT_DATA


@pytest.mark.parametrize(("stat", "samples", "low"), [
    ("p99", 999, True), ("p99", 1000, False),  # fewer than 10/(1-0.99) = 1000
    ("p50", 19, True), ("p50", 20, False),  # 10/(1-0.5) = 20
    ("p10", 99, True), ("p10", 100, False),  # below p50: 10/0.1 = 100
])
def test_low_sample_count_percentiles_keep_the_state_only_when_told_to_ignore(stat: str, samples: int,
                                                                              low: bool) -> None:
    slow = [(5.0, None)] * samples  # every sample breaches the 1.0 threshold
    ignored = _one_period(stat, slow, EvaluateLowSampleCountPercentile="ignore")
    assert (ignored.state, ignored.kept) == ((OK, True) if low else (ALARM, False))
    if low:
        assert ignored.reason.startswith("Low sample count: 1 datapoint had fewer than")
    assert _one_period(stat, slow, EvaluateLowSampleCountPercentile="evaluate").state == ALARM
    assert _one_period(stat, slow).state == ALARM  # evaluate is the default


def test_alarms_on_dynamodb_metrics_always_ignore_missing_data() -> None:
    alarm = _alarm(Namespace="AWS/DynamoDB", TreatMissingData="breaching")
    assert evaluate_alarm(alarm, [], START + timedelta(hours=1), current_state=OK).state == OK


def _rate_alarm(expression: str = "100 * errors / invocations", **overrides: Any) -> dict[str, Any]:
    def stat(name: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": "Endpoint", "MetricName": name,
                           "Dimensions": [{"Name": "Variant", "Value": "canary"}]}, "Period": 60, "Stat": "Sum"}

    alarm = {"AlarmName": "error-rate", "EvaluationPeriods": 2, "DatapointsToAlarm": 2, "Threshold": 5.0,
             "ComparisonOperator": "GreaterThanThreshold", "Metrics": [
                 {"Id": "rate", "Expression": expression, "Label": "5xx %", "ReturnData": True},
                 {"Id": "errors", "MetricStat": stat("Invocation5XXErrors"), "ReturnData": False},
                 {"Id": "invocations", "MetricStat": stat("Invocations"), "ReturnData": False}]}
    alarm.update(overrides)
    return alarm


def _traffic(per_minute: list[tuple[int, int | None]]) -> list[Datum]:
    """(invocations, 5xx errors or None: no 5xx datapoint published) per minute from START."""
    out = []
    for minute, (calls, errors) in enumerate(per_minute):
        at = START + timedelta(minutes=minute, seconds=30)
        out.append(Datum("Endpoint", "Invocations", at, float(calls), {"Variant": "canary"}))
        if errors is not None:
            out.append(Datum("Endpoint", "Invocation5XXErrors", at, float(errors), {"Variant": "canary"}))
    return out


def test_metric_math_error_rate_alarm() -> None:
    now = START + timedelta(minutes=3)
    bad = evaluate_alarm(_rate_alarm(), _traffic([(100, 0), (100, 8), (50, 5)]), now, OK)
    assert bad.state == ALARM
    assert bad.reason == ("Threshold Crossed: 2 out of the last 2 datapoints [10.0 (12/03/26 10:02:00), "
                          "8.0 (12/03/26 10:01:00)] were greater than the threshold (5.0) "
                          "(minimum 2 datapoints for OK -> ALARM transition).")
    assert "statistic" not in bad.reason_data  # as in AWS's metric math example
    # a minute without a 5xx datapoint counts as 0 errors ("missing values ... are treated as 0")
    assert evaluate_alarm(_rate_alarm(), _traffic([(100, 8), (100, None), (100, 9)]), now, ALARM).state == OK
    # 5xx errors with no invocations divide by zero: the datapoint is dropped, so it is missing
    dropped = evaluate_alarm(_rate_alarm(), _traffic([(0, 3), (0, 3), (0, 3)]), now, OK)
    assert (dropped.state, dropped.reason) == (INSUFFICIENT_DATA, "Insufficient Data: 2 datapoints were unknown.")


def test_metric_math_fill_and_composed_expressions() -> None:
    now = START + timedelta(minutes=3)
    quiet = _traffic([(0, None), (0, None), (0, None)])  # invocations published as 0, no 5xx datapoints at all
    assert evaluate_alarm(_rate_alarm("FILL(errors, 0) * 2 ^ 2"), quiet, now, ALARM).state == OK
    chained = _rate_alarm("share * 100", Metrics=[
        {"Id": "rate", "Expression": "share * 100", "ReturnData": True},
        {"Id": "share", "Expression": "errors / (invocations - -0)", "ReturnData": False},
        *_rate_alarm()["Metrics"][1:]])
    assert evaluate_alarm(chained, _traffic([(10, 0), (10, 1), (10, 2)]), now, OK).evaluated[0].value == 20.0
    repeat = evaluate_alarm(_rate_alarm("FILL(errors, REPEAT)"), _traffic([(1, 9), (1, None), (1, None)]), now, OK)
    assert [p.value for p in repeat.evaluated] == [9.0, 9.0]


@pytest.mark.parametrize(("expression", "message"), [
    ("100 * ABS(errors) / invocations", r"Metrics\[rate\]\.Expression: function ABS in '100 \* ABS\(errors\)"),
    ("__import__('os').system('false')", r"function __import__\('os'\)\.system in .* not supported"),
    ("errors.real", r"'errors\.real' in 'errors\.real' is not metric math"),
    ("errors +", r"cannot parse 'errors \+'"),
    ("errors > 1", r"is not metric math"),
    ("latency / invocations", r"no metric or expression has Id 'latency'"),
    ("rate + 1", r"cycle: rate -> rate"),
    ("100", r"gives a number, not a time series"),
])
def test_metric_math_errors_name_the_expression(expression: str, message: str) -> None:
    with pytest.raises(MetricMathError, match=message):
        evaluate_alarm(_rate_alarm(expression), _traffic([(1, 1)] * 3), START + timedelta(minutes=3))


# --- the service in a local AWS ------------------------------------------------------------------------------
@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with local_aws(clock=SimulatedClock(START)) as running:
        yield running


def _queue(aws: LocalAws, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _drain(aws: LocalAws, url: str) -> list[dict[str, Any]]:
    sqs, out = aws.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        out += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return out


def _wire_notifications(aws: LocalAws) -> tuple[str, str, str]:
    """An SNS topic with an SQS subscriber, and an EventBridge rule for alarm events with an SQS target."""
    notes_url, notes_arn = _queue(aws, "alarm-notifications")
    events_url, events_arn = _queue(aws, "alarm-events")
    topic = aws.client("sns").create_topic(Name="alarms")["TopicArn"]
    aws.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=notes_arn)
    events = aws.client("events")
    events.put_rule(Name="alarm-state-changes", EventPattern=json.dumps({"source": ["aws.cloudwatch"]}))
    events.put_targets(Rule="alarm-state-changes", Targets=[{"Id": "queue", "Arn": events_arn}])
    return topic, notes_url, events_url


def _put(aws: LocalAws, value: float, metric: str = "Invocation5XXErrors") -> None:
    aws.client("cloudwatch").put_metric_data(Namespace="Endpoint", MetricData=[
        {"MetricName": metric, "Value": value, "Dimensions": [{"Name": "Variant", "Value": "canary"}]}])


def test_an_alarm_goes_ok_alarm_ok_with_history_notifications_and_events(aws: LocalAws) -> None:
    topic, notes_url, events_url = _wire_notifications(aws)
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="canary-5xx", AlarmDescription="5xx errors on the canary", Namespace="Endpoint",
        MetricName="Invocation5XXErrors", Dimensions=[{"Name": "Variant", "Value": "canary"}], Statistic="Sum",
        Period=60, EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching", AlarmActions=[topic], OKActions=[topic])
    assert cw.describe_alarms(AlarmNames=["canary-5xx"])["MetricAlarms"][0]["StateValue"] == INSUFFICIENT_DATA

    for errors in (0, 0, 5, 4, 0, 0, 0):  # one datapoint per minute, stamped on the simulated clock
        _put(aws, errors)
        aws.clock.advance(60)

    def at(minute: int) -> datetime:
        return START + timedelta(minutes=minute)

    assert [(t.at, t.old, t.new) for t in aws.alarms.transitions] == [
        (at(1), INSUFFICIENT_DATA, OK), (at(4), OK, ALARM), (at(6), ALARM, OK)]
    alarm = cw.describe_alarms(AlarmNames=["canary-5xx"])["MetricAlarms"][0]
    assert alarm["StateValue"] == OK and alarm["StateUpdatedTimestamp"] == at(6)
    assert alarm["StateReason"] == ("Threshold Crossed: 2 out of the last 3 datapoints [0.0 (12/03/26 10:05:00), "
                                    "0.0 (12/03/26 10:04:00)] were not greater than the threshold (1.0) (minimum 2 "
                                    "datapoints for ALARM -> OK transition).")
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [4.0, 0.0, 0.0]

    updates = cw.describe_alarm_history(AlarmName="canary-5xx", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [(i["HistorySummary"], i["Timestamp"]) for i in updates] == [  # newest first
        ("Alarm updated from ALARM to OK", at(6)), ("Alarm updated from OK to ALARM", at(4)),
        ("Alarm updated from INSUFFICIENT_DATA to OK", at(1))]
    data = json.loads(updates[1]["HistoryData"])
    assert (data["oldState"]["stateValue"], data["newState"]["stateValue"]) == (OK, ALARM)
    assert data["newState"]["stateReasonData"]["evaluatedDatapoints"][0]["value"] == 4.0
    actions = cw.describe_alarm_history(AlarmName="canary-5xx", HistoryItemType="Action")["AlarmHistoryItems"]
    assert {i["HistorySummary"] for i in actions} == {f"Successfully executed action {topic}"}

    notes = _drain(aws, notes_url)
    assert [n["Subject"] for n in notes] == ['OK: "canary-5xx" in US East (N. Virginia)',
                                             'ALARM: "canary-5xx" in US East (N. Virginia)',
                                             'OK: "canary-5xx" in US East (N. Virginia)']
    message = json.loads(notes[1]["Message"])
    assert {k: message[k] for k in ("AlarmName", "AlarmDescription", "AWSAccountId", "NewStateValue",
                                    "OldStateValue", "StateChangeTime", "Region")} == {
        "AlarmName": "canary-5xx", "AlarmDescription": "5xx errors on the canary", "AWSAccountId": aws.account_id,
        "NewStateValue": ALARM, "OldStateValue": OK, "StateChangeTime": "2026-03-12T10:04:00.000+0000",
        "Region": "US East (N. Virginia)"}
    assert message["NewStateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints [4.0 (12/03/26")
    assert message["Trigger"] == {
        "MetricName": "Invocation5XXErrors", "Namespace": "Endpoint", "StatisticType": "Statistic",
        "Statistic": "SUM", "Unit": None, "Dimensions": [{"value": "canary", "name": "Variant"}], "Period": 60,
        "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 1.0, "TreatMissingData": "notBreaching", "EvaluateLowSampleCountPercentile": ""}

    events = _drain(aws, events_url)
    assert [(e["source"], e["detail-type"], e["time"]) for e in events] == [
        ("aws.cloudwatch", "CloudWatch Alarm State Change", f"2026-03-12T10:0{m}:00Z") for m in (1, 4, 6)]
    detail = events[1]["detail"]
    assert events[1]["resources"] == [alarm["AlarmArn"]]
    assert detail["alarmName"] == "canary-5xx"
    assert (detail["previousState"]["value"], detail["state"]["value"]) == (OK, ALARM)
    assert detail["state"]["reason"] == message["NewStateReason"]
    assert json.loads(detail["state"]["reasonData"])["threshold"] == 1.0
    assert detail["state"]["timestamp"] == "2026-03-12T10:04:00.000+0000"
    assert detail["configuration"]["description"] == "5xx errors on the canary"
    assert detail["configuration"]["metrics"][0]["metricStat"] == {
        "metric": {"dimensions": {"Variant": "canary"}, "name": "Invocation5XXErrors", "namespace": "Endpoint"},
        "period": 60, "stat": "Sum"}


def test_alarms_from_cloudformation_and_metric_math_run_and_one_broken_alarm_stops_none(aws: LocalAws) -> None:
    topic, notes_url, events_url = _wire_notifications(aws)
    aws.client("cloudformation").create_stack(StackName="serving", TemplateBody=json.dumps({"Resources": {
        "Latency": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "canary-latency-p99", "Namespace": "Endpoint", "MetricName": "ModelLatency",
            "Dimensions": [{"Name": "Variant", "Value": "canary"}], "ExtendedStatistic": "p99", "Period": 300,
            "EvaluationPeriods": 1, "Threshold": 250, "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": [topic], "ActionsEnabled": False}}}}))
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="canary-error-rate", EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold", Metrics=_rate_alarm()["Metrics"])
    cw.put_metric_alarm(AlarmName="broken", EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold",
                        Metrics=_rate_alarm("ANOMALY_DETECTION_BAND(errors)")["Metrics"])

    for _ in range(10):
        cw.put_metric_data(Namespace="Endpoint", MetricData=[
            {"MetricName": "ModelLatency", "Values": [20.0, 900.0], "Counts": [95, 5],
             "Dimensions": [{"Name": "Variant", "Value": "canary"}]}])
        _put(aws, 100, "Invocations")
        _put(aws, 10)
        aws.clock.advance(60)

    changes = [(t.alarm, t.at, t.new) for t in aws.alarms.transitions]
    assert ("canary-latency-p99", START + timedelta(minutes=5), ALARM) in changes  # only at 5-minute boundaries
    assert [c for c in changes if c[0] == "canary-latency-p99"][0][1].minute % 5 == 0
    assert ("canary-error-rate", START + timedelta(minutes=1), ALARM) in changes
    assert [(e.alarm, e.error.split(":")[0]) for e in aws.alarms.errors] == [("broken", "MetricMathError")]
    assert "ANOMALY_DETECTION_BAND" in aws.alarms.errors[0].error  # reported once, not at every tick
    assert cw.describe_alarms(AlarmNames=["broken"])["MetricAlarms"][0]["StateValue"] == INSUFFICIENT_DATA
    assert _drain(aws, notes_url) == []  # the CloudFormation alarm's actions are disabled ...
    assert {e["detail"]["alarmName"] for e in _drain(aws, events_url)} == {  # ... but events are always sent
        "canary-latency-p99", "canary-error-rate"}


def test_set_alarm_state_notifies_and_lasts_until_the_next_evaluation(aws: LocalAws) -> None:
    topic, notes_url, _ = _wire_notifications(aws)
    cw = aws.client("cloudwatch")
    canary = [{"Name": "Variant", "Value": "canary"}]
    cw.put_metric_alarm(AlarmName="manual", Namespace="Endpoint", MetricName="Invocations", Statistic="Sum",
                        Dimensions=canary, Period=60, EvaluationPeriods=1, Threshold=1000,
                        ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic], OKActions=[topic])
    _put(aws, 5, "Invocations")
    aws.clock.advance(61)
    assert aws.alarms.transitions[-1].new == OK
    cw.set_alarm_state(AlarmName="manual", StateValue=ALARM, StateReason="testing the rollback path")
    assert [json.loads(n["Message"])["NewStateReason"] for n in _drain(aws, notes_url)] == [
        aws.alarms.transitions[0].reason, "testing the rollback path"]
    _put(aws, 5, "Invocations")
    aws.clock.advance(60)
    assert [(t.old, t.new) for t in aws.alarms.transitions] == [(INSUFFICIENT_DATA, OK), (OK, ALARM), (ALARM, OK)]
    # updating the alarm keeps its state, as on AWS
    cw.put_metric_alarm(AlarmName="manual", Namespace="Endpoint", MetricName="Invocations", Statistic="Sum",
                        Dimensions=canary, Period=60, EvaluationPeriods=1, Threshold=2000,
                        ComparisonOperator="GreaterThanThreshold")
    assert cw.describe_alarms(AlarmNames=["manual"])["MetricAlarms"][0]["StateValue"] == OK
    configuration = cw.describe_alarm_history(AlarmName="manual", HistoryItemType="ConfigurationUpdate")
    assert [i["HistorySummary"] for i in configuration["AlarmHistoryItems"]] == [
        'Alarm "manual" updated', 'Alarm "manual" created']
    page = cw.describe_alarm_history(AlarmName="manual", MaxRecords=2, ScanBy="TimestampAscending")
    rest = cw.describe_alarm_history(AlarmName="manual", MaxRecords=100, ScanBy="TimestampAscending",
                                     NextToken=page["NextToken"])
    assert "NextToken" not in rest
    notified = f"Successfully executed action {topic}"
    assert [i["HistorySummary"] for i in page["AlarmHistoryItems"] + rest["AlarmHistoryItems"]] == [
        'Alarm "manual" created', "Alarm updated from INSUFFICIENT_DATA to OK", notified,
        "Alarm updated from OK to ALARM", notified, "Alarm updated from ALARM to OK", notified,
        'Alarm "manual" updated']


def test_actions_that_cannot_run_are_failed_actions_in_the_history_and_the_event_still_goes(aws: LocalAws) -> None:
    _, _, events_url = _wire_notifications(aws)
    gone = f"arn:aws:sns:{aws.region}:{aws.account_id}:deleted-topic"
    scale = (f"arn:aws:autoscaling:{aws.region}:{aws.account_id}:scalingPolicy:0b7e:autoScalingGroupName/web:"
             "policyName/up")
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="orphan", Namespace="Endpoint", MetricName="Invocations", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                        AlarmActions=[gone, scale])
    cw.set_alarm_state(AlarmName="orphan", StateValue=ALARM, StateReason="drill")
    actions = cw.describe_alarm_history(AlarmName="orphan", HistoryItemType="Action")["AlarmHistoryItems"]
    assert sorted(i["HistorySummary"].split(". Received error")[0] for i in actions) == [
        f"Failed to execute action {scale}", f"Failed to execute action {gone}"]
    assert {json.loads(i["HistoryData"])["actionState"] for i in actions} == {"Failed"}
    assert {e.alarm for e in aws.alarms.errors} == {"orphan"} and len(aws.alarms.errors) == 2
    assert [e["detail"]["state"]["reason"] for e in _drain(aws, events_url)] == ["drill"]


def test_a_high_resolution_alarm_is_evaluated_every_ten_seconds(aws: LocalAws) -> None:
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="fast", Namespace="Endpoint", MetricName="Invocation5XXErrors", Statistic="Sum",
                        Dimensions=[{"Name": "Variant", "Value": "canary"}], Period=10, EvaluationPeriods=1,
                        Threshold=0, ComparisonOperator="GreaterThanThreshold")
    aws.clock.advance(60)  # the next standard tick notices the 10-second period
    aws.clock.advance(3)
    _put(aws, 1)
    aws.clock.advance(27)
    assert [(t.at, t.new) for t in aws.alarms.transitions][-1] == (START + timedelta(seconds=70), ALARM)


def test_describe_alarm_history_is_added_only_while_the_local_aws_runs() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse

    with local_aws():
        assert callable(CloudWatchResponse.describe_alarm_history)
    assert not hasattr(CloudWatchResponse, "describe_alarm_history")
    with pytest.raises(PatchError, match="was expected to lack it"):
        MotoPatches().add(CloudWatchResponse, "describe_alarms", lambda: None, why="test")
