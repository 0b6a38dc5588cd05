"""`make demo` end to end, small: exits 0, tells the story, tags every number with its provenance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_demo.cli import main


@pytest.mark.slow
def test_demo_streams_trains_deploys_rolls_back_a_bad_canary_and_promotes_a_retrain(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--transactions", "20000", "--seed", "7", "--scenario", "poison",
                 "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    print(out)  # shown by pytest when an assertion below fails
    assert code == 0, out
    assert "MlopsDemo-sandbox-DataFoundation: CREATE_COMPLETE" in out
    assert "not emulated: Custom::S3AutoDeleteObjects" in out
    assert re.search(r"history archived in S3\s+20,000 records in \d+ daily objects", out)
    assert re.search(r"history lost / duplicated\s+0 / 0", out)
    sent = int(re.search(r"live transactions sent to Kinesis\s+([\d,]+)", out).group(1).replace(",", ""))
    assert sent > 1000
    dead = int(re.search(r"dead-lettered with a reason\s+([\d,]+)", out).group(1).replace(",", ""))
    assert dead > 0, "the poison scenario's malformed records reach the dead-letter queue"
    assert re.search(rf"decided exactly once / duplicated\s+{sent - dead:,} / 0", out)
    assert re.search(r"live transactions lost\s+0 ", out)
    assert re.search(r"dead letter x\d+: \S+: ", out), "each dead letter names the field and the rule"
    assert re.search(r"training pipeline\s+SUCCEEDED", out)
    assert re.search(r"gate decision\s+Approved", out)
    assert re.search(r"first deployment\s+SUCCEEDED", out)
    assert re.search(r"bad candidate \(canary\)\s+FAILED \(DeploymentRolledBack\)", out)
    assert re.search(r"requests failed on the champion during it\s+0 ", out)
    assert "endpoint RollingBack: auto-rollback: alarm mlops-demo-sandbox-endpoint-5xx-rate in ALARM" in out
    assert re.search(r"candidate deployment \(canary\)\s+SUCCEEDED", out)
    # Poison records are dead-lettered before they reach the endpoint: the captured traffic stays like training's.
    assert re.search(r"monitoring ending \(expected\)\s+no_alarm \(no_alarm\)", out)
    assert re.search(r"drift monitor: stable: no feature reached PSI 0.2 or KS 0.15 over [\d,]+ rows", out)
    decision = int(re.search(r"rollback decision after traffic shift\s+(\d+) s", out).group(1))
    assert decision <= 3 * 60, "the rollback is decided within three alarm periods"
    for state in ("Preprocess", "Train", "Evaluate", "ApplyQualityGate", "Register"):
        assert f"-> {state} " in out
    assert "PR-AUC" in out and "precision" in out and "Brier" in out
    summary = out.split("\nSummary\n", 1)[1]
    for line in summary.strip().splitlines():
        assert line.rstrip().endswith(("[measured-local]", "[simulated-clock]")), line
    assert (tmp_path / "cdk.out-sandbox" / "manifest.json").exists()


def test_simulate_writes_transactions_and_labels_atomically(tmp_path: Path) -> None:
    out, labels = tmp_path / "tx.jsonl", tmp_path / "labels.jsonl"
    assert main(["simulate", "--transactions", "300", "--out", str(out), "--labels", str(labels)]) == 0
    assert len(out.read_bytes().splitlines()) == 300
    assert len(labels.read_bytes().splitlines()) == 300
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_arguments_name_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--transactions", "0"])
    assert exit_info.value.code == 2
    assert "must be >= 1 (got 0)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--scenario", "meteor", "--out", "x"])
    assert "unknown scenario 'meteor'; allowed: baseline" in capsys.readouterr().err


def test_simulate_for_training_lands_in_the_training_window(tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from fraud_core.config import load_config

    out = tmp_path / "tx.jsonl"
    assert main(["simulate", "--transactions", "200", "--for-training", "sandbox", "--out", str(out)]) == 0
    config = load_config("sandbox")
    times = [datetime.fromisoformat(json.loads(line)["event_time"]) for line in out.read_text().splitlines()]
    newest_allowed = datetime.now(UTC) - timedelta(days=config.label_maturity_days)
    assert max(times) < newest_allowed
    assert min(times) > newest_allowed - timedelta(days=config.training_window_days + 2)
