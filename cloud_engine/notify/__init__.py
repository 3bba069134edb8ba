"""Notifications: a server's events delivered to Discord channels and outbound webhooks.

The audit log is the source (`outbox.fan_out`), so a notification survives any restart;
each subscriber gets each event once; deliveries retry with backoff and end as dead letters.
"""

from cloud_engine.notify.events import NotifyEvent, parse_events
from cloud_engine.notify.service import ChannelSender, DeliveryReport, NotificationService, Subscription
from cloud_engine.notify.signing import SIGNATURE_HEADER, sign, verify

__all__ = ["SIGNATURE_HEADER", "ChannelSender", "DeliveryReport", "NotificationService", "NotifyEvent",
           "Subscription", "parse_events", "sign", "verify"]
