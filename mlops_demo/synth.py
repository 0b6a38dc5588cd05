"""Synthesize the real CDK app (the same one `cdk synth` runs) into a cloud assembly directory."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def synthesize(profile: str, outdir: Path, overrides: dict | None = None) -> Path:
    """Run app.py's builder in-process; returns `outdir`. cdk-nag findings raise here, as in `cdk synth`."""
    import aws_cdk as cdk

    from stacks.app_builder import build_app

    outdir.mkdir(parents=True, exist_ok=True)
    context: dict = {"profile": profile}
    if overrides:
        context["config"] = overrides
    app = cdk.App(outdir=str(outdir), context=context, analytics_reporting=False)
    build_app(app)
    app.synth()
    return outdir
