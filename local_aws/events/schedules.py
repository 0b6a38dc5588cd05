"""EventBridge scheduled rules (`rate(...)` and `cron(...)` ScheduleExpressions) fire on the simulated clock.

moto 5.2.5 stores a rule's ScheduleExpression (checking it only loosely) and never fires it. Here every
enabled scheduled rule of the default bus holds one one-shot timer on the local AWS's clock, due at its
next scheduled time. When it fires it first re-arms itself for the time after, then sends AWS's
"Scheduled Event" to every target of the rule: Step Functions and Lambda targets through
`EventTargets.schedule` (asynchronous, with Input/InputPath/InputTransformer, retries and dead-letter
queue), other target types through moto's own delivery.

Why patches, not a scan of the rules on a ticking timer: the rule's lifecycle calls (PutRule, EnableRule,
DisableRule, DeleteRule, which CloudFormation's create, update and delete of AWS::Events::Rule also go
through) are patched through `MotoPatches`, so a rule is armed at the instant it is created or enabled.
A rate schedule's first time (creation + period) is then exact, where a scan would know it only to its
tick, and a clock with no scheduled rule carries no timer at all. As a guard against any other path that
changes a rule, a timer checks when it fires that the rule is still the same enabled rule with the same
expression, and drops itself otherwise.

Semantics, from AWS's documentation:

- Rate expressions (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html):
  `rate(value unit)`, a positive integer and minute|minutes|hour|hours|day|days, singular exactly when the
  value is 1. AWS says a rate expression "starts when you create the scheduled event rule, and then it runs
  on a defined schedule" and does not document the first instant. Locally the first firing is one full
  period after the rule is created, updated (PutRule replaces the whole rule) or re-enabled, then one every
  period.
- Cron expressions (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html):
  six fields, minutes hours day-of-month month day-of-week year, in UTC; every documented wildcard
  (`, - * / ? L W #`) in the fields the reference allows it; months 1-12 or JAN-DEC, days of the week
  1-7 = SUN-SAT. One of day-of-month and day-of-week must be `?`. `L` alone in day-of-week is the last
  day of the week (SAT), `5L` the month's last Thursday, `3#2` its second Tuesday, `15W` the weekday
  nearest the 15th within the month, `LW` the month's last weekday. Anything else (another field count,
  a value out of range, `/` in day-of-week, `#` in a list, a wrapping range such as FRI-MON, an offset
  such as `L-2`) raises `ScheduleExpressionError` naming the field; PutRule returns it as a
  ValidationException, as AWS refuses an invalid expression.
- Scheduled rules have minute precision and AWS runs one "within that minute, but not on the precise 0th
  second" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html);
  locally it fires on the 0th second, and the event's `time` is that scheduled time.
- A rule can have both an EventPattern and a ScheduleExpression, "in which case the rule triggers on
  matching events as well as on a schedule" (PutRule, EventBridge API reference): the scheduled event is
  delivered without being matched against the pattern.
- Disabled rules do not fire; deleting a rule stops it.
"""

from __future__ import annotations

import calendar
import copy
import inspect
import itertools
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from moto.events.exceptions import ValidationException
from moto.events.models import EventPattern, EventsBackend, Rule, events_backends

from local_aws.clock import SimulatedClock, Timer
from local_aws.events.hooks import EMULATED_TARGET_SERVICES
from local_aws.events.targets import EventTargets
from local_aws.patching import MotoPatches


class ScheduleExpressionError(ValueError):
    """An expression EventBridge would refuse, or that is not emulated; `field` names the culprit."""

    def __init__(self, field: str, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where or field}: {message}")
        self.field = field


class ScheduledDeliveryError(RuntimeError):
    pass


class Schedule(Protocol):
    def first_after(self, armed_at: datetime) -> datetime | None: ...

    def next_after(self, fired_at: datetime) -> datetime | None: ...


# --- rate(value unit) -----------------------------------------------------------------------------------
_RATE = re.compile(r"rate\((\d+) ([a-z]+)\)")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True)
class RateSchedule:
    period: timedelta

    def first_after(self, armed_at: datetime) -> datetime:
        return armed_at + self.period

    def next_after(self, fired_at: datetime) -> datetime:
        return fired_at + self.period


def _parse_rate(match: re.Match[str]) -> RateSchedule:
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ScheduleExpressionError("rate value", f"{value}: must be a positive number")
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS or unit not in (singular, singular + "s"):
        raise ScheduleExpressionError("rate unit", f"{unit!r}: one of minute | minutes | hour | hours | day | days")
    if (value == 1) != (unit == singular):
        wanted = singular if value == 1 else singular + "s"
        raise ScheduleExpressionError("rate unit", f"{unit!r} with value {value}: write {wanted!r} (singular for 1, "
                                                   "plural above)")
    return RateSchedule(timedelta(seconds=value * _RATE_UNITS[singular]))


# --- cron(minutes hours day-of-month month day-of-week year) ----------------------------------------------
FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_BOUNDS = {"minutes": (0, 59), "hours": (0, 23), "day-of-month": (1, 31), "month": (1, 12),
           "day-of-week": (1, 7), "year": (1970, 2199)}
_NAMES = {"month": {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m},
          "day-of-week": {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}}
_STEPPED = {"minutes", "hours", "day-of-month", "month", "year"}  # the reference allows `/` in these only
SATURDAY = 7

DayRule = Callable[[int, int], set[int]]  # (year, month) -> the days of that month the field selects


@dataclass(frozen=True)
class CronSchedule:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: tuple[int, ...]
    years: tuple[int, ...]
    days: DayRule = field(compare=False)  # day-of-month or day-of-week, whichever is not `?`

    def first_after(self, armed_at: datetime) -> datetime | None:
        return self.next_after(armed_at)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first scheduled minute strictly after `moment` (UTC), or None if there is none before 2200."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for day in self._days_from(start.date()):
            for hour, minute in itertools.product(self.hours, self.minutes):
                candidate = datetime.combine(day, time(hour, minute), tzinfo=UTC)
                if candidate >= start:
                    return candidate
        return None

    def _days_from(self, first: date) -> Iterator[date]:
        for year in (y for y in self.years if y >= first.year):
            for month in self.months:
                if (year, month) < (first.year, first.month):
                    continue
                for day in sorted(self.days(year, month)):
                    if date(year, month, day) >= first:
                        yield date(year, month, day)


def _parse_cron(body: str) -> CronSchedule:
    parts = body.split()
    if len(parts) != len(FIELDS):
        raise ScheduleExpressionError("cron", f"{len(parts)} fields; six are required: {' '.join(FIELDS)}")
    text = dict(zip(FIELDS, parts, strict=True))
    day_rules = [r for r in (_day_of_month(text["day-of-month"]), _day_of_week(text["day-of-week"])) if r]
    if len(day_rules) != 1:
        raise ScheduleExpressionError("day-of-month/day-of-week",
                                      f"{text['day-of-month']!r} and {text['day-of-week']!r}: exactly one of the "
                                      "two must be '?'")
    return CronSchedule(minutes=_sorted(_values("minutes", text["minutes"])),
                        hours=_sorted(_values("hours", text["hours"])),
                        months=_sorted(_values("month", text["month"])),
                        years=_sorted(_values("year", text["year"])),
                        days=day_rules[0])


def _sorted(values: set[int]) -> tuple[int, ...]:
    return tuple(sorted(values))


def _values(name: str, text: str) -> set[int]:
    """A list of `*`, values, ranges and steps (`a`, `a-b`, `a/n`, `a-b/n`, `*/n`) as the set of values."""
    out: set[int] = set()
    for item in text.split(","):
        out.update(_item(name, text, item))
    return out


def _item(name: str, text: str, item: str) -> range:
    low, high = _BOUNDS[name]
    base, slash, step_text = item.partition("/")
    if slash and name not in _STEPPED:
        raise _field_error(name, text, "'/' is not allowed in this field")
    step = _number(name, text, step_text, 1, high) if slash else 1
    if base == "*":
        return range(low, high + 1, step)
    if "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(name, text, first), _value(name, text, last)
        if start > end:
            raise _field_error(name, text, f"range {base!r} runs backwards (ranges do not wrap)")
        return range(start, end + 1, step)
    start = _value(name, text, base)
    return range(start, (high if slash else start) + 1, step)


def _value(name: str, text: str, token: str) -> int:
    named = _NAMES.get(name, {}).get(token.upper())
    if named is not None:
        return named
    low, high = _BOUNDS[name]
    names = f" or one of {', '.join(_NAMES[name])}" if name in _NAMES else ""
    return _number(name, text, token, low, high, names)


def _number(name: str, text: str, token: str, low: int, high: int, alternatives: str = "") -> int:
    if not token.isdigit() or not low <= int(token) <= high:
        raise _field_error(name, text, f"{token!r} is not a number from {low} to {high}{alternatives}")
    return int(token)


def _field_error(name: str, text: str, reason: str) -> ScheduleExpressionError:
    return ScheduleExpressionError(name, f"{text!r}: {reason}", where=f"cron {name} field")


def _day_of_month(text: str) -> DayRule | None:
    if text == "?":
        return None
    if text == "L":
        return lambda y, m: {_last_day(y, m)}
    if text == "LW":
        return lambda y, m: {_nearest_weekday(y, m, _last_day(y, m))}
    if text.endswith("W") and "," not in text:
        wanted = _value("day-of-month", text, text[:-1])
        return lambda y, m: {_nearest_weekday(y, m, wanted)} if wanted <= _last_day(y, m) else set()
    if "L" in text or "W" in text:
        raise _field_error("day-of-month", text, "'L' and 'W' stand alone ('L', 'LW', '15W'); no lists, "
                                                 "ranges or offsets with them")
    days = _values("day-of-month", text)
    return lambda y, m: {d for d in days if d <= _last_day(y, m)}


def _day_of_week(text: str) -> DayRule | None:
    if text == "?":
        return None
    if "#" in text:
        return _nth_weekday_rule(text)
    if text == "L":  # the last day of the week
        return _weekday_rule({SATURDAY})
    if text.endswith("L") and "," not in text and "-" not in text:
        wanted = _value("day-of-week", text, text[:-1])
        return lambda y, m: {max(_weekdays_of(y, m, wanted))}
    if "L" in text:
        raise _field_error("day-of-week", text, "'L' stands alone or after one day ('L', '6L'); no lists or ranges "
                                                "with it")
    return _weekday_rule(_values("day-of-week", text))


def _nth_weekday_rule(text: str) -> DayRule:
    day_text, _, nth_text = text.partition("#")
    if any(c in text for c in ",-*/") or "#" in nth_text:
        raise _field_error("day-of-week", text, "'#' takes one day and one number, alone in the field (e.g. 3#2)")
    wanted, nth = _value("day-of-week", text, day_text), _number("day-of-week", text, nth_text, 1, 5)
    return lambda y, m: set(_weekdays_of(y, m, wanted)[nth - 1:nth])


def _weekday_rule(wanted: set[int]) -> DayRule:
    return lambda y, m: {d for d in range(1, _last_day(y, m) + 1) if _weekday(date(y, m, d)) in wanted}


def _weekday(day: date) -> int:
    """EventBridge's day-of-week number: 1 = SUN ... 7 = SAT (Python's weekday() is 0 = Monday)."""
    return (day.weekday() + 1) % 7 + 1


def _weekdays_of(year: int, month: int, wanted: int) -> list[int]:
    return [d for d in range(1, _last_day(year, month) + 1) if _weekday(date(year, month, d)) == wanted]


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """The Monday-Friday nearest `day`, never leaving the month (1W on a Saturday is Monday the 3rd)."""
    weekday = date(year, month, day).weekday()  # 5 = Saturday, 6 = Sunday
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < _last_day(year, month) else day - 2
    return day


def parse_schedule(expression: str) -> Schedule:
    """A ScheduleExpression as a schedule; ScheduleExpressionError (naming the field) if it is not valid."""
    expression = expression.strip()
    rate = _RATE.fullmatch(expression)
    if rate:
        return _parse_rate(rate)
    if expression.startswith("rate("):
        raise ScheduleExpressionError("rate", f"{expression!r}: write rate(value unit), e.g. rate(5 minutes)")
    if expression.startswith("cron(") and expression.endswith(")"):
        return _parse_cron(expression[5:-1])
    raise ScheduleExpressionError("ScheduleExpression", f"{expression!r}: must be rate(...) or cron(...)")


def scheduled_event(rule: Rule, when: datetime) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's targets."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": rule.account_id, "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": rule.region_name, "resources": [rule.arn], "detail": {}}


# --- on the clock -----------------------------------------------------------------------------------------
RuleKey = tuple[str, str, str]  # (account, region, rule name) on the default bus


@dataclass(eq=False)
class _Armed:
    rule: Rule
    expression: str
    schedule: Schedule
    timer: Timer | None = None


class ScheduledRules:
    """Every enabled scheduled rule of the local AWS, each with its next firing armed on the clock."""

    def __init__(self, clock: SimulatedClock, targets: EventTargets) -> None:
        self.clock, self.targets = clock, targets
        self.fired: list[tuple[str, str]] = []  # (rule ARN, event time) of every firing, in order
        self._armed: dict[RuleKey, _Armed] = {}
        self._lock = threading.RLock()  # API calls (server threads) and firings (the clock's thread)

    def install(self, patches: MotoPatches) -> None:
        self._install_put_rule(patches)
        for action in ("enable_rule", "disable_rule", "delete_rule"):
            self._install_lifecycle(patches, action)

    def next_times(self) -> dict[str, datetime]:
        """Rule ARN -> when it fires next."""
        with self._lock:
            return {a.rule.arn: self.clock.at(a.timer.due) for a in self._armed.values() if a.timer}

    # --- following the rules' lifecycle -------------------------------------------------------------------
    def _install_put_rule(self, patches: MotoPatches) -> None:
        original = EventsBackend.put_rule
        signature = inspect.signature(original)
        patches.expect("scheduled_expression" in signature.parameters,
                       "EventsBackend.put_rule takes scheduled_expression")

        def put_rule(backend: EventsBackend, *args: Any, **kwargs: Any) -> Rule:
            expression = signature.bind(backend, *args, **kwargs).arguments.get("scheduled_expression")
            if expression:
                try:
                    parse_schedule(expression)
                except ScheduleExpressionError as err:
                    raise ValidationException(f"Parameter ScheduleExpression is not valid: {err}") from None
            rule = original(backend, *args, **kwargs)
            if rule.event_bus_name == "default":
                self.sync(backend.account_id, backend.region_name, rule.name, restart=True)
            return rule

        patches.replace(EventsBackend, "put_rule", put_rule,
                        why="PutRule validates ScheduleExpression as EventBridge does and (re)arms the schedule")

    def _install_lifecycle(self, patches: MotoPatches, action: str) -> None:
        original = getattr(EventsBackend, action)

        def lifecycle(backend: EventsBackend, name: str, event_bus_arn: str | None = None) -> Any:
            result = original(backend, name, event_bus_arn)
            if (event_bus_arn or "default").split("/")[-1] == "default":
                self.sync(backend.account_id, backend.region_name, name, restart=False)
            return result

        patches.replace(EventsBackend, action, lifecycle,
                        why=f"{action}: scheduled rules fire on the simulated clock only while enabled and present")

    def sync(self, account: str, region: str, name: str, *, restart: bool) -> None:
        """Arm or disarm the rule `name` to match what moto now holds; `restart` re-arms it from now."""
        key = (account, region, name)
        rule = _current_rule(account, region, name)
        with self._lock:
            armed = self._armed.get(key)
            if armed and (restart or rule is not armed.rule or not _is_scheduled(rule)):
                self._disarm(key)
                armed = None
            if armed is None and rule is not None and _is_scheduled(rule):
                entry = _Armed(rule, rule.scheduled_expression, parse_schedule(rule.scheduled_expression))
                self._armed[key] = entry
                self._arm(key, entry, entry.schedule.first_after(_utc(self.clock.now())))

    def _disarm(self, key: RuleKey) -> None:
        armed = self._armed.pop(key, None)
        if armed and armed.timer:
            armed.timer.cancel()

    def _arm(self, key: RuleKey, armed: _Armed, when: datetime | None) -> None:
        if when is None:  # a cron expression with no time left (e.g. only past years)
            armed.timer = None
            return
        elapsed = (when - _utc(self.clock.start)).total_seconds()
        armed.timer = self.clock.call_at(elapsed, lambda: self._fire(key, armed, when),
                                         f"eventbridge schedule: {armed.rule.name}")

    # --- firing -------------------------------------------------------------------------------------------
    def _fire(self, key: RuleKey, armed: _Armed, when: datetime) -> None:
        with self._lock:
            if self._armed.get(key) is not armed:
                return  # replaced or disarmed after this timer was taken off the heap
            rule = _current_rule(*key)
            if rule is not armed.rule or not _is_scheduled(rule) or rule.scheduled_expression != armed.expression:
                self._disarm(key)  # changed by a path that was not patched: the rule's next sync re-arms it
                return
            self._arm(key, armed, armed.schedule.next_after(when))  # re-arm first: a failed delivery must not stop it
        event = scheduled_event(armed.rule, when)
        self.fired.append((armed.rule.arn, event["time"]))
        self._deliver(armed.rule, event, when)

    def _deliver(self, rule: Rule, event: dict[str, Any], when: datetime) -> None:
        failures = []
        for target in list(rule.targets):
            try:  # one broken target (e.g. an InputTransformer that renders no JSON) must not starve the others
                self._deliver_to(rule, target, event, when.timestamp())
            except Exception as err:
                failures.append(f"{target.get('Id')}: {err!r}")
        if failures:  # recorded by the clock, reported when the local AWS stops
            raise ScheduledDeliveryError(f"rule {rule.name} at {event['time']}: " + "; ".join(failures))

    def _deliver_to(self, rule: Rule, target: dict[str, Any], event: dict[str, Any], epoch: float) -> None:
        # moto's input-template parser (InputTransformer, and every target moto delivers) reads an
        # "ingestion-time", which AWS offers transformers as <aws.events.event.ingestion-time> but does not put in
        # the event: only those deliveries carry it.
        if target["Arn"].split(":")[2] in EMULATED_TARGET_SERVICES:
            stamped = {**event, "ingestion-time": epoch} if target.get("InputTransformer") else dict(event)
            self.targets.schedule(rule.name, target, stamped)
            return
        # moto delivers SQS, Logs and bus targets itself, from its own message format ("time" in epoch seconds,
        # which it renders as ISO for SQS), through a copy of the rule without its pattern: a scheduled event is
        # not matched against the rule's EventPattern.
        clone = copy.copy(rule)
        clone.event_pattern, clone.targets = EventPattern.load(None), [target]
        clone.scheduled_expression = None  # else the delivery hook takes it for a schedule-only rule and sends nothing
        clone.send_to_targets({**event, "time": epoch, "ingestion-time": epoch})


def _current_rule(account: str, region: str, name: str) -> Rule | None:
    bus = events_backends[account][region].event_buses.get("default")
    return bus.rules.get(name) if bus else None


def _utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC time (a clock may have been started with a naive UTC time)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_scheduled(rule: Rule | None) -> bool:
    # ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is enabled too
    return rule is not None and bool(rule.scheduled_expression) and str(rule.state).startswith("ENABLED")
