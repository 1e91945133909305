"""What supervisors must hear about callbacks, as it happens.

Every alert is logged (structlog) and handed to whoever subscribed: the console shows
them next to the live view.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

log = structlog.get_logger(__name__)


class AlertKind(enum.StrEnum):
    #: The deadline is near and no attempt is under way.
    AT_RISK = "at-risk"
    #: The deadline passed: the incident was refunded; the caller is still to be called.
    BREACHED = "breached"
    #: The customer did not answer the last allowed try: a person must take over.
    GAVE_UP = "gave-up"
    #: An appointment's reserved expert is absent and no other of the domain is free for
    #: its slot: a supervisor finds someone (or moves it with the customer).
    NO_EXPERT = "no-expert"


@dataclass(frozen=True)
class CallbackAlert:
    kind: AlertKind
    callback_id: int
    domain: str
    due_at: datetime
    at: datetime
    detail: str


AlertHandler = Callable[[CallbackAlert], None]


class CallbackAlerts:
    """A notification the console (or anything else) subscribes to."""

    def __init__(self) -> None:
        self._handlers: list[AlertHandler] = []

    def subscribe(self, handler: AlertHandler) -> Callable[[], None]:
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def publish(self, alert: CallbackAlert) -> None:
        log.warning(
            f"callbacks.{alert.kind.value}",
            callback=alert.callback_id,
            domain=alert.domain,
            due_at=alert.due_at.isoformat(),
            detail=alert.detail,
        )
        for handler in list(self._handlers):
            try:
                handler(alert)
            except Exception:
                # A subscriber's bug must not stop the dispatcher nor the other subscribers.
                log.exception("callbacks.alert_handler_failed", kind=alert.kind.value)
