"""The capacity arithmetic behind docs/capacity.md and the autoscaling target: pure functions, no timing.

Nothing here measures speed. The last tests check that the committed benchmarks/capacity.json is consistent with
this arithmetic and that the generated section of docs/capacity.md is exactly what the JSON renders to, so a
number edited by hand in either file, or a change to the arithmetic without a new bench run, fails here.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    # benchmarks/ is not an installed package (pyproject lists what ships), so load the module from the checkout;
    # capacity.py imports only the standard library.
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


capacity = _load("capacity")


# --- instances from capacity and headroom --------------------------------------------------------------------------
@pytest.mark.parametrize(("rate", "per_instance", "utilization", "expected"), [
    (100, 200, 0.5, 1),  # exactly the usable capacity: one instance, not two
    (101, 200, 0.5, 2),
    (1_000, 222.1, 0.5, 10),  # 1000 / 111.05 = 9.005
    (10_000, 13_370, 0.5, 2),  # 10000 / 6685 = 1.496
    (10_000, 5_000, 1.0, 2),
    (10_000, 5_000, 0.7, 3),  # 10000 / 3500 = 2.86
    (0.9, 3, 0.3, 1),  # 0.9 / (3 * 0.3) is 1.0000000000000002 in floats: still one instance
    (0, 100, 0.5, 1),  # no traffic still needs an instance to answer
])
def test_instances_cover_the_rate_at_the_target_utilization(rate: float, per_instance: float, utilization: float,
                                                            expected: int) -> None:
    assert capacity.instances_needed(rate, per_instance, utilization) == expected


def test_headroom_means_more_instances_and_a_floor_is_kept() -> None:
    assert capacity.instances_needed(1_000, 100, 1.0) == 10
    assert capacity.instances_needed(1_000, 100, 0.5) == 20
    assert capacity.instances_needed(10, 100, 0.5, min_instances=2) == 2  # prod's availability floor


def test_the_instances_found_are_the_fewest_that_stay_within_the_utilization() -> None:
    for rate in (1, 99, 100, 101, 999, 1_000, 12_345):
        n = capacity.instances_needed(rate, 37.5, 0.6)
        assert rate <= n * 37.5 * 0.6 + 1e-9
        assert n == 1 or rate > (n - 1) * 37.5 * 0.6


def test_fleet_rate_inverts_instances_needed() -> None:
    assert capacity.fleet_rate(2, 13_370, 0.5) == 13_370
    assert capacity.instances_needed(capacity.fleet_rate(3, 250, 0.5), 250, 0.5) == 3


# --- the per-minute autoscaling target -----------------------------------------------------------------------------
def test_the_target_is_invocations_per_instance_per_minute() -> None:
    assert capacity.invocations_per_instance_target(1, 1.0) == 60  # per minute, not per second
    assert capacity.invocations_per_instance_target(100, 0.5) == 3_000  # MAX_RPS * SAFETY_FACTOR * 60
    assert capacity.invocations_per_instance_target(133.7, 0.5) == 4_011


def test_the_target_rounds_down_so_an_instance_never_runs_hotter_than_planned() -> None:
    assert capacity.invocations_per_instance_target(10.49, 0.5) == 314  # 314.7
    assert capacity.invocations_per_instance_target(0.01, 0.5) == 1  # never 0: the policy needs a positive target


def test_a_batched_caller_is_counted_in_requests_not_records() -> None:
    assert capacity.requests_per_second(10_000, 100) == 100
    # the same instance: 13,370 records/s as 100-record requests is 133.7 requests/s
    per_request = capacity.requests_per_second(13_370, 100)
    assert capacity.invocations_per_instance_target(per_request, 0.5) == 4_011


# --- choosing the capacity from load levels ------------------------------------------------------------------------
def test_the_capacity_is_the_highest_throughput_within_the_latency_target() -> None:
    levels = [{"concurrency": 1, "throughput_rps": 200.0, "p99_ms": 7.0},
              {"concurrency": 2, "throughput_rps": 260.0, "p99_ms": 9.9},
              {"concurrency": 4, "throughput_rps": 300.0, "p99_ms": 18.0}]
    best = capacity.best_within_target(levels, 10.0, "throughput_rps")
    assert best is not None and best["concurrency"] == 2
    assert capacity.best_within_target(levels, 5.0, "throughput_rps") is None


def test_the_table_has_one_row_per_rate_and_one_column_per_request_shape() -> None:
    table = capacity.capacity_table((100, 1_000, 10_000), {"single_record": 222.1, "batch_100": 13_370}, 0.5)
    assert table == [{"transactions_per_s": 100, "single_record": 1, "batch_100": 1},
                     {"transactions_per_s": 1_000, "single_record": 10, "batch_100": 1},
                     {"transactions_per_s": 10_000, "single_record": 91, "batch_100": 2}]


@pytest.mark.parametrize("call", [
    lambda: capacity.instances_needed(100, 0, 0.5),
    lambda: capacity.instances_needed(100, 100, 0),
    lambda: capacity.instances_needed(100, 100, 1.5),
    lambda: capacity.instances_needed(-1, 100, 0.5),
    lambda: capacity.instances_needed(math.nan, 100, 0.5),
    lambda: capacity.instances_needed(100, True, 0.5),
    lambda: capacity.instances_needed(100, 100, 0.5, min_instances=0),
    lambda: capacity.invocations_per_instance_target(0, 0.5),
    lambda: capacity.invocations_per_instance_target(100, math.inf),
    lambda: capacity.requests_per_second(100, 0),
    lambda: capacity.fleet_rate(0, 100, 0.5),
    lambda: capacity.best_within_target([], 0, "throughput_rps"),
])
def test_impossible_inputs_are_refused_by_name(call: Any) -> None:
    with pytest.raises(ValueError, match=r"^\w+: must be"):
        call()


# --- the committed numbers -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    return json.loads((ROOT / "benchmarks" / "capacity.json").read_text())


def test_the_committed_table_and_target_follow_from_the_committed_measurement(committed: dict[str, Any]) -> None:
    inputs, shapes = committed["inputs"], committed["shapes"]
    util = inputs["target_utilization"]
    per_instance = {name: s["capacity_records_per_s"] for name, s in shapes.items()}
    assert committed["table"] == capacity.capacity_table(inputs["rates_transactions_per_s"], per_instance, util)
    scaling = committed["autoscaling"]
    assert scaling["unit"] == "invocations per instance per minute"
    for name, s in shapes.items():
        assert s["capacity_records_per_s"] == pytest.approx(s["capacity_rps"] * s["records_per_request"], abs=0.1)
        assert scaling["by_shape"][name] == capacity.invocations_per_instance_target(s["capacity_rps"], util)
        assert s["p99_ms"] <= s["p99_target_ms"], "the capacity is a level that met the latency target"
    assert scaling["target_value"] == scaling["by_shape"][scaling["basis"]]
    assert committed["provenance"] == "measured-local"


def test_the_doc_section_is_what_the_committed_json_renders_to(committed: dict[str, Any]) -> None:
    doc = (ROOT / "docs" / "capacity.md").read_text()
    assert capacity.DOC_BEGIN in doc and capacity.DOC_END in doc
    section = doc.split(capacity.DOC_BEGIN, 1)[1].split(capacity.DOC_END, 1)[0]
    assert section.strip() == capacity.render_table(committed).strip()
    assert f"**{committed['autoscaling']['target_value']:,} invocations per instance per minute**" in section
