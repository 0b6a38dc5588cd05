"""A local AWS for offline runs: moto plus emulation of what moto lacks, on one simulated clock.

Generic by design: nothing here imports the project that uses it (tests/local_aws enforce this).
Start one with `local_aws.runtime.local_aws()`; deploy a synthesized CDK assembly with
`local_aws.cloudformation.deploy.deploy_assembly`. See docs/local-aws.md.
"""
