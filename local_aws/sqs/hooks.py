"""SQS retention checks without recounting the queue.

moto 5.2.5 decides whether a received message is within the queue's retention period by calling
`get_queue_attributes`, which builds every attribute of the queue, including the approximate message counts,
each a pass over all its messages with a clock read per message: quadratic when a consumer drains a queue of
hundreds of messages. The check needs one attribute; read it from the queue. Same rule as moto's (and AWS's:
a message older than MessageRetentionPeriod is deleted, never delivered).
"""

from __future__ import annotations

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend

from local_aws.patching import MotoPatches


def install(patches: MotoPatches) -> None:
    def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    patches.replace(SQSBackend, "is_message_valid_based_on_retention_period",
                    is_message_valid_based_on_retention_period,
                    why="one attribute, not every attribute (each a pass over the queue) per received message")
