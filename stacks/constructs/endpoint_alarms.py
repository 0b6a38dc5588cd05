"""The alarms that guard a deployment: SageMaker watches them during every bake and rolls back when one trips.

They watch the endpoint's variant as a whole (blue and green fleets share the variant name during a
blue/green update, as AWS requires): an error rate rather than a count, so a canary taking a quarter of the
traffic still moves it; p99 model latency, where a slow canary shows in the tail. Missing data (no traffic)
is not breaching. Each alarm also notifies the alerts topic. AWS's examples: "Auto-Rollback Configuration and
Monitoring", https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from fraud_core.config import ProfileConfig
from stacks.naming import resource_name

NAMESPACE = "AWS/SageMaker"


class EndpointGuardAlarms(Construct):
    """`alarms` (name -> Alarm) for one endpoint variant, thresholds and M-out-of-N from the profile."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ProfileConfig, endpoint_name: str,
                 variant_name: str, topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        period = Duration.seconds(config.alarm_period_seconds)
        dims = {"EndpointName": endpoint_name, "VariantName": variant_name}

        def metric(name: str, statistic: str) -> cw.Metric:
            return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map=dims, statistic=statistic,
                             period=period)

        invocations = metric("Invocations", "Sum")

        def rate(errors: str) -> cw.MathExpression:
            return cw.MathExpression(expression="100 * FILL(errors, 0) / invocations", period=period,
                                     using_metrics={"errors": metric(errors, "Sum"), "invocations": invocations},
                                     label=f"{errors} per invocation, %")

        specs = {
            "endpoint-5xx-rate": (rate("Invocation5XXErrors"), config.max_5xx_rate_percent,
                                  "Server errors (5xx) exceed {}% of invocations: the model fails requests"),
            "endpoint-4xx-rate": (rate("Invocation4XXErrors"), config.max_4xx_rate_percent,
                                  "Client errors (4xx) exceed {}% of invocations: the model rejects traffic"),
            "endpoint-latency-p99": (metric("ModelLatency", "p99"), config.max_model_latency_p99_ms * 1000,
                                     "p99 model latency exceeds {} microseconds"),
        }
        self.alarms: dict[str, cw.Alarm] = {}
        action = cw_actions.SnsAction(topic)
        for suffix, (watched, threshold, description) in specs.items():
            name = resource_name(config.name, suffix)
            alarm = cw.Alarm(
                self, suffix, alarm_name=name, metric=watched, threshold=threshold,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=config.alarm_evaluation_periods,
                datapoints_to_alarm=config.alarm_datapoints_to_alarm,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description=description.format(f"{threshold:g}") + f" ({endpoint_name}/{variant_name}); "
                                  "an auto-rollback alarm of every deployment")
            alarm.add_alarm_action(action)
            self.alarms[name] = alarm

    @property
    def names(self) -> list[str]:
        return list(self.alarms)
