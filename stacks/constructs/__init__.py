"""Reusable pieces of the stacks: a SageMaker job polled from Step Functions, a bundled Lambda function,
failure notification. Each module says what it builds and which AWS behaviour it encodes."""
