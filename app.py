#!/usr/bin/env python3
"""CDK entry point: `cdk synth -c profile=sandbox|prod` (see stacks/app_builder.py)."""

from stacks.app_builder import build_app

app, _ = build_app()
app.synth()
