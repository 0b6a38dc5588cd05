"""CloudWatch metric-alarm evaluation, pure: an alarm definition, raw datapoints and a time in; a state out.

No moto, no boto3: `evaluate_alarm` takes the dict `DescribeAlarms` returns for a MetricAlarm, the raw
datapoints (`Datum`), the evaluation time and the current state, and returns the new state with a
reason and reason data shaped like AWS's. `local_aws.cloudwatch.alarms` runs it on the simulated clock.

AWS semantics followed (the pages are the reference; where they leave a detail open, the choice made
here is named):

- Evaluating an alarm, M out of N ("Datapoints to Alarm" M of "Evaluation Periods" N):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
- Missing data and the evaluation range, with the example tables reproduced in the tests, and the
  premature-transition rule ("the oldest available breaching datapoint ... is at least as old as the
  value of Datapoints to Alarm, and all other more recent data points are breaching or missing"):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
  (earlier revisions with more table rows: github.com/awsdocs/amazon-cloudwatch-user-guide,
  doc_source/AlarmThatSendsEmail.md). CloudWatch retrieves more periods than N (the evaluation
  range); AWS does not publish how many. `evaluation_range` uses N + 2, the 5-for-3 of the examples.
  - N or more real datapoints in the range: the most recent N real ones are evaluated; the missing-data
    setting is not used.
  - fewer: `breaching` / `notBreaching` fill the most recent missing periods, as few as needed to make N;
    `missing` / `ignore` evaluate the real ones: ALARM with M breaching, OK with any non-breaching;
    otherwise `missing` goes to ALARM under the premature-transition rule, else INSUFFICIENT_DATA,
    and `ignore` keeps the state. With no real datapoint: INSUFFICIENT_DATA / kept / ALARM / OK.
  - Alarms on AWS/DynamoDB metrics always ignore missing data (PutMetricAlarm, TreatMissingData).
- Percentiles with low sample counts, `EvaluateLowSampleCountPercentile` (`ignore`: the state does not
  change while an evaluated datapoint has fewer than 10/(1-p) samples for p >= 0.5, 10/p below):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/percentiles-with-low-samples.html
- Statistics and percentiles (raw values needed; a statistic set counts only with SampleCount 1 or
  Minimum = Maximum; no percentile when a value is negative):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles
  and the GetMetricStatistics API reference. CloudWatch's percentiles are approximations; here they
  are exact (nearest rank over the raw values), so a value near the threshold may fall on the other
  side locally.
- ComparisonOperator (PutMetricAlarm API reference): GreaterThanOrEqualToThreshold,
  GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold. The anomaly-band operators
  are rejected with an error naming them.
- Metric math (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
  + - * / ^, unary minus, parentheses, numbers, metric and expression ids, FILL(x, value|REPEAT|LINEAR).
  "Missing values in a time series are treated as 0" (where at least one operand has a value);
  "if ... a function [would] divide by zero, the data point is dropped". Parsed with `ast`, never
  evaluated by Python; any other function is an error naming the expression.
- Reason text and reason data, as in the examples of "Alarm events and EventBridge"
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html):
  "Threshold Crossed: 1 out of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater than the
  threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)." and
  "Insufficient Data: 5 datapoints were unknown.". The wording when missing datapoints were filled
  ("... and 2 missing datapoints were treated as [Breaching]") is ours, modelled on AWS's.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
ANOMALY_BAND_COMPARISONS = frozenset({
    "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"})
TREAT_MISSING_DATA = ("missing", "notBreaching", "breaching", "ignore")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000


class AlarmDefinitionError(ValueError):
    """An alarm the evaluator cannot evaluate; the message names the alarm and the field."""


class MetricMathError(AlarmDefinitionError):
    """A metric math expression the evaluator cannot parse or run; the message names the expression."""


def evaluation_range(evaluation_periods: int) -> int:
    """How many periods CloudWatch looks back when data is missing (AWS: "more than N"; 5 for N=3 in its
    examples). N + 2 is this emulator's choice."""
    return evaluation_periods + 2


# --- inputs ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatisticSet:
    sample_count: float
    sum: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class Datum:
    """One PutMetricData value (or statistic set) as stored: metric identity, time, value."""

    namespace: str
    metric_name: str
    timestamp: datetime
    value: float | None = None
    dimensions: Any = ()  # a Mapping or (name, value) pairs; stored as sorted pairs
    unit: str | None = None
    statistic_set: StatisticSet | None = None

    def __post_init__(self) -> None:
        dims = self.dimensions.items() if isinstance(self.dimensions, Mapping) else self.dimensions
        object.__setattr__(self, "dimensions", tuple(sorted((str(k), str(v)) for k, v in dims)))
        object.__setattr__(self, "timestamp", as_utc(self.timestamp))
        if (self.value is None) == (self.statistic_set is None):
            raise ValueError(f"{self.metric_name}: a datum has exactly one of value and statistic_set")


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is read as UTC (moto stores naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class MetricRef:
    """One metric an alarm reads: identity, statistic, period (a MetricStat)."""

    id: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int
    unit: str | None = None

    def matches(self, datum: Datum) -> bool:
        """A metric is its namespace, name and full set of dimensions; a unit, when given, filters too."""
        return (datum.namespace == self.namespace and datum.metric_name == self.metric_name
                and datum.dimensions == self.dimensions and (self.unit is None or datum.unit == self.unit))


@dataclass(frozen=True)
class AlarmSpec:
    """A validated alarm definition."""

    name: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    low_sample_count: str  # "evaluate" | "ignore"
    metrics: tuple[MetricRef, ...]
    expressions: Mapping[str, str] = field(default_factory=dict)  # id -> expression text
    returned: str = ""  # id of the series the alarm watches

    @property
    def watched_metric(self) -> MetricRef | None:
        """The metric whose datapoints are compared directly (None when an expression is)."""
        return next((m for m in self.metrics if m.id == self.returned), None)


# --- outputs ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Datapoint:
    """One period of the evaluation range: its start, its value (None: missing), and how it was used."""

    timestamp: datetime
    value: float | None
    sample_count: float | None = None
    low_sample: bool = False
    filled: str | None = None  # "Breaching" / "NonBreaching" when a missing datapoint was filled in


@dataclass(frozen=True)
class Evaluation:
    state: str
    previous_state: str
    reason: str
    reason_data: dict[str, Any]
    evaluated: tuple[Datapoint, ...]  # newest first
    kept: bool = False  # the rules said "keep the current state" (ignore, low sample count)

    @property
    def changed(self) -> bool:
        return self.state != self.previous_state

    @property
    def reason_data_json(self) -> str:
        return json.dumps(self.reason_data, separators=(",", ":"))


# --- parsing the definition ------------------------------------------------------------------------------
def _require(definition: Mapping[str, Any], key: str, where: str) -> Any:
    value = definition.get(key)
    if value is None:
        raise AlarmDefinitionError(f"{where}: {key} is required")
    return value


def _positive_int(value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise AlarmDefinitionError(f"{what}: must be an integer (got {value!r})") from None
    if number < 1 or number != float(value):
        raise AlarmDefinitionError(f"{what}: must be a positive integer (got {value!r})")
    return number


def _check_period(period: int, where: str) -> int:
    if period not in (10, 30) and period % 60:
        raise AlarmDefinitionError(f"{where}: Period must be 10, 30 or a multiple of 60 seconds (got {period})")
    return period


def _check_stat(stat: str, where: str) -> str:
    if stat in STATISTICS or _PERCENTILE.fullmatch(stat):
        return stat
    raise AlarmDefinitionError(
        f"{where}: statistic {stat!r} is not evaluated by the local AWS (supported: {', '.join(STATISTICS)}, "
        "and percentiles pNN or pNN.NN)")


def _dimensions(raw: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(d["Name"]), str(d["Value"])) for d in raw or ()))


def parse_alarm(definition: Mapping[str, Any]) -> AlarmSpec:
    """Validate a DescribeAlarms MetricAlarm dict; AlarmDefinitionError names the alarm and the field."""
    name = str(definition.get("AlarmName") or "<unnamed>")
    where = f"alarm {name!r}"
    comparison = _require(definition, "ComparisonOperator", where)
    if comparison in ANOMALY_BAND_COMPARISONS:
        raise AlarmDefinitionError(
            f"{where}: ComparisonOperator {comparison} compares with an anomaly detection band, which the local "
            f"AWS does not evaluate (supported: {', '.join(COMPARISONS)})")
    if comparison not in COMPARISONS:
        raise AlarmDefinitionError(f"{where}: ComparisonOperator {comparison!r} is not one of {', '.join(COMPARISONS)}")
    if definition.get("ThresholdMetricId"):
        raise AlarmDefinitionError(f"{where}: ThresholdMetricId (a threshold from an anomaly detection band) is not "
                                   "evaluated by the local AWS")
    n = _positive_int(_require(definition, "EvaluationPeriods", where), f"{where}: EvaluationPeriods")
    m = _positive_int(definition.get("DatapointsToAlarm") or n, f"{where}: DatapointsToAlarm")
    if m > n:
        raise AlarmDefinitionError(f"{where}: DatapointsToAlarm ({m}) must not exceed EvaluationPeriods ({n})")
    try:
        threshold = float(_require(definition, "Threshold", where))
    except (TypeError, ValueError):
        raise AlarmDefinitionError(
            f"{where}: Threshold must be a number (got {definition.get('Threshold')!r})") from None
    treat = definition.get("TreatMissingData") or "missing"
    if treat not in TREAT_MISSING_DATA:
        raise AlarmDefinitionError(f"{where}: TreatMissingData {treat!r} is not one of {', '.join(TREAT_MISSING_DATA)}")
    low = definition.get("EvaluateLowSampleCountPercentile") or "evaluate"
    if low not in ("evaluate", "ignore"):
        raise AlarmDefinitionError(f"{where}: EvaluateLowSampleCountPercentile {low!r} is not evaluate or ignore")

    queries = definition.get("Metrics") or []
    expressions: dict[str, str] = {}
    if queries:
        metrics, returned = _parse_metrics(queries, where, expressions)
        periods = {ref.period for ref in metrics}
        if len(periods) != 1:
            raise AlarmDefinitionError(f"{where}: every metric of a math alarm must use the same Period "
                                       f"(got {sorted(periods)})")
        period = periods.pop()
    else:
        stat = definition.get("Statistic") or definition.get("ExtendedStatistic")
        if not stat:
            raise AlarmDefinitionError(f"{where}: Statistic or ExtendedStatistic is required")
        period = _check_period(_positive_int(_require(definition, "Period", where), f"{where}: Period"), where)
        metrics = (MetricRef(
            id="m1", namespace=str(_require(definition, "Namespace", where)),
            metric_name=str(_require(definition, "MetricName", where)),
            dimensions=_dimensions(definition.get("Dimensions")), stat=_check_stat(str(stat), where),
            period=period, unit=definition.get("Unit")),)
        returned = "m1"
        if metrics[0].namespace == "AWS/DynamoDB":
            treat = "ignore"  # "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data"
    return AlarmSpec(name=name, period=period, evaluation_periods=n, datapoints_to_alarm=m, threshold=threshold,
                     comparison=comparison, treat_missing_data=treat, low_sample_count=low, metrics=metrics,
                     expressions=expressions, returned=returned)


def _parse_metrics(queries: Sequence[Mapping[str, Any]], where: str,
                   expressions: dict[str, str]) -> tuple[tuple[MetricRef, ...], str]:
    metrics: list[MetricRef] = []
    returning: list[str] = []
    for i, query in enumerate(queries):
        qid = query.get("Id")
        if not qid:
            raise AlarmDefinitionError(f"{where}: Metrics[{i}].Id is required")
        if query.get("ReturnData", True):
            returning.append(qid)
        if query.get("Expression"):
            expressions[qid] = str(query["Expression"])
        elif query.get("MetricStat"):
            stat = query["MetricStat"]
            metric = stat.get("Metric") or {}
            mwhere = f"{where}: Metrics[{qid}]"
            period = _check_period(_positive_int(stat.get("Period"), f"{mwhere}.MetricStat.Period"), mwhere)
            metrics.append(MetricRef(
                id=qid, namespace=str(_require(metric, "Namespace", f"{mwhere}.MetricStat.Metric")),
                metric_name=str(_require(metric, "MetricName", f"{mwhere}.MetricStat.Metric")),
                dimensions=_dimensions(metric.get("Dimensions")),
                stat=_check_stat(str(_require(stat, "Stat", f"{mwhere}.MetricStat")), mwhere),
                period=period, unit=stat.get("Unit")))
        else:
            raise AlarmDefinitionError(f"{where}: Metrics[{qid}] has neither Expression nor MetricStat")
    if len(returning) != 1:
        raise AlarmDefinitionError(f"{where}: exactly one of Metrics must have ReturnData true (got {returning})")
    if not metrics:
        raise AlarmDefinitionError(f"{where}: Metrics has no MetricStat for its expressions to read")
    return tuple(metrics), returning[0]


# --- time ------------------------------------------------------------------------------------------------
def epoch_us(moment: datetime) -> int:
    return (as_utc(moment) - _EPOCH) // timedelta(microseconds=1)


def from_epoch_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def period_end(now: datetime, period: int) -> datetime:
    """The end of the last complete period at `now`; periods are aligned to multiples of `period` since the epoch."""
    us = epoch_us(now)
    return from_epoch_us(us - us % (period * _US))


def evaluation_window(spec: AlarmSpec, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the datapoints an evaluation at `now` reads."""
    end = period_end(now, spec.period)
    return end - timedelta(seconds=spec.period * evaluation_range(spec.evaluation_periods)), end


# --- statistics ------------------------------------------------------------------------------------------
def _percentile_fraction(stat: str) -> Fraction | None:
    match = _PERCENTILE.fullmatch(stat)
    return Fraction(match.group(1)) / 100 if match else None


def low_sample_limit(stat: str) -> Fraction | None:
    """Fewer samples than this make a percentile datapoint "low sample" (None: the rule does not apply)."""
    p = _percentile_fraction(stat)
    if p is None or p <= 0 or p >= 1:
        return None
    return 10 / (1 - p) if p >= Fraction(1, 2) else 10 / p


def aggregate(datums: Sequence[Datum], stat: str) -> tuple[float | None, float]:
    """(value, sample count) of one period; value None when the period has no data or no percentile exists."""
    values = [d.value for d in datums if d.value is not None]
    sets = [d.statistic_set for d in datums if d.statistic_set is not None]
    count = len(values) + sum(s.sample_count for s in sets)
    if count <= 0:
        return None, 0.0
    if stat == "SampleCount":
        return float(count), float(count)
    total = math.fsum(values) + math.fsum(s.sum for s in sets)
    if stat == "Sum":
        return total, float(count)
    if stat == "Average":
        return total / count, float(count)
    if stat == "Minimum":
        return min([*values, *(s.minimum for s in sets)]), float(count)
    if stat == "Maximum":
        return max([*values, *(s.maximum for s in sets)]), float(count)
    p = _percentile_fraction(stat)
    if p is None:
        raise AlarmDefinitionError(f"statistic {stat!r} is not supported")
    weighted: list[tuple[float, float]] = [(v, 1.0) for v in values]
    for s in sets:  # "you can only retrieve percentile statistics for [a statistic set] if ..."
        if s.sample_count == 1:
            weighted.append((s.sum, 1.0))
        elif s.minimum == s.maximum:
            weighted.append((s.minimum, s.sample_count))
        else:
            return None, float(count)
    if any(v < 0 for v, _ in weighted):  # "not available for metrics when any of the metric values are negative"
        return None, float(count)
    return _nearest_rank(weighted, p, count), float(count)


def _nearest_rank(weighted: list[tuple[float, float]], p: Fraction, count: float) -> float:
    """The smallest value with at least p of the samples at or below it (exact, no interpolation)."""
    rank = max(1, math.ceil(p * Fraction(count)))
    seen = 0.0
    for value, weight in sorted(weighted):
        seen += weight
        if seen >= rank:
            return value
    return max(v for v, _ in weighted)


# --- metric math -----------------------------------------------------------------------------------------
Series = list[float | None]
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
FUNCTIONS = ("FILL",)


def parse_expression(text: str, where: str = "expression") -> ast.expr:
    """Parse a metric math expression into a checked syntax tree (nothing is ever executed)."""
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval").body
    except SyntaxError as err:
        raise MetricMathError(f"{where}: cannot parse {text!r}: {err.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            if func not in FUNCTIONS:
                raise MetricMathError(f"{where}: function {func} in {text!r} is not supported by the local AWS "
                                      f"(supported: {', '.join(FUNCTIONS)})")
            if node.keywords or len(node.args) != 2:
                raise MetricMathError(f"{where}: FILL takes two arguments, FILL(series, value|REPEAT|LINEAR), "
                                      f"in {text!r}")
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise MetricMathError(f"{where}: operator {ast.unparse(node)!r} in {text!r} is not supported "
                                      "(supported: + - * / ^)")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise MetricMathError(f"{where}: {ast.unparse(node)!r} in {text!r} is not supported")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise MetricMathError(f"{where}: {node.value!r} in {text!r} is not a number")
        elif not isinstance(node, ast.Name | ast.Load | ast.operator | ast.unaryop):
            raise MetricMathError(f"{where}: {ast.unparse(node)!r} in {text!r} is not metric math "
                                  "(numbers, ids, + - * / ^, parentheses and FILL)")
    return tree


def _apply(op: Callable[[float, float], float], a: float, b: float) -> float | None:
    try:
        result = op(a, b)
    except (ZeroDivisionError, OverflowError):
        return None  # "the data point is dropped"
    if isinstance(result, complex) or math.isnan(result) or math.isinf(result):
        return None
    return float(result)


class _MathRun:
    """Evaluates the expressions of one alarm over the grid of its evaluation range."""

    def __init__(self, spec: AlarmSpec, metric_series: Mapping[str, Series], size: int) -> None:
        self.spec, self.size = spec, size
        self.values: dict[str, Series] = dict(metric_series)
        self.trees = {qid: parse_expression(text, f"alarm {spec.name!r}: Metrics[{qid}].Expression")
                      for qid, text in spec.expressions.items()}
        self._active: list[str] = []

    def series(self, qid: str) -> Series:
        if qid in self.values:
            return self.values[qid]
        if qid not in self.trees:
            raise MetricMathError(f"alarm {self.spec.name!r}: no metric or expression has Id {qid!r}")
        if qid in self._active:
            raise MetricMathError(f"alarm {self.spec.name!r}: expressions refer to each other in a cycle: "
                                  f"{' -> '.join([*self._active, qid])}")
        self._active.append(qid)
        try:
            result = self._eval(self.trees[qid], qid)
        finally:
            self._active.pop()
        if not isinstance(result, list):
            raise MetricMathError(f"alarm {self.spec.name!r}: Metrics[{qid}].Expression "
                                  f"{self.spec.expressions[qid]!r} gives a number, not a time series")
        self.values[qid] = result
        return result

    def _eval(self, node: ast.expr, qid: str) -> Series | float:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.series(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, qid)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return [None if v is None else sign * v for v in operand] if isinstance(operand, list) else sign * operand
        if isinstance(node, ast.BinOp):
            return self._binary(_BINARY[type(node.op)], self._eval(node.left, qid), self._eval(node.right, qid), qid)
        if isinstance(node, ast.Call):
            return self._fill(node, qid)
        raise MetricMathError(f"alarm {self.spec.name!r}: Metrics[{qid}]: cannot evaluate {ast.unparse(node)!r}")

    def _binary(self, op: Callable[[float, float], float], left: Series | float, right: Series | float,
                qid: str) -> Series | float:
        if not isinstance(left, list) and not isinstance(right, list):
            result = _apply(op, left, right)
            if result is None:
                raise MetricMathError(f"alarm {self.spec.name!r}: Metrics[{qid}].Expression "
                                      f"{self.spec.expressions[qid]!r} divides a number by zero")
            return result
        xs = left if isinstance(left, list) else [left] * self.size
        ys = right if isinstance(right, list) else [right] * self.size
        out: Series = []
        for a, b in zip(xs, ys, strict=True):
            # "Missing values in a time series are treated as 0" when the other operand has a value.
            out.append(None if a is None and b is None else _apply(op, a or 0.0, b or 0.0))
        return out

    def _fill(self, node: ast.Call, qid: str) -> Series:
        target = self._eval(node.args[0], qid)
        if not isinstance(target, list):
            raise MetricMathError(f"alarm {self.spec.name!r}: Metrics[{qid}]: FILL needs a time series first")
        how = node.args[1]
        if isinstance(how, ast.Name) and how.id in ("REPEAT", "LINEAR"):
            return _repeat(target) if how.id == "REPEAT" else _linear(target)
        filler = self._eval(how, qid)
        if isinstance(filler, list):
            return [v if v is not None else f for v, f in zip(target, filler, strict=True)]
        return [filler if v is None else v for v in target]


def _repeat(series: Series) -> Series:
    out: Series = []
    last: float | None = None
    for v in series:
        last = v if v is not None else last
        out.append(last)
    return out


def _linear(series: Series) -> Series:
    out = list(series)
    known = [i for i, v in enumerate(series) if v is not None]
    for a, b in zip(known, known[1:], strict=False):
        va, vb = series[a], series[b]
        assert va is not None and vb is not None
        for i in range(a + 1, b):
            out[i] = va + (vb - va) * (i - a) / (b - a)
    return out


# --- evaluation ------------------------------------------------------------------------------------------
def _metric_datapoints(ref: MetricRef, datums: Iterable[Datum], grid: Sequence[datetime],
                       period: int) -> list[Datapoint]:
    start_us, period_us = epoch_us(grid[0]), period * _US
    buckets: list[list[Datum]] = [[] for _ in grid]
    for datum in datums:
        if ref.matches(datum):
            slot = (epoch_us(datum.timestamp) - start_us) // period_us
            if 0 <= slot < len(grid):
                buckets[slot].append(datum)
    limit = low_sample_limit(ref.stat)
    points = []
    for moment, bucket in zip(grid, buckets, strict=True):
        value, count = aggregate(bucket, ref.stat)
        low = value is not None and limit is not None and count < limit
        points.append(Datapoint(moment, value, count if bucket else None, low))
    return points


def datapoints(spec: AlarmSpec, datums: Iterable[Datum], now: datetime) -> list[Datapoint]:
    """The alarm's datapoints over its evaluation range, oldest first (value None where missing)."""
    start, end = evaluation_window(spec, now)
    size = evaluation_range(spec.evaluation_periods)
    grid = [start + timedelta(seconds=spec.period * i) for i in range(size)]
    datums = [d for d in datums if start <= d.timestamp < end]
    per_metric = {ref.id: _metric_datapoints(ref, datums, grid, spec.period) for ref in spec.metrics}
    if spec.returned in per_metric:
        return per_metric[spec.returned]
    run = _MathRun(spec, {k: [p.value for p in v] for k, v in per_metric.items()}, size)
    return [Datapoint(moment, value) for moment, value in zip(grid, run.series(spec.returned), strict=True)]


@dataclass
class _Decision:
    state: str | None  # None: keep the current state
    evaluated: list[Datapoint]  # oldest first
    fills: int = 0
    fill_kind: str | None = None


def _decide(spec: AlarmSpec, points: list[Datapoint], breaches: Callable[[float], bool]) -> _Decision:
    n, m = spec.evaluation_periods, spec.datapoints_to_alarm
    real = [p for p in points if p.value is not None]
    if len(real) >= n:  # enough real datapoints: the missing-data setting is not needed
        evaluated = real[-n:]
        hits = sum(breaches(p.value) for p in evaluated if p.value is not None)
        return _Decision(ALARM if hits >= m else OK, evaluated)
    missing_slots = [i for i, p in enumerate(points) if p.value is None]
    need = n - len(real)  # "CloudWatch uses missing data points only as few times as possible", the most recent
    fill_at = set(missing_slots[-need:])
    treat = spec.treat_missing_data
    if treat in ("breaching", "notBreaching"):
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        evaluated = [Datapoint(p.timestamp, None, filled=kind) if i in fill_at else p
                     for i, p in enumerate(points) if p.value is not None or i in fill_at]
        hits = sum(breaches(p.value) for p in real if p.value is not None) + (need if treat == "breaching" else 0)
        return _Decision(ALARM if hits >= m else OK, evaluated, need, kind)
    # missing / ignore: the real datapoints decide when they can
    evaluated = [p for i, p in enumerate(points) if p.value is not None or i in fill_at]
    hits = [i for i, p in enumerate(points) if p.value is not None and breaches(p.value)]
    calm = len(real) - len(hits)
    if len(hits) >= m:
        return _Decision(ALARM, evaluated)
    if calm:
        return _Decision(OK, evaluated)
    if treat == "missing" and hits and len(points) - hits[0] >= m:
        # premature-transition rule: the oldest breaching datapoint is at least M periods old and
        # every more recent one is breaching or missing
        return _Decision(ALARM, evaluated)
    return _Decision(INSUFFICIENT_DATA if treat == "missing" else None, evaluated)


def _java_double(x: float) -> str:
    """How CloudWatch (Java) prints a double: 5.0, 0.0666851903306472, 1.0E7."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        text = repr(float(x))
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exponent = Decimal(repr(float(x))).normalize().as_tuple()
    exp10 = len(digits) + int(exponent) - 1
    mantissa = "".join(map(str, digits))
    return f"{'-' if sign else ''}{mantissa[0]}.{mantissa[1:] or '0'}E{exp10}"


def _reason_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d/%m/%y %H:%M:%S")


def iso_millis(moment: datetime) -> str:
    """CloudWatch's timestamp format in reasons, events and SNS messages: 2019-10-02T17:04:40.989+0000."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def _reason(spec: AlarmSpec, decision: _Decision, state: str, breaches: Callable[[float], bool]) -> str:
    n = spec.evaluation_periods
    real = [p for p in reversed(decision.evaluated) if p.value is not None]  # newest first
    unknown = sum(1 for p in decision.evaluated if p.value is None and p.filled is None)
    if state == INSUFFICIENT_DATA or (state not in (OK, ALARM)):
        return f"Insufficient Data: {_plural(unknown, 'datapoint')} {_was(unknown)} unknown."
    if not real and decision.fills:
        return (f"Threshold Crossed: no datapoints were received for {_plural(decision.fills, 'period')} and "
                f"{_plural(decision.fills, 'missing datapoint')} {_was(decision.fills)} treated as "
                f"[{decision.fill_kind}].")
    alarm = state == ALARM
    listed = [p for p in real if p.value is not None and breaches(p.value) == alarm]
    filled_same = decision.fills if decision.fill_kind == ("Breaching" if alarm else "NonBreaching") else 0
    count = len(listed) + filled_same
    items = ", ".join(f"{_java_double(p.value)} ({_reason_time(p.timestamp)})" for p in listed if p.value is not None)
    words = COMPARISONS[spec.comparison][1]
    text = (f"Threshold Crossed: {count} out of the last {n} datapoints [{items}] {_was(count)} "
            f"{words if alarm else 'not ' + words} the threshold ({_java_double(spec.threshold)})")
    if filled_same:
        text += (f" and {_plural(filled_same, 'missing datapoint')} {_was(filled_same)} treated as "
                 f"[{decision.fill_kind}]")
    minimum = spec.datapoints_to_alarm if alarm else n - spec.datapoints_to_alarm + 1
    transition = "OK -> ALARM" if alarm else "ALARM -> OK"
    return f"{text} (minimum {_plural(minimum, 'datapoint')} for {transition} transition)."


def _reason_data(spec: AlarmSpec, decision: _Decision, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_millis(now)}
    if decision.evaluated:
        data["startDate"] = iso_millis(decision.evaluated[0].timestamp)
    watched = spec.watched_metric
    if watched is not None:
        data["statistic"] = watched.stat
        if watched.unit:
            data["unit"] = watched.unit
    data["period"] = spec.period
    data["recentDatapoints"] = [p.value for p in decision.evaluated if p.value is not None]
    data["threshold"] = spec.threshold
    evaluated = []
    for p in reversed(decision.evaluated):
        item: dict[str, Any] = {"timestamp": iso_millis(p.timestamp)}
        if p.value is not None:
            if p.sample_count is not None:
                item["sampleCount"] = p.sample_count
            item["value"] = p.value
        evaluated.append(item)
    data["evaluatedDatapoints"] = evaluated
    return data


def evaluate_alarm(alarm: Mapping[str, Any] | AlarmSpec, datums: Iterable[Datum], now: datetime,
                   current_state: str | None = None) -> Evaluation:
    """Evaluate `alarm` at `now` over the raw `datums`; the state it should be in, and why.

    `current_state` defaults to the definition's StateValue (INSUFFICIENT_DATA for a new alarm).
    Raises AlarmDefinitionError (or MetricMathError) for what the evaluator cannot evaluate.
    """
    spec = alarm if isinstance(alarm, AlarmSpec) else parse_alarm(alarm)
    if current_state is None:
        current_state = None if isinstance(alarm, AlarmSpec) else alarm.get("StateValue")
    previous = current_state or INSUFFICIENT_DATA
    if previous not in STATES:
        raise AlarmDefinitionError(f"alarm {spec.name!r}: StateValue {previous!r} is not one of {', '.join(STATES)}")
    compare = COMPARISONS[spec.comparison][0]

    def breaches(value: float) -> bool:
        return compare(value, spec.threshold)

    points = datapoints(spec, datums, now)
    decision = _decide(spec, points, breaches)
    low = [p for p in decision.evaluated if p.low_sample]
    watched = spec.watched_metric
    if spec.low_sample_count == "ignore" and low and watched is not None:
        limit = low_sample_limit(watched.stat)
        reason = (f"Low sample count: {_plural(len(low), 'datapoint')} had fewer than {math.ceil(limit or 0)} samples "
                  f"for {watched.stat}; the state is kept (EvaluateLowSampleCountPercentile is ignore).")
        return Evaluation(previous, previous, reason, _reason_data(spec, decision, now),
                          tuple(reversed(decision.evaluated)), kept=True)
    if decision.state is None:
        unknown = sum(1 for p in decision.evaluated if p.value is None)
        reason = (f"Missing data ignored: {_plural(unknown, 'datapoint')} {_was(unknown)} unknown; "
                  "the state is kept (TreatMissingData is ignore).")
        return Evaluation(previous, previous, reason, _reason_data(spec, decision, now),
                          tuple(reversed(decision.evaluated)), kept=True)
    return Evaluation(decision.state, previous, _reason(spec, decision, decision.state, breaches),
                      _reason_data(spec, decision, now), tuple(reversed(decision.evaluated)))
