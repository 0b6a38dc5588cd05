"""SQS without recounting the queue per message.

moto 5.2.5 decides whether a received message is within the queue's retention period by calling
`get_queue_attributes`, and SendMessage reads one flag through `Queue.attributes`: both build every attribute
of the queue, including the approximate message counts, each a pass over all its messages with a clock read
per message. Draining or filling a queue of a thousand dead letters was quadratic with a large constant (a
third of the 100,000-record scoring test). Here the retention check reads the one attribute it needs, and the
counts and the visible-message list read the clock once per pass. Same rules as moto's, which are AWS's: a
message is visible once its visibility timeout has passed, delayed until its delay has, and older than
MessageRetentionPeriod it is never delivered. SQS times stay on the wall clock (docs/local-aws.md).
"""

from __future__ import annotations

from moto.core.utils import unix_time, unix_time_millis
from moto.sqs.models import Message, Queue, SQSBackend

from local_aws.patching import MotoPatches


def install(patches: MotoPatches) -> None:
    def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > unix_time()

    patches.replace(SQSBackend, "is_message_valid_based_on_retention_period",
                    is_message_valid_based_on_retention_period,
                    why="one attribute, not every attribute (each a pass over the queue) per received message")

    def messages(self: Queue) -> list[Message]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self: Queue) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self: Queue) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    for name, getter in (("messages", messages), ("approximate_number_of_messages", lambda q: len(messages(q))),
                         ("approximate_number_of_messages_delayed", delayed),
                         ("approximate_number_of_messages_not_visible", not_visible)):
        patches.replace(Queue, name, property(getter), why="one clock read per pass over the queue, not per message")
