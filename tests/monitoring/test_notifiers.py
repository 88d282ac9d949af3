"""Notifiers deliver to real servers on 127.0.0.1: an aiosmtpd SMTP server and an HTTP receiver."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import io
import json
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from pydantic import TypeAdapter, ValidationError

from assay.errors import InputError
from assay.monitoring._delivery import DeliveryError, Message, deliver
from assay.monitoring._notifier_config import NotifierConfig, WebhookConfig, build_notifier
from assay.monitoring._notifiers import (
    ConsoleNotifier,
    FileNotifier,
    SlackNotifier,
    SmtpNotifier,
    TeamsNotifier,
    WebhookNotifier,
    verify_signature,
)
from tests.monitoring.conftest import MailHandler, Receiver, free_port

PAYLOAD = {
    "monitor": "readmission-30d",
    "window": {"start": "2026-03-02", "end": "2026-03-08"},
    "alerts": [{"metric": "auroc", "value": 0.71, "baseline": 0.78, "status": "red"}],
    "links": {"run": "https://assay.hospital.org/runs/42"},
}
MESSAGE = Message(
    subject="[RED] readmission-30d 1.0: AUROC dropped (week of 2026-03-02)",
    text="AUROC 0.71 (0.66 to 0.76) against 0.78 at validation.\n\nReview the model this week.",
    severity="critical",
    payload=PAYLOAD,
)





def _parsed(envelope: Envelope) -> EmailMessage:
    content = envelope.original_content or envelope.content
    assert isinstance(content, bytes)
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_email_arrives_with_subject_recipients_body_and_payload(
        smtp_server: tuple[Controller, MailHandler]) -> None:
    controller, handler = smtp_server
    notifier = SmtpNotifier("127.0.0.1", controller.port, "assay@hospital.org",
                            ["a@h.org", "b@h.org"])
    attempts = deliver(MESSAGE, notifier, retries=0)
    assert [(a.notifier, a.attempt, a.ok, a.error) for a in attempts] == [("email", 1, True, None)]
    assert attempts[0].at.tzinfo is UTC
    [envelope] = handler.envelopes
    assert envelope.mail_from == "assay@hospital.org"
    assert envelope.rcpt_tos == ["a@h.org", "b@h.org"]
    assert handler.logins == []
    received = _parsed(envelope)
    assert received["Subject"] == MESSAGE.subject
    assert received["To"] == "a@h.org, b@h.org"
    assert received["X-Assay-Severity"] == "critical"
    assert received.get_content_type() == "multipart/mixed"
    body = received.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == MESSAGE.text + "\n"  # SMTP sends CRLF
    [attachment] = received.iter_attachments()
    assert attachment.get_filename() == "alert.json"
    assert json.loads(attachment.get_content()) == PAYLOAD


def test_email_logs_in_with_the_password_from_the_environment(
        smtp_server: tuple[Controller, MailHandler], monkeypatch: pytest.MonkeyPatch) -> None:
    controller, handler = smtp_server
    monkeypatch.setenv("SMTP_PASSWORD", "pa55word")
    config = yaml.safe_load(f"""
        type: email
        host: 127.0.0.1
        port: {controller.port}
        sender: assay@hospital.org
        to: [a@h.org]
        password_env: SMTP_PASSWORD
    """)
    notifier = build_notifier(config)
    assert isinstance(notifier, SmtpNotifier)
    assert "pa55word" not in repr(notifier)
    assert deliver(MESSAGE, notifier, retries=0)[0].ok
    assert handler.logins == [(b"assay@hospital.org", b"pa55word")]
    assert handler.envelopes[0].rcpt_tos == ["a@h.org"]


def test_email_with_a_wrong_password_is_a_failed_attempt_with_the_server_answer(
        smtp_server: tuple[Controller, MailHandler], monkeypatch: pytest.MonkeyPatch) -> None:
    controller, handler = smtp_server
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    notifier = SmtpNotifier("127.0.0.1", controller.port, "assay@hospital.org", ["a@h.org"],
                            password_env="SMTP_PASSWORD")
    sleeps: list[float] = []
    attempts = deliver(MESSAGE, notifier, retries=1, sleep=sleeps.append)
    assert [a.ok for a in attempts] == [False, False]
    assert attempts[0].error is not None
    assert attempts[0].error.startswith(f"SMTP 127.0.0.1:{controller.port} answered 535")
    assert sleeps == [1.0]
    assert handler.envelopes == []


def test_email_password_variable_missing_is_an_input_error_naming_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_TEST_SMTP_PASSWORD", raising=False)
    with pytest.raises(InputError, match="'ASSAY_TEST_SMTP_PASSWORD'"):
        SmtpNotifier("127.0.0.1", 25, "assay@hospital.org", ["a@h.org"],
                     password_env="ASSAY_TEST_SMTP_PASSWORD")


def test_email_to_a_closed_port_fails_every_attempt() -> None:
    port = free_port()
    notifier = SmtpNotifier("127.0.0.1", port, "assay@hospital.org", ["a@h.org"])
    sleeps: list[float] = []
    attempts = deliver(MESSAGE, notifier, retries=2, backoff=0.5, sleep=sleeps.append)
    assert [a.ok for a in attempts] == [False, False, False]
    assert all(f"SMTP 127.0.0.1:{port}" in str(a.error) and "refused" in str(a.error)
               for a in attempts)
    assert sleeps == [0.5, 1.0]



def test_slack_receives_text_and_blocks_with_the_subject(receiver: Receiver) -> None:
    notifier = SlackNotifier(f"{receiver.base_url}/services/T000/B000/XXXX")
    assert deliver(MESSAGE, notifier, retries=0)[0].ok
    [request] = receiver.requests
    assert request.path == "/services/T000/B000/XXXX"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(request.body)
    assert set(document) == {"text", "blocks"}
    assert document["text"].startswith(MESSAGE.subject + "\n")
    assert [block["type"] for block in document["blocks"]] == ["header", "section", "context"]
    assert document["blocks"][0]["text"] == {"type": "plain_text", "emoji": True,
                                             "text": MESSAGE.subject}
    assert document["blocks"][1]["text"] == {"type": "mrkdwn", "text": MESSAGE.text}
    assert "critical" in document["blocks"][2]["elements"][0]["text"]
    assert "XXXX" not in repr(notifier)


def test_slack_escapes_control_characters_and_clips_to_slack_limits() -> None:
    long_text = "score < 0.5 & rising " * 300
    message = Message("x" * 200, long_text, "info", {})
    document = SlackNotifier("https://hooks.example.org/x").document(message)
    assert len(document["blocks"][0]["text"]["text"]) == 150
    section = document["blocks"][1]["text"]["text"]
    assert len(section) == 3000
    assert section.startswith("score &lt; 0.5 &amp; rising")


def test_teams_receives_an_adaptive_card_with_the_subject(receiver: Receiver) -> None:
    notifier = TeamsNotifier(f"{receiver.base_url}/workflows/abc")
    assert deliver(MESSAGE, notifier, retries=0)[0].ok
    [request] = receiver.requests
    document = json.loads(request.body)
    assert document["type"] == "message"
    [attachment] = document["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    texts = [block["text"] for block in card["body"] if block["type"] == "TextBlock"]
    assert texts == [MESSAGE.subject, "AUROC 0.71 (0.66 to 0.76) against 0.78 at validation.",
                     "Review the model this week."]
    assert card["body"][0]["color"] == "Attention"
    assert card["body"][-1] == {"type": "FactSet",
                                "facts": [{"title": "Severity", "value": "critical"}]}


def test_webhook_posts_canonical_payload_with_a_signature_that_verifies(
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_WEBHOOK_SECRET", "whsec-test")
    notifier = WebhookNotifier(f"{receiver.base_url}/hook", secret_env="ASSAY_WEBHOOK_SECRET",
                               clock=lambda: 1767225600.7)
    assert deliver(MESSAGE, notifier, retries=0)[0].ok
    [request] = receiver.requests
    assert request.body == json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":")).encode()
    timestamp = request.headers["X-Assay-Timestamp"]
    signature = request.headers["X-Assay-Signature"]
    assert timestamp == "1767225600"
    expected = hmac.new(b"whsec-test", b"1767225600." + request.body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert verify_signature("whsec-test", timestamp, request.body, signature) is True
    assert verify_signature(b"whsec-test", int(timestamp), request.body, signature) is True
    assert verify_signature("wrong-secret", timestamp, request.body, signature) is False
    tampered = request.body.replace(b"0.71", b"0.91")
    assert tampered != request.body
    assert verify_signature("whsec-test", timestamp, tampered, signature) is False
    assert verify_signature("whsec-test", "1767225601", request.body, signature) is False
    assert verify_signature("whsec-test", "not-a-time", request.body, signature) is False
    assert verify_signature("whsec-test", timestamp, request.body, "sha256=é") is False
    assert verify_signature("whsec-test", timestamp, request.body, signature,
                            max_age_seconds=300, now=1767225600 + 299) is True
    assert verify_signature("whsec-test", timestamp, request.body, signature,
                            max_age_seconds=300, now=1767225600 + 301) is False


def test_webhook_secret_variable_missing_is_an_input_error_naming_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_TEST_WEBHOOK_SECRET", raising=False)
    with pytest.raises(InputError, match="'ASSAY_TEST_WEBHOOK_SECRET'"):
        WebhookNotifier("https://hooks.example.org/x", secret_env="ASSAY_TEST_WEBHOOK_SECRET")
    monkeypatch.setenv("ASSAY_TEST_WEBHOOK_SECRET", "")
    with pytest.raises(InputError, match=r"'ASSAY_TEST_WEBHOOK_SECRET'.*empty"):
        build_notifier({"type": "webhook", "url": "https://hooks.example.org/x",
                        "secret_env": "ASSAY_TEST_WEBHOOK_SECRET"})


def test_receiver_down_gives_every_attempt_failed_with_exponential_sleeps() -> None:
    port = free_port()  # bound then closed: nothing listens there
    notifier = SlackNotifier(f"http://127.0.0.1:{port}/services/T000/SECRET-TOKEN")
    sleeps: list[float] = []
    attempts = deliver(MESSAGE, notifier, retries=3, sleep=sleeps.append)
    assert [(a.attempt, a.ok) for a in attempts] == [(1, False), (2, False), (3, False),
                                                     (4, False)]
    for attempt in attempts:
        assert attempt.error is not None
        assert attempt.error.startswith(f"http://127.0.0.1:{port}: ")
        assert "Connection refused" in attempt.error
        assert "SECRET-TOKEN" not in attempt.error
    assert sleeps == [1.0, 2.0, 4.0]


def test_receiver_answering_500_twice_then_200_gives_fail_fail_ok(receiver: Receiver) -> None:
    receiver.statuses = [500, 500]
    sleeps: list[float] = []
    attempts = deliver(MESSAGE, TeamsNotifier(f"{receiver.base_url}/t"), sleep=sleeps.append)
    assert [a.ok for a in attempts] == [False, False, True]
    assert [a.error for a in attempts] == [
        f"{receiver.base_url} answered HTTP 500 Internal Server Error"] * 2 + [None]
    assert sleeps == [1.0, 2.0]
    assert len(receiver.requests) == 3
    assert receiver.requests[0].body == receiver.requests[2].body


def test_a_redirect_is_a_failure_not_a_silent_get(receiver: Receiver) -> None:
    receiver.statuses = [302]
    attempts = deliver(MESSAGE, SlackNotifier(f"{receiver.base_url}/s"), retries=0)
    assert attempts[0].error == f"{receiver.base_url} answered HTTP 302 Found"
    assert [r.path for r in receiver.requests] == ["/s"]


def test_a_receiver_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/s"
        with pytest.raises(DeliveryError, match="timed out"):
            SlackNotifier(url, timeout=0.2).send(MESSAGE)


def test_non_http_addresses_are_refused() -> None:
    with pytest.raises(InputError, match="http:// or https://"):
        SlackNotifier("file:///etc/passwd")


# ---------------------------------------------------------------------------- local notifiers


def test_file_notifier_appends_one_json_line_per_message(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    times = iter([datetime(2026, 3, 9, 7, 0, tzinfo=UTC), datetime(2026, 3, 9, 7, 5, tzinfo=UTC)])
    notifier = FileNotifier(path, clock=lambda: next(times))
    second = Message("[AMBER] x", "body é", "warning",
                     MappingProxyType({"at": datetime(2026, 3, 9, tzinfo=UTC), "n": (1, 2)}))
    assert deliver(MESSAGE, notifier)[0].ok
    assert deliver(second, notifier)[0].ok
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"sent_at": "2026-03-09T07:00:00+00:00", "subject": MESSAGE.subject,
         "severity": "critical", "text": MESSAGE.text, "payload": PAYLOAD},
        {"sent_at": "2026-03-09T07:05:00+00:00", "subject": "[AMBER] x", "severity": "warning",
         "text": "body é", "payload": {"at": "2026-03-09T00:00:00+00:00", "n": [1, 2]}},
    ]


def test_file_notifier_in_a_missing_folder_fails_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "alerts.jsonl"
    attempts = deliver(MESSAGE, FileNotifier(path), retries=0)
    assert attempts[0].error == f"cannot append to {path}: No such file or directory"


def test_a_payload_that_is_not_json_is_a_delivery_error(tmp_path: Path) -> None:
    message = Message("s", "t", "info", {"model": object()})
    with pytest.raises(DeliveryError, match="payload is not JSON: object is not JSON"):
        FileNotifier(tmp_path / "a.jsonl").send(message)


def test_console_notifier_writes_subject_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    ConsoleNotifier(stream=stream).send(MESSAGE)
    assert stream.getvalue() == f"{MESSAGE.subject}\n\n{MESSAGE.text}\n"
    build_notifier({"type": "console"}).send(MESSAGE)
    assert capsys.readouterr().out == f"{MESSAGE.subject}\n\n{MESSAGE.text}\n"


class FlakyNotifier:
    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def send(self, message: Message) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise KeyError("alerts")


def test_an_unexpected_exception_is_a_failed_attempt_not_a_lost_alert() -> None:
    sleeps: list[float] = []
    attempts = deliver(MESSAGE, FlakyNotifier(failures=1), retries=2, backoff=3.0,
                       sleep=sleeps.append)
    assert [(a.notifier, a.ok, a.error) for a in attempts] == [
        ("flaky", False, "KeyError: 'alerts'"), ("flaky", True, None)]
    assert sleeps == [3.0]
    always = deliver(MESSAGE, FlakyNotifier(failures=10), retries=0, sleep=sleeps.append)
    assert [(a.ok, a.error) for a in always] == [(False, "KeyError: 'alerts'")]
    assert sleeps == [3.0]


def test_deliver_refuses_negative_retries() -> None:
    with pytest.raises(InputError, match="retries and backoff must be 0 or more"):
        deliver(MESSAGE, ConsoleNotifier(stream=io.StringIO()), retries=-1)


def test_message_must_have_a_known_severity_and_a_one_line_subject() -> None:
    with pytest.raises(InputError, match="severity must be one of info, warning, critical"):
        Message("s", "t", "urgent", {})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="subject must be one non-empty line"):
        Message("line one\nBcc: everyone@h.org", "t", "info", {})


# ---------------------------------------------------------------------------- configuration


def test_config_builds_each_notifier_type(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example.org/services/T/B/X")
    monkeypatch.setenv("ASSAY_WEBHOOK_SECRET", "s")
    declared = yaml.safe_load(f"""
        - {{type: console, name: ward}}
        - {{type: file, path: {tmp_path / "a.jsonl"}}}
        - {{type: email, host: 127.0.0.1, port: 8025, sender: assay@hospital.org, to: [a@h.org]}}
        - {{type: slack, url_env: SLACK_WEBHOOK_URL}}
        - {{type: teams, url: "https://teams.example.org/workflows/1"}}
        - {{type: webhook, url: "https://example.org/hook", secret_env: ASSAY_WEBHOOK_SECRET}}
    """)
    built = [build_notifier(config) for config in declared]
    assert [(type(n).__name__, n.name) for n in built] == [
        ("ConsoleNotifier", "ward"), ("FileNotifier", "file"), ("SmtpNotifier", "email"),
        ("SlackNotifier", "slack"), ("TeamsNotifier", "teams"), ("WebhookNotifier", "webhook")]
    typed = TypeAdapter(NotifierConfig).validate_python(declared[5])
    assert isinstance(typed, WebhookConfig)
    assert isinstance(build_notifier(typed), WebhookNotifier)


def test_slack_url_variable_missing_is_an_input_error_naming_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_TEST_SLACK_URL", raising=False)
    with pytest.raises(InputError, match="'ASSAY_TEST_SLACK_URL'"):
        build_notifier({"type": "slack", "url_env": "ASSAY_TEST_SLACK_URL"})


@pytest.mark.parametrize(("config", "message"), [
    ({"type": "pager", "number": "123"},
     "notifier 'type' must be one of console, file, email, slack, teams, webhook (got 'pager')"),
    ({"url": "https://x.org"},
     "notifier 'type' must be one of console, file, email, slack, teams, webhook (got None)"),
    ({"type": "slack", "url": "https://x.org", "colour": "red"},
     "slack notifier: 'colour' is not a field"),
    ({"type": "email", "host": "h", "sender": "a@h.org"},
     "email notifier: field 'to' is required"),
    ({"type": "email", "host": "h", "port": 70000, "sender": "a@h.org", "to": ["b@h.org"]},
     "email notifier: field 'port': Input should be less than or equal to 65535"),
    ({"type": "teams"},
     "teams notifier: give exactly one of 'url' or 'url_env'"),
    ({"type": "webhook", "url": "https://x.org", "url_env": "X", "secret_env": "S"},
     "webhook notifier: give exactly one of 'url' or 'url_env'"),
])
def test_a_bad_config_is_an_input_error_naming_the_field(config: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(InputError) as raised:
        build_notifier(config)
    assert str(raised.value).startswith(message)


def test_the_config_union_itself_rejects_unknown_types_and_fields() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(NotifierConfig)
    with pytest.raises(ValidationError, match="'pager'"):
        adapter.validate_python({"type": "pager"})
    with pytest.raises(ValidationError, match="colour"):
        adapter.validate_python({"type": "console", "colour": "red"})
