"""The local AWS is a generic kernel: it imports nothing of the project that runs on it."""

from __future__ import annotations

import ast
from pathlib import Path

KERNEL = Path(__file__).resolve().parents[2] / "local_aws"
PROJECT_PACKAGES = {"fraud_core", "stacks", "mlops_demo", "sagemaker_jobs", "lambdas", "benchmarks", "app"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_kernel_imports_nothing_of_the_project() -> None:
    offenders = {str(p.relative_to(KERNEL)): sorted(_imported_roots(p) & PROJECT_PACKAGES)
                 for p in sorted(KERNEL.rglob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10, "the scan found the kernel's modules"


def test_the_scan_catches_a_project_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom fraud_core.schema import FIELDS\n")
    assert _imported_roots(bad) & PROJECT_PACKAGES == {"fraud_core"}
