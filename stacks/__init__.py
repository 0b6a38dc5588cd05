"""CDK stacks and constructs: infrastructure only."""

import os

# jsii prints a Node end-of-life banner on every aws_cdk import; Node 20 is what this machine has.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
