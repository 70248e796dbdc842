"""Transport name → instance. AWS transports import boto3 lazily, so the memory
transport works on a machine without it."""

from __future__ import annotations

from reference_app.service_layer.ports import Transport
from reference_app.settings import Settings


def create_transport(settings: Settings) -> Transport:
    if settings.transport == "memory":
        from reference_app.transports.memory import MemoryTransport

        return MemoryTransport()
    if settings.transport == "sqs":
        from reference_app.transports.sqs import SqsTransport

        return SqsTransport.from_settings(settings)
    if settings.transport == "eventbridge":
        from reference_app.transports.eventbridge import EventBridgeTransport

        return EventBridgeTransport.from_settings(settings)
    raise ValueError(f"unknown transport {settings.transport!r}")
