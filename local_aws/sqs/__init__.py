"""SQS in moto, made to scale to the dead-letter and failed-batch queues of a 100,000-record run."""
