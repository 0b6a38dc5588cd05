"""CloudWatch metric-alarm evaluation on the simulated clock, which moto 5.2.5 stores but never performs.

`CloudWatchAlarms(aws)` is the kernel service. `start()` arms one periodic clock timer on period
boundaries (multiples of the period since the epoch); at each, every metric alarm of the local AWS
whose period ends there is read from moto's backend (so alarms created through the API and through
CloudFormation alike), evaluated by `local_aws.cloudwatch.evaluation` over the raw datapoints moto
stores (the data of a period is [end - period, end)), and on a state change:

- the alarm in moto gets the new StateValue, StateReason, StateReasonData and StateUpdatedTimestamp
  (simulated time), so DescribeAlarms shows them;
- a StateUpdate history item ("Alarm updated from OK to ALARM") is recorded; DescribeAlarmHistory,
  which moto lacks, is added and serves it (with ConfigurationUpdate and Action items);
- with ActionsEnabled, each SNS topic among the actions for the new state gets the JSON message
  CloudWatch publishes (AlarmName, ..., NewStateValue, NewStateReason, OldStateValue, Trigger);
  other action types are recorded as failed actions (the local AWS performs SNS actions only);
- the "CloudWatch Alarm State Change" event goes to the default EventBridge bus, source aws.cloudwatch,
  as https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html shows.

Also as on AWS (PutMetricAlarm / SetAlarmState API references): a new alarm starts in
INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); updating an alarm leaves its state as it
was; SetAlarmState that changes the state runs the actions and sends the event too, and the next
evaluation sets the state the data says. Every state change is kept in `transitions` as
(simulated time, alarm, old, new, reason); an alarm that cannot be evaluated is recorded in `errors`
and the others are evaluated regardless. `evaluate_now()` evaluates every alarm at once (tests).
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import logging
import math
import threading
import uuid
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import botocore.session
from moto.cloudwatch import models as cw_models
from moto.cloudwatch.exceptions import InvalidParameterValue
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

from local_aws.clock import Timer
from local_aws.cloudwatch.evaluation import (
    ALARM,
    INSUFFICIENT_DATA,
    OK,
    Datum,
    MetricRef,
    StatisticSet,
    as_utc,
    epoch_us,
    evaluate_alarm,
    evaluation_window,
    from_epoch_us,
    iso_millis,
    parse_alarm,
)
from local_aws.patching import MotoPatches

log = logging.getLogger(__name__)

TIMER_NAME = "cloudwatch: evaluate alarms"
STANDARD_TICK_S = 60  # standard-resolution periods are multiples of 60 s; 10 s / 30 s alarms shorten the tick
EVENT_SOURCE = "aws.cloudwatch"
EVENT_DETAIL_TYPE = "CloudWatch Alarm State Change"
_US = 1_000_000
_ACTIONS_FOR = {ALARM: "AlarmActions", OK: "OKActions", INSUFFICIENT_DATA: "InsufficientDataActions"}


class Transition(NamedTuple):
    at: datetime  # simulated time of the change
    alarm: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True)
class AlarmError:
    at: datetime  # simulated time
    alarm: str
    error: str


# --- reading moto ----------------------------------------------------------------------------------------
def to_datum(md: cw_models.MetricDatumBase) -> Datum:
    """moto's stored MetricDatum / MetricAggregatedDatum as an evaluation Datum."""
    dims = [(d.name, d.value) for d in md.dimensions]
    if isinstance(md, cw_models.MetricAggregatedDatum):
        return Datum(md.namespace, md.name, md.timestamp, dimensions=dims, unit=md.unit,
                     statistic_set=StatisticSet(float(md.sample_count), float(md.sum), float(md.min), float(md.max)))
    return Datum(md.namespace, md.name, md.timestamp, float(md.value), dimensions=dims, unit=md.unit)


class _MetricIndex:
    """The metric data of one moto backend by metric identity and time, extended as moto's list grows."""

    def __init__(self, backend: cw_models.CloudWatchBackend) -> None:
        self.backend = backend
        self.unreadable = 0  # stored datums that could not be read (skipped, never fatal to the others)
        self._source: list[Any] | None = None
        self._seen = 0
        self._series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[tuple[int, int, Datum]]] = {}
        self._seq = itertools.count()

    def refresh(self) -> None:
        source = self.backend.metric_data
        if source is not self._source or len(source) < self._seen:  # moto reset: start over
            self._source, self._seen, self._series = source, 0, {}
        fresh = source[self._seen:]
        self._seen += len(fresh)
        for md in fresh:
            try:
                datum = to_datum(md)
            except (TypeError, ValueError, AttributeError) as err:
                self.unreadable += 1
                log.warning("CloudWatch: skipping a stored datum alarms cannot read: %s", err)
                continue
            key = (datum.namespace, datum.metric_name, datum.dimensions)
            insort(self._series.setdefault(key, []), (epoch_us(datum.timestamp), next(self._seq), datum))

    def datums(self, ref: MetricRef, start: datetime, end: datetime) -> list[Datum]:
        entries = self._series.get((ref.namespace, ref.metric_name, ref.dimensions), [])
        lo, hi = bisect_left(entries, (epoch_us(start),)), bisect_left(entries, (epoch_us(end),))
        return [datum for _, _, datum in entries[lo:hi]]


def alarm_definition(alarm: cw_models.Alarm) -> dict[str, Any]:
    """A moto Alarm as the MetricAlarm dict DescribeAlarms returns (keys without a value left out)."""
    d: dict[str, Any] = {
        "AlarmName": alarm.name, "AlarmArn": alarm.alarm_arn, "AlarmDescription": alarm.description,
        "ActionsEnabled": bool(alarm.actions_enabled), "OKActions": list(alarm.ok_actions or []),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
        "StateValue": alarm.state_value, "StateReason": alarm.state_reason,
        "StateReasonData": alarm.state_reason_data, "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm, "Threshold": alarm.threshold,
        "ComparisonOperator": alarm.comparison_operator, "TreatMissingData": alarm.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "ThresholdMetricId": alarm.threshold_metric_id,
    }
    if alarm.metric_data_queries:
        metrics = []
        for q in alarm.metric_data_queries:
            item: dict[str, Any] = {"Id": q.id, "Label": q.label, "Expression": q.expression,
                                    "ReturnData": True if q.return_data is None else bool(q.return_data),
                                    "Period": q.period}
            if q.metric_stat is not None:
                stat = q.metric_stat
                item["MetricStat"] = {k: v for k, v in {
                    "Metric": {"Namespace": stat.metric.namespace, "MetricName": stat.metric.metric_name,
                               "Dimensions": [{"Name": x.name, "Value": x.value} for x in stat.metric.dimensions]},
                    "Period": stat.period, "Stat": stat.stat, "Unit": stat.unit}.items() if v is not None}
            metrics.append({k: v for k, v in item.items() if v is not None})
        d["Metrics"] = metrics
    else:
        d.update({"MetricName": alarm.metric_name, "Namespace": alarm.namespace, "Statistic": alarm.statistic,
                  "ExtendedStatistic": alarm.extended_statistic, "Period": alarm.period, "Unit": alarm.unit,
                  "Dimensions": [{"Name": x.name, "Value": x.value} for x in alarm.dimensions]})
    return {k: v for k, v in d.items() if v is not None}


@dataclass(frozen=True)
class _State:
    value: str
    reason: str
    reason_data: str | None
    timestamp: datetime

    @classmethod
    def of(cls, alarm: cw_models.Alarm) -> _State:
        return cls(alarm.state_value, alarm.state_reason, alarm.state_reason_data,
                   as_utc(alarm.state_updated_timestamp))

    def parsed_reason_data(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.reason_data or "{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) and data else None

    def for_history(self) -> dict[str, Any]:
        out: dict[str, Any] = {"stateValue": self.value, "stateReason": self.reason}
        if (data := self.parsed_reason_data()) is not None:
            out["stateReasonData"] = data
        return out

    def for_event(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "reason": self.reason}
        if self.parsed_reason_data() is not None:
            out["reasonData"] = self.reason_data
        out["timestamp"] = iso_millis(self.timestamp)
        return out


# --- what CloudWatch sends ----------------------------------------------------------------------------
@functools.cache
def region_long_name(region: str) -> str:
    """'US East (N. Virginia)' for us-east-1, as in CloudWatch's SNS subjects and messages (botocore's names)."""
    for partition in botocore.session.get_session().get_data("endpoints")["partitions"]:
        if region in partition["regions"]:
            return str(partition["regions"][region].get("description", region))
    return region


def _sns_statistic(stat: str) -> str:
    return "SAMPLE_COUNT" if stat == "SampleCount" else stat.upper()


def _trigger(definition: dict[str, Any]) -> dict[str, Any]:
    """The Trigger of CloudWatch's SNS message (single metric, or Metrics for metric math)."""
    tail: dict[str, Any] = {"EvaluationPeriods": definition["EvaluationPeriods"]}
    if definition.get("DatapointsToAlarm") is not None:
        tail["DatapointsToAlarm"] = definition["DatapointsToAlarm"]
    tail.update({"ComparisonOperator": definition["ComparisonOperator"], "Threshold": definition["Threshold"],
                 "TreatMissingData": definition.get("TreatMissingData", "missing"),
                 "EvaluateLowSampleCountPercentile": definition.get("EvaluateLowSampleCountPercentile", "")})
    if definition.get("Metrics"):
        metrics = []
        for q in definition["Metrics"]:
            item = {k: q[k] for k in ("Expression", "Id", "Label") if k in q}
            if "MetricStat" in q:
                stat = q["MetricStat"]
                metric = stat["Metric"]
                item["MetricStat"] = {
                    "Metric": {"Dimensions": [{"value": x["Value"], "name": x["Name"]} for x in metric["Dimensions"]],
                               "MetricName": metric["MetricName"], "Namespace": metric["Namespace"]},
                    "Period": stat["Period"], "Stat": stat["Stat"]}
                if "Unit" in stat:
                    item["MetricStat"]["Unit"] = stat["Unit"]
            item["ReturnData"] = q.get("ReturnData", True)
            metrics.append(item)
        period = next(q["MetricStat"]["Period"] for q in definition["Metrics"] if "MetricStat" in q)
        return {"Period": period, **tail, "Metrics": metrics}
    extended = "ExtendedStatistic" in definition
    head = {"MetricName": definition["MetricName"], "Namespace": definition["Namespace"],
            "StatisticType": "ExtendedStatistic" if extended else "Statistic"}
    if extended:
        head["ExtendedStatistic"] = definition["ExtendedStatistic"]
    else:
        head["Statistic"] = _sns_statistic(definition["Statistic"])
    head.update({"Unit": definition.get("Unit"),
                 "Dimensions": [{"value": x["Value"], "name": x["Name"]} for x in definition["Dimensions"]],
                 "Period": definition["Period"]})
    return {**head, **tail}


def sns_message(definition: dict[str, Any], account: str, region: str, old: str, new: _State,
                configuration_updated: datetime) -> dict[str, Any]:
    return {
        "AlarmName": definition["AlarmName"], "AlarmDescription": definition.get("AlarmDescription"),
        "AWSAccountId": account, "AlarmConfigurationUpdatedTimestamp": iso_millis(configuration_updated),
        "NewStateValue": new.value, "NewStateReason": new.reason, "StateChangeTime": iso_millis(new.timestamp),
        "Region": region_long_name(region), "AlarmArn": definition["AlarmArn"], "OldStateValue": old,
        "OKActions": definition["OKActions"], "AlarmActions": definition["AlarmActions"],
        "InsufficientDataActions": definition["InsufficientDataActions"], "Trigger": _trigger(definition),
    }


def _event_metric_stat(stat: dict[str, Any]) -> dict[str, Any]:
    metric = stat["Metric"]
    out = {"metric": {"dimensions": {x["Name"]: x["Value"] for x in metric.get("Dimensions", [])},
                      "name": metric["MetricName"], "namespace": metric["Namespace"]},
           "period": stat["Period"], "stat": stat["Stat"]}
    if stat.get("Unit"):
        out["unit"] = stat["Unit"]
    return out


def event_detail(definition: dict[str, Any], old: _State, new: _State) -> dict[str, Any]:
    """The detail of the "CloudWatch Alarm State Change" event."""
    if definition.get("Metrics"):
        metrics = []
        for q in definition["Metrics"]:
            item: dict[str, Any] = {}
            if "Expression" in q:
                item["expression"] = q["Expression"]
            item["id"] = q["Id"]
            if "Label" in q:
                item["label"] = q["Label"]
            if "MetricStat" in q:
                item["metricStat"] = _event_metric_stat(q["MetricStat"])
            item["returnData"] = q.get("ReturnData", True)
            metrics.append(item)
    else:
        stat = {"Metric": {k: definition[k] for k in ("Namespace", "MetricName", "Dimensions")},
                "Period": definition["Period"],
                "Stat": definition.get("Statistic") or definition.get("ExtendedStatistic")}
        if definition.get("Unit"):
            stat["Unit"] = definition["Unit"]
        # AWS names the single metric with a generated id; this one is stable per alarm
        metrics = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, definition["AlarmArn"])),
                    "metricStat": _event_metric_stat(stat), "returnData": True}]
    configuration: dict[str, Any] = {}
    if definition.get("AlarmDescription"):
        configuration["description"] = definition["AlarmDescription"]
    configuration["metrics"] = metrics
    return {"alarmName": definition["AlarmName"], "state": new.for_event(), "previousState": old.for_event(),
            "configuration": configuration}


# --- the service -----------------------------------------------------------------------------------------
class CloudWatchAlarms:
    """Every metric alarm of one local AWS, evaluated on its simulated clock."""

    def __init__(self, aws: Any) -> None:
        self.aws, self.clock = aws, aws.clock
        self.transitions: list[Transition] = []
        self.errors: list[AlarmError] = []
        self._history: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._indexes: dict[tuple[str, str], _MetricIndex] = {}
        self._last_error: dict[tuple[str, str], str] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._timer: Timer | None = None
        self._tick_s = STANDARD_TICK_S
        self._lock = threading.RLock()

    # --- lifecycle -------------------------------------------------------------------------------------
    def install(self, patches: MotoPatches) -> None:
        """Give moto the alarm behaviour it lacks (see the module docstring)."""
        service = self
        backend_cls = cw_models.CloudWatchBackend

        def put_metric_alarm(backend: cw_models.CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
            name = kwargs["name"] if "name" in kwargs else args[0]
            before = backend.alarms.get(name)
            alarm = original_put(backend, *args, **kwargs)
            if alarm.rule is not None:  # composite alarm: not evaluated here
                return alarm
            if before is None:
                alarm.state_value = INSUFFICIENT_DATA  # "the alarm state is immediately set to INSUFFICIENT_DATA"
            else:  # "When you update an existing alarm, its state is left unchanged"
                alarm.state_value, alarm.state_reason = before.state_value, before.state_reason
                alarm.state_reason_data = before.state_reason_data
                alarm.state_updated_timestamp = before.state_updated_timestamp
            config = {k: v for k, v in alarm_definition(alarm).items() if not k.startswith("State")}
            verb = "created" if before is None else "updated"
            service._add_history(backend, name, "ConfigurationUpdate", f'Alarm "{name}" {verb}', {
                "version": "1.0", "type": "Create" if before is None else "Update",
                f"{verb}Alarm": config})
            return alarm

        original_put = patches.replace(
            backend_cls, "put_metric_alarm", put_metric_alarm,
            why="a new alarm starts in INSUFFICIENT_DATA and an update keeps the state, as on AWS; history")

        def set_alarm_state(backend: cw_models.CloudWatchBackend, alarm_name: str, reason: str,
                            reason_data: str, state_value: str) -> None:
            effect = None
            with service._lock:
                alarm = backend.alarms.get(alarm_name)
                before = _State.of(alarm) if alarm is not None else None
                original_set(backend, alarm_name, reason, reason_data, state_value)
                if alarm is not None and before is not None and alarm.state_value != before.value:
                    _, effect = service._transitioned(backend, alarm, before)
            if effect is not None:
                effect()

        original_set = patches.replace(
            backend_cls, "set_alarm_state", set_alarm_state,
            why="SetAlarmState that changes the state records history, runs the actions and sends the event")

        def describe_alarm_history(response: CloudWatchResponse) -> ActionResult:
            return ActionResult(service._describe_alarm_history(response))

        patches.add(CloudWatchResponse, "describe_alarm_history", describe_alarm_history,
                    why="DescribeAlarmHistory serves the history the local AWS records")

    def start(self) -> None:
        """Evaluate alarms at every period boundary from now on (idempotent)."""
        with self._lock:
            if self._timer is None or self._timer.cancelled:
                self._arm(self._tick_s)

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _arm(self, tick_s: int) -> None:
        now_us, tick_us = epoch_us(self.clock.now()), tick_s * _US
        boundary_us = (now_us // tick_us + 1) * tick_us
        self._tick_s = tick_s
        self._timer = self.clock.call_every(tick_s, self._on_tick, TIMER_NAME,
                                            first=self.clock.elapsed_seconds + (boundary_us - now_us) / _US)

    def _on_tick(self) -> None:
        tick_us = self._tick_s * _US
        boundary_us = round(epoch_us(self.clock.now()) / tick_us) * tick_us  # immune to float drift of the timer
        _, periods = self._evaluate(from_epoch_us(boundary_us), on_boundary=True)
        wanted = functools.reduce(math.gcd, periods, STANDARD_TICK_S)
        if wanted != self._tick_s:
            with self._lock:
                if self._timer is not None:
                    self._timer.cancel()
                self._arm(wanted)

    # --- evaluating -----------------------------------------------------------------------------------
    def evaluate_now(self) -> list[Transition]:
        """Evaluate every metric alarm at the current simulated time; the state changes it made."""
        return self._evaluate(self.clock.now(), on_boundary=False)[0]

    def _backends(self) -> list[cw_models.CloudWatchBackend]:
        accounts = cw_models.cloudwatch_backends
        if self.aws.account_id not in list(accounts.keys()):
            return []
        return list(accounts[self.aws.account_id].values())

    def _index(self, backend: cw_models.CloudWatchBackend) -> _MetricIndex:
        key = (backend.account_id, backend.region_name)
        index = self._indexes.get(key)
        if index is None or index.backend is not backend:
            index = self._indexes[key] = _MetricIndex(backend)
        index.refresh()
        return index

    def _evaluate(self, now: datetime, *, on_boundary: bool) -> tuple[list[Transition], set[int]]:
        made: list[Transition] = []
        effects: list[Callable[[], None]] = []
        periods: set[int] = set()
        with self._lock:
            for backend in self._backends():
                index = self._index(backend)
                for alarm in list(backend.alarms.values()):
                    if alarm.rule is not None:  # composite alarms are not evaluated
                        continue
                    scope = (backend.region_name, alarm.name)
                    try:
                        spec = parse_alarm(alarm_definition(alarm))
                        periods.add(spec.period)
                        if on_boundary and epoch_us(now) % (spec.period * _US):
                            continue
                        start, end = evaluation_window(spec, now)
                        datums = [d for ref in spec.metrics for d in index.datums(ref, start, end)]
                        result = evaluate_alarm(spec, datums, now, current_state=alarm.state_value)
                    except Exception as err:  # one alarm's error must not stop the others
                        self._record_error(alarm.name, err, scope)
                        continue
                    self._last_error.pop(scope, None)
                    if result.changed:
                        before = _State.of(alarm)
                        alarm.update_state(result.reason, result.reason_data_json, result.state)
                        transition, effect = self._transitioned(backend, alarm, before)
                        made.append(transition)
                        effects.append(effect)
        for effect in effects:  # actions and events run outside the lock: they call other services
            effect()
        return made, periods

    def _transitioned(self, backend: cw_models.CloudWatchBackend, alarm: cw_models.Alarm,
                      before: _State) -> tuple[Transition, Callable[[], None]]:
        """Record a state change that just happened; returns it and what to send about it."""
        after = _State.of(alarm)
        self._add_history(backend, alarm.name, "StateUpdate", f"Alarm updated from {before.value} to {after.value}",
                          {"version": "1.0", "oldState": before.for_history(), "newState": after.for_history()})
        transition = Transition(self.clock.now(), alarm.name, before.value, after.value, after.reason)
        self.transitions.append(transition)
        definition = alarm_definition(alarm)
        account, region = backend.account_id, backend.region_name
        configured = as_utc(alarm.configuration_updated_timestamp)

        def effect() -> None:
            steps: list[Callable[[], None]] = []
            if definition["ActionsEnabled"]:
                steps += [functools.partial(self._run_action, backend, definition, account, region, before, after,
                                            configured, arn) for arn in definition[_ACTIONS_FOR[after.value]]]
            steps.append(functools.partial(self._put_event, definition, region, before, after))
            for step in steps:  # each action and the event independently of the others
                try:
                    step()
                except Exception as err:
                    self._record_error(alarm.name, err)

        return transition, effect

    def _run_action(self, backend: cw_models.CloudWatchBackend, definition: dict[str, Any], account: str,
                    region: str, before: _State, after: _State, configured: datetime, arn: str) -> None:
        name = definition["AlarmName"]
        parts = arn.split(":")
        base = {"notificationResource": arn, "stateUpdateTimestamp": epoch_us(after.timestamp) // 1000}
        if len(parts) < 6 or parts[2] != "sns":
            message = "the local AWS performs SNS alarm actions only"
            self._add_history(backend, name, "Action", f"Failed to execute action {arn}. Received error: "
                              f'"{message}"', {"actionState": "Failed", **base, "error": message})
            self._record_error(name, RuntimeError(f"action {arn}: {message}"))
            return
        body = json.dumps(sns_message(definition, account, region, before.value, after, configured))
        subject = f'{after.value}: "{name}" in {region_long_name(region)}'
        subject = subject if len(subject) <= 100 else subject[:97] + "..."  # SNS subjects are at most 100 characters
        try:
            self._client("sns", parts[3]).publish(TopicArn=arn, Subject=subject, Message=body)
        except Exception as err:
            self._add_history(backend, name, "Action", f"Failed to execute action {arn}. Received error: "
                              f'"{err}"', {"actionState": "Failed", **base, "error": str(err)})
            self._record_error(name, err)
            return
        self._add_history(backend, name, "Action", f"Successfully executed action {arn}",
                          {"actionState": "Succeeded", **base, "publishedMessage": body})

    def _put_event(self, definition: dict[str, Any], region: str, before: _State, after: _State) -> None:
        response = self._client("events", region).put_events(Entries=[{
            "Source": EVENT_SOURCE, "DetailType": EVENT_DETAIL_TYPE, "Resources": [definition["AlarmArn"]],
            "Detail": json.dumps(event_detail(definition, before, after)), "Time": after.timestamp}])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the alarm state change event: {response['Entries']}")

    def _client(self, service: str, region: str) -> Any:
        if region == self.aws.region:
            return self.aws.client(service)
        with self._lock:
            if (service, region) not in self._clients:
                self._clients[(service, region)] = self.aws.session.client(service, region_name=region)
            return self._clients[(service, region)]

    def _record_error(self, alarm: str, err: BaseException, scope: tuple[str, str] | None = None) -> None:
        message = f"{type(err).__name__}: {err}"
        if scope is not None:  # an alarm that cannot be evaluated is reported once, not at every tick
            if self._last_error.get(scope) == message:
                return
            self._last_error[scope] = message
        log.warning("CloudWatch alarm %s: %s", alarm, message)
        self.errors.append(AlarmError(self.clock.now(), alarm, message))

    # --- history ----------------------------------------------------------------------------------------
    def _add_history(self, backend: cw_models.CloudWatchBackend, alarm: str, item_type: str, summary: str,
                     data: dict[str, Any]) -> None:
        item = {"AlarmName": alarm, "AlarmType": "MetricAlarm", "Timestamp": self.clock.now(),
                "HistoryItemType": item_type, "HistorySummary": summary,
                "HistoryData": json.dumps(data, separators=(",", ":"), default=str)}
        with self._lock:
            self._history.setdefault((backend.account_id, backend.region_name), []).append(item)

    def history(self, account: str | None = None, region: str | None = None, alarm: str | None = None,
                item_type: str | None = None) -> list[dict[str, Any]]:
        """History items, oldest first (what DescribeAlarmHistory pages through, newest first by default)."""
        with self._lock:
            items = list(self._history.get((account or self.aws.account_id, region or self.aws.region), []))
        return [i for i in items if (alarm is None or i["AlarmName"] == alarm)
                and (item_type is None or i["HistoryItemType"] == item_type)]

    def _describe_alarm_history(self, response: CloudWatchResponse) -> dict[str, Any]:
        items = self.history(response.current_account, response.region, response._get_param("AlarmName"),
                             response._get_param("HistoryItemType"))
        types = response._get_param("AlarmTypes") or []
        start, end = response._get_param("StartDate"), response._get_param("EndDate")
        items = [i for i in items if (not types or i["AlarmType"] in types)
                 and (start is None or i["Timestamp"] >= as_utc(start))
                 and (end is None or i["Timestamp"] <= as_utc(end))]
        if (response._get_param("ScanBy") or "TimestampDescending") == "TimestampDescending":
            items.reverse()
        size = int(response._get_param("MaxRecords") or 100)
        if not 1 <= size <= 100:
            raise InvalidParameterValue(f"The value {size} for parameter MaxRecords is not valid: it must be 1 to 100.")
        offset = _decode_token(response._get_param("NextToken"))
        page: dict[str, Any] = {"AlarmHistoryItems": items[offset:offset + size]}
        if offset + size < len(items):
            page["NextToken"] = _encode_token(offset + size)
        return page


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise InvalidParameterValue(f"The value {token!r} for parameter NextToken is not valid.") from None
