"""CloudWatch embedded metric format: metrics a function writes as JSON log lines become metric datapoints.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
A line is an EMF document when it is a JSON object with `_aws.CloudWatchMetrics`: each directive names a
namespace, dimension sets (lists of keys whose values are top-level members) and metrics (names whose values
are top-level numbers or arrays of numbers). The document's own `_aws.Timestamp` is replaced by the local
AWS's clock (the function read the wall clock).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def emf_datapoints(line: str, when: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, PutMetricData datum) for each metric in an EMF line; [] for any other line."""
    if not line.startswith("{") or '"_aws"' not in line:
        return []
    try:
        doc = json.loads(line)
        directives = doc["_aws"]["CloudWatchMetrics"]
    except (ValueError, KeyError, TypeError):
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    for directive in directives:
        namespace = directive.get("Namespace")
        for dimension_set in directive.get("Dimensions") or [[]]:
            dims = [{"Name": k, "Value": str(doc[k])} for k in dimension_set if k in doc]
            for metric in directive.get("Metrics", []):
                value = doc.get(metric.get("Name"))
                values = value if isinstance(value, list) else [value]
                numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
                if namespace and numbers:
                    out.append((namespace, {"MetricName": metric["Name"], "Values": numbers,
                                            "Unit": metric.get("Unit", "None"), "Dimensions": dims,
                                            "Timestamp": when.replace(tzinfo=None)}))
    return out
