"""SageMaker jobs on the local AWS: run for real, status on the simulated clock, logs where SageMaker puts them."""

from __future__ import annotations

from local_aws.runtime import local_aws

ROLE = "arn:aws:iam::123456789012:role/job"


def _processing_job(sm, name: str, code: str) -> None:
    sm.create_processing_job(
        ProcessingJobName=name, RoleArn=ROLE,
        AppSpecification={"ImageUri": "local", "ContainerEntrypoint": ["python3", "-c", code]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.t3.medium",
                                               "VolumeSizeInGB": 1}},
        StoppingCondition={"MaxRuntimeInSeconds": 60})


def test_a_job_is_in_progress_until_its_run_time_passes_on_the_clock_and_logs_to_cloudwatch() -> None:
    with local_aws() as aws:
        sm, logs = aws.client("sagemaker"), aws.client("logs")
        _processing_job(sm, "hello", "print('hello from the job')")
        aws.jobs.jobs["hello"].wait(30)
        assert sm.describe_processing_job(ProcessingJobName="hello")["ProcessingJobStatus"] == "InProgress"
        aws.clock.advance(1)
        assert sm.describe_processing_job(ProcessingJobName="hello")["ProcessingJobStatus"] == "Completed"

        streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/ProcessingJobs")["logStreams"]
        assert [s["logStreamName"] for s in streams] == [f"hello/algo-1-{int(aws.clock.start.timestamp())}"]
        events = logs.get_log_events(logGroupName="/aws/sagemaker/ProcessingJobs",
                                     logStreamName=streams[0]["logStreamName"])["events"]
        assert [e["message"] for e in events] == ["hello from the job"]


def test_a_failed_job_reports_its_reason_in_describe_and_in_the_log() -> None:
    with local_aws() as aws:
        sm = aws.client("sagemaker")
        _processing_job(sm, "boom", "import sys; sys.exit('bad input: amount in cents')")
        aws.jobs.jobs["boom"].wait(30)
        aws.clock.advance(1)
        desc = sm.describe_processing_job(ProcessingJobName="boom")
        assert desc["ProcessingJobStatus"] == "Failed"
        assert desc["FailureReason"] == "AlgorithmError: bad input: amount in cents"
        stream = aws.jobs.jobs["boom"].log_stream
        messages = [e["message"] for e in aws.client("logs").get_log_events(
            logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream)["events"]]
        assert "FailureReason: AlgorithmError: bad input: amount in cents" in messages


def test_kinesis_arrival_times_and_metric_timestamps_are_simulated_clock_times() -> None:
    with local_aws() as aws:
        aws.clock.advance(3600)
        kinesis = aws.client("kinesis")
        kinesis.create_stream(StreamName="s", ShardCount=1)
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")
        shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]
        it = kinesis.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        (record,) = kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]
        assert abs((record["ApproximateArrivalTimestamp"] - aws.clock.now()).total_seconds()) < 1


def test_job_names_and_tag_values_aws_would_refuse_are_refused_locally() -> None:
    from botocore.exceptions import ClientError

    with local_aws() as aws:
        sm = aws.client("sagemaker")
        for name in ("x" * 64, "bad_name", "-leading"):
            try:
                _processing_job(sm, name, "print(1)")
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ValidationException"
                assert "processingJobName" in err.response["Error"]["Message"] or \
                    "ProcessingJobName" in err.response["Error"]["Message"]
            else:
                raise AssertionError(f"{name!r} was accepted")
        assert aws.jobs.jobs == {}, "nothing ran"
