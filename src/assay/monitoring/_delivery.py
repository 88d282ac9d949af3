"""Delivery of monitoring alerts: the :class:`Message`, the :class:`Notifier` contract and
:func:`deliver`, which retries one notifier and records every attempt.

A :class:`Message` is built elsewhere and carried by a notifier (the channels are in
``_notifiers``). A notifier's ``send`` raises :class:`DeliveryError` with a short reason when the
message did not get through; :func:`deliver` retries with exponential backoff and returns the
attempts instead of raising, so that a failing channel is recorded rather than losing the alert.

>>> message = Message("[AMBER] sepsis-6h 2.1: calibration", "Slope 0.81 (0.70 to 0.93).",
...                   "warning", {"monitor": "sepsis-6h"})
>>> class FlakyPager:
...     name = "pager"
...     calls = 0
...     def send(self, message):
...         self.calls += 1
...         if self.calls == 1:
...             raise DeliveryError("timed out")
>>> attempts = deliver(message, FlakyPager(), sleep=lambda seconds: None)
>>> [(attempt.attempt, attempt.ok, attempt.error) for attempt in attempts]
[(1, False, 'timed out'), (2, True, None)]
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from assay.errors import AssayError, InputError

__all__ = ["DeliveryAttempt", "DeliveryError", "Message", "Notifier", "deliver"]

logger = logging.getLogger(__name__)

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")


@dataclass(frozen=True)
class Message:
    """One alert, ready to send: a one-line subject, a plain-text body and a JSON payload."""

    subject: str
    text: str
    severity: Severity
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise InputError(f"message severity must be one of {', '.join(SEVERITIES)} "
                             f"(got {self.severity!r})")
        if not self.subject.strip() or "\n" in self.subject or "\r" in self.subject:
            raise InputError(f"message subject must be one non-empty line (got {self.subject!r})")


class DeliveryError(AssayError):
    """A notifier could not deliver a message; the text is the short reason."""


class Notifier(Protocol):
    """Anything with a ``name`` that can ``send`` a :class:`Message` or raise DeliveryError."""

    @property
    def name(self) -> str: ...

    def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class DeliveryAttempt:
    """The outcome of one try of one notifier; ``error`` is None when ``ok``."""

    notifier: str
    attempt: int
    ok: bool
    error: str | None
    at: datetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


def deliver(message: Message, notifier: Notifier, *, retries: int = 3, backoff: float = 1.0,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], datetime] = _utc_now) -> list[DeliveryAttempt]:
    """Send ``message`` with up to ``retries`` retries; never raises on a failed delivery.

    Waits ``backoff * 2**k`` seconds before retry ``k + 1`` (1, 2, 4 s by default). A
    :class:`DeliveryError` or any other exception from the notifier (a bug must not lose an
    alert) is a failed attempt; the last attempt in the list says whether the message got
    through.
    """
    if retries < 0 or backoff < 0:
        raise InputError(f"retries and backoff must be 0 or more (got {retries}, {backoff})")
    attempts: list[DeliveryAttempt] = []
    for number in range(1, retries + 2):
        error: str | None = None
        try:
            notifier.send(message)
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # a notifier bug is a failed attempt, never a lost alert
            logger.exception("notifier %r failed unexpectedly", notifier.name)
            error = f"{type(exc).__name__}: {exc}"
        attempts.append(DeliveryAttempt(notifier.name, number, error is None, error, clock()))
        if error is None:
            return attempts
        logger.warning("notifier %r attempt %d of %d failed: %s", notifier.name, number,
                       retries + 1, error)
        if number <= retries:
            sleep(backoff * 2 ** (number - 1))
    logger.error("notifier %r did not deliver %r after %d attempts", notifier.name,
                 message.subject, len(attempts))
    return attempts
