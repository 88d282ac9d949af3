"""The notifiers, one per channel: console, JSON lines, e-mail, Slack, Teams and signed webhooks.

A notifier only transports a :class:`~assay.monitoring._delivery.Message` (retries and the record
of attempts are :func:`~assay.monitoring._delivery.deliver`'s; the notifiers a monitoring file
declares are built in ``_notifier_config``). Every ``send`` raises :class:`DeliveryError` with a
short reason when the message did not get through. Only the standard library carries messages;
secrets (SMTP password, webhook secret, webhook URLs) are read from the environment variables a
monitoring file names, never from the file itself.

>>> import io
>>> stream = io.StringIO()
>>> message = Message("[AMBER] sepsis-6h 2.1: calibration", "Slope 0.81 (0.70 to 0.93).",
...                   "warning", {"monitor": "sepsis-6h"})
>>> ConsoleNotifier(stream=stream).send(message)
>>> print(stream.getvalue(), end="")
[AMBER] sepsis-6h 2.1: calibration
<BLANKLINE>
Slope 0.81 (0.70 to 0.93).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import smtplib
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, TextIO

from assay._version import __version__
from assay.errors import InputError
from assay.monitoring._delivery import DeliveryError, Message, _utc_now

__all__ = [
    "ConsoleNotifier", "FileNotifier", "SlackNotifier", "SmtpNotifier", "TeamsNotifier",
    "WebhookNotifier", "verify_signature",
]


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _to_json(document: Any, *, canonical: bool = False) -> str:
    try:
        if canonical:
            return json.dumps(document, sort_keys=True, separators=(",", ":"),
                              default=_json_default, allow_nan=False)
        return json.dumps(document, default=_json_default, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise DeliveryError(f"the message payload is not JSON: {exc}") from exc


def _secret(variable: str, field: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise InputError(f"environment variable {variable!r} (named by {field!r}) is not set "
                         "or is empty")
    return value


class ConsoleNotifier:
    """Write the subject, a blank line and the text to ``stream`` (standard output by default)."""

    def __init__(self, name: str = "console", stream: TextIO | None = None) -> None:
        self.name = name
        self.stream = stream

    def send(self, message: Message) -> None:
        stream = self.stream if self.stream is not None else sys.stdout
        try:
            stream.write(f"{message.subject}\n\n{message.text}\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            raise DeliveryError(f"cannot write to the console: {exc}") from exc

    def __repr__(self) -> str:
        return f"ConsoleNotifier(name={self.name!r})"


class FileNotifier:
    """Append one JSON line per message: ``sent_at``, ``subject``, ``severity``, ``text``,
    ``payload``."""

    def __init__(self, path: str | os.PathLike[str], name: str = "file",
                 *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.name = name
        self.path = Path(path)
        self._clock = clock

    def send(self, message: Message) -> None:
        line = _to_json({"sent_at": self._clock().isoformat(), "subject": message.subject,
                         "severity": message.severity, "text": message.text,
                         "payload": message.payload})
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc.strerror or exc}") from exc

    def __repr__(self) -> str:
        return f"FileNotifier({str(self.path)!r}, name={self.name!r})"


class SmtpNotifier:
    """Send a multipart e-mail: the text as ``text/plain`` and the payload as ``alert.json``.

    With ``password_env`` the notifier logs in as ``username`` (the sender when not given) with
    the password read from that environment variable; ``starttls`` upgrades the connection
    before logging in.
    """

    def __init__(self, host: str, port: int, sender: str, recipients: Sequence[str], *,
                 username: str | None = None, password_env: str | None = None,
                 starttls: bool = False, timeout: float = 10.0, name: str = "email") -> None:
        if isinstance(recipients, str) or not recipients:
            raise InputError("an email notifier needs a list of one or more recipients")
        for address in (sender, *recipients):
            if "@" not in address or any(char.isspace() for char in address):
                raise InputError(f"{address!r} is not an e-mail address")
        if username is not None and password_env is None:
            raise InputError(f"email notifier {name!r}: 'username' needs 'password_env'")
        self.name = name
        self.host, self.port, self.sender = host, port, sender
        self.recipients = tuple(recipients)
        self.username = username if username is not None else sender
        self.starttls, self.timeout = starttls, timeout
        self._password = _secret(password_env, "password_env") if password_env else None

    def email(self, message: Message) -> EmailMessage:
        """The e-mail this notifier sends for ``message``."""
        email = EmailMessage()
        email["Subject"] = " ".join(message.subject.split())
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        email["X-Assay-Severity"] = message.severity
        email.set_content(message.text)
        email.add_attachment(_to_json(message.payload).encode("utf-8"), maintype="application",
                             subtype="json", filename="alert.json")
        return email

    def send(self, message: Message) -> None:
        email = self.email(message)
        where = f"SMTP {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._password is not None:
                    smtp.login(self.username, self._password)
                refused = smtp.send_message(email, self.sender, list(self.recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"{where} refused every recipient: "
                                f"{', '.join(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            error = exc.smtp_error
            reason = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
            raise DeliveryError(f"{where} answered {exc.smtp_code} {reason}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where}: {_reason(exc)}") from exc
        if refused:
            raise DeliveryError(f"{where} refused {', '.join(sorted(refused))}")

    def __repr__(self) -> str:
        return (f"SmtpNotifier({self.host!r}, {self.port}, {self.sender!r}, "
                f"{list(self.recipients)!r}, name={self.name!r})")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a GET without the alert: treat 3xx as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _checked_url(url: str, field: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{field} must be an http:// or https:// address (got a "
                         f"{parts.scheme or 'relative'!s} address)")
    return url


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
    """POST ``body`` as JSON; any answer but 2xx, or no answer, is a :class:`DeliveryError`."""
    parts = urllib.parse.urlsplit(url)
    where = f"{parts.scheme}://{parts.netloc}"  # not the path: webhook paths hold tokens
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"assay/{__version__}", **headers})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{where} answered HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        reason = _reason(exc.reason) if isinstance(exc.reason, BaseException) else exc.reason
        raise DeliveryError(f"{where}: {reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"{where}: {_reason(exc)}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"{where} answered HTTP {status}")


_SLACK_EMOJI = {"info": ":information_source:", "warning": ":warning:",
                "critical": ":rotating_light:"}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SlackNotifier:
    """Post to a Slack incoming webhook: ``text`` for notifications plus header, section and
    context ``blocks``."""

    def __init__(self, webhook_url: str, name: str = "slack", *, timeout: float = 10.0) -> None:
        self.name = name
        self._url = _checked_url(webhook_url, f"slack notifier {name!r} url")
        self.timeout = timeout

    def document(self, message: Message) -> dict[str, Any]:
        """The JSON document posted for ``message`` (Slack limits clip long texts)."""
        return {
            "text": _clip(_slack_escape(f"{message.subject}\n{message.text}"), 3000),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                            "text": _clip(message.subject, 150)}},
                {"type": "section", "text": {"type": "mrkdwn",
                                             "text": _clip(_slack_escape(message.text), 3000)}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text":
                    f"{_SLACK_EMOJI[message.severity]} {message.severity} · Assay monitoring"}]},
            ],
        }

    def send(self, message: Message) -> None:
        body = _to_json(self.document(message)).encode("utf-8")
        _post(self._url, body, {}, self.timeout)

    def __repr__(self) -> str:
        return f"SlackNotifier(<webhook url hidden>, name={self.name!r})"


_TEAMS_COLOUR = {"info": "Accent", "warning": "Warning", "critical": "Attention"}


class TeamsNotifier:
    """Post an Adaptive Card (version 1.4) to a Teams incoming webhook or Workflows URL."""

    def __init__(self, webhook_url: str, name: str = "teams", *, timeout: float = 10.0) -> None:
        self.name = name
        self._url = _checked_url(webhook_url, f"teams notifier {name!r} url")
        self.timeout = timeout

    def document(self, message: Message) -> dict[str, Any]:
        """The JSON document posted for ``message``: one text block per line of the text."""
        lines = [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"}
                 for line in message.text.splitlines() if line.strip()]
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": [
                {"type": "TextBlock", "text": message.subject, "wrap": True, "size": "Medium",
                 "weight": "Bolder", "color": _TEAMS_COLOUR[message.severity]},
                *lines,
                {"type": "FactSet", "facts": [{"title": "Severity", "value": message.severity}]},
            ],
        }
        return {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
            "content": card}]}

    def send(self, message: Message) -> None:
        body = _to_json(self.document(message)).encode("utf-8")
        _post(self._url, body, {}, self.timeout)

    def __repr__(self) -> str:
        return f"TeamsNotifier(<webhook url hidden>, name={self.name!r})"


def _signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(secret: str | bytes, timestamp: str | int, body: bytes,
                     signature_header: str, *, max_age_seconds: float | None = None,
                     now: float | None = None) -> bool:
    """Whether a webhook request came from an Assay holding ``secret``.

    ``timestamp`` and ``signature_header`` are the ``X-Assay-Timestamp`` and
    ``X-Assay-Signature`` headers and ``body`` the raw request body. The comparison takes
    constant time. With ``max_age_seconds``, a request older (or further in the future) than
    that, against ``now`` (default: the current time), is refused as a possible replay.

    >>> verify_signature("s3cret", "1767225600", b"{}", _signature("s3cret", "1767225600", b"{}"))
    True
    >>> verify_signature("other", "1767225600", b"{}", _signature("s3cret", "1767225600", b"{}"))
    False
    """
    timestamp = str(timestamp).strip()
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    if max_age_seconds is not None:
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > max_age_seconds:
            return False
    expected = _signature(secret, timestamp, body).encode("ascii")
    return hmac.compare_digest(expected, signature_header.strip().encode("utf-8", "replace"))


class WebhookNotifier:
    """POST the payload as canonical JSON (sorted keys, no spaces), signed with HMAC-SHA256.

    Headers ``X-Assay-Timestamp: <unix seconds>`` and ``X-Assay-Signature: sha256=<hex>``, the
    HMAC of ``f"{timestamp}.{body}"`` with the secret read from ``secret_env``; receivers check
    them with :func:`verify_signature`.
    """

    def __init__(self, url: str, *, secret_env: str, name: str = "webhook",
                 timeout: float = 10.0, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self._url = _checked_url(url, f"webhook notifier {name!r} url")
        self._secret = _secret(secret_env, "secret_env")
        self.timeout = timeout
        self._clock = clock

    def send(self, message: Message) -> None:
        body = _to_json(message.payload, canonical=True).encode("utf-8")
        timestamp = str(int(self._clock()))
        _post(self._url, body, {"X-Assay-Timestamp": timestamp,
                                "X-Assay-Signature": _signature(self._secret, timestamp, body)},
              self.timeout)

    def __repr__(self) -> str:
        return f"WebhookNotifier(<url hidden>, name={self.name!r})"

