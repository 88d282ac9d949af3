"""The chat-completions client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from assay.errors import InputError
from assay.genai._client import ChatClient, ClientConfig
from tests.genai.conftest import ChatServer, Reply

MESSAGES = [{"role": "system", "content": "You grade summaries."},
            {"role": "user", "content": "Patient Jane Roe, MRN 4417, on apixaban 5 mg."}]
SECRET = "sk-test-3f9c1d7e-never-log-me"


class Sleeps:
    """Records the waits the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def config(server: ChatServer, **overrides: Any) -> ClientConfig:
    options: dict[str, Any] = {"base_url": server.url, "model": "judge-1", "timeout_s": 5.0,
                               "backoff_s": 0.5, "max_retries": 3}
    options.update(overrides)
    return ClientConfig(**options)


def all_text(folder: Path) -> str:
    return "".join(p.read_text("utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


def test_answer_usage_cost_and_request_body(chat_server: ChatServer) -> None:
    chat_server.script(chat_server.completion("fine", prompt_tokens=1200, completion_tokens=300))
    settings = config(chat_server, prompt_price_per_1k=0.5, completion_price_per_1k=1.5)
    with ChatClient(settings) as client:
        result = client.chat(MESSAGES)
    assert result.ok and result.text == "fine"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (1200, 300)
    assert result.cost == pytest.approx(1200 * 0.5 / 1000 + 300 * 1.5 / 1000)  # 1.05
    assert (result.attempts, result.cached, result.error, result.finish_reason) == (
        1, False, None, "stop")
    [sent] = chat_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body == {"model": "judge-1", "messages": MESSAGES, "temperature": 0.0,
                         "seed": 0, "max_tokens": 1024}
    assert "authorization" not in sent.headers


@pytest.mark.parametrize(("mode", "expected"), [
    ("text", None),
    ("json_object", {"type": "json_object"}),
    ("json_schema", {"type": "json_schema", "json_schema": {
        "name": "answer", "strict": True, "schema": {"type": "object"}}}),
])
def test_response_format_is_a_switch(chat_server: ChatServer, mode: str,
                                     expected: dict[str, Any] | None) -> None:
    chat_server.script(chat_server.completion("{}"))
    with ChatClient(config(chat_server, response_format=mode)) as client:
        assert client.chat(MESSAGES, json_schema={"type": "object"}).ok
    assert chat_server.requests[0].body.get("response_format") == expected


def test_429_honours_retry_after_then_succeeds(chat_server: ChatServer) -> None:
    chat_server.script(Reply(status=429, body="slow down", headers={"Retry-After": "7"}),
                       Reply(status=429, body="slow down", headers={"Retry-After": "120"}),
                       chat_server.completion("ok"))
    sleeps = Sleeps()
    with ChatClient(config(chat_server, max_wait_s=30.0), sleep=sleeps) as client:
        result = client.chat(MESSAGES)
    assert result.text == "ok"
    assert result.attempts == 3 and len(chat_server.requests) == 3
    # the server's 7 s is honoured; its 120 s is capped at max_wait_s
    assert sleeps.waits == [7.0, 30.0] and result.waits_s == (7.0, 30.0)


def test_retry_after_as_a_past_http_date_means_no_wait(chat_server: ChatServer) -> None:
    chat_server.script(Reply(status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                       chat_server.completion("ok"))
    sleeps = Sleeps()
    with ChatClient(config(chat_server), sleep=sleeps) as client:
        assert client.chat(MESSAGES).text == "ok"
    assert sleeps.waits == [0.0]


def test_5xx_backs_off_exponentially_then_succeeds(chat_server: ChatServer) -> None:
    chat_server.script(Reply(status=500, body="boom"), Reply(status=502, body="gateway"),
                       Reply(status=503, body="busy"), chat_server.completion("ok"))
    sleeps = Sleeps()
    with ChatClient(config(chat_server, max_retries=3), sleep=sleeps) as client:
        result = client.chat(MESSAGES)
    assert result.text == "ok" and result.attempts == 4
    assert sleeps.waits == [0.5, 1.0, 2.0]
    assert len(chat_server.requests) == 4


def test_retries_exhausted_returns_the_reason(chat_server: ChatServer) -> None:
    chat_server.respond_with(lambda body: Reply(status=503, body="model overloaded"))
    with ChatClient(config(chat_server, max_retries=2), sleep=Sleeps()) as client:
        result = client.chat(MESSAGES)
    assert result.text is None and not result.ok
    assert result.error_kind == "http_status"
    assert result.error is not None and "HTTP 503" in result.error
    assert "model overloaded" in result.error and "3 attempt" in result.error
    assert result.attempts == 3 and len(chat_server.requests) == 3


def test_client_errors_are_not_retried(chat_server: ChatServer) -> None:
    chat_server.respond_with(lambda body: Reply(status=400, body="bad request"))
    sleeps = Sleeps()
    with ChatClient(config(chat_server), sleep=sleeps) as client:
        result = client.chat(MESSAGES)
    assert (result.error_kind, result.attempts, sleeps.waits) == ("http_status", 1, [])
    assert len(chat_server.requests) == 1


def test_answer_that_is_not_a_completion(chat_server: ChatServer) -> None:
    chat_server.script(Reply(body={"object": "error", "detail": "no choices"}))
    with ChatClient(config(chat_server)) as client:
        result = client.chat(MESSAGES)
    assert result.error_kind == "bad_response" and result.attempts == 1
    assert result.error is not None and "choices" in result.error


def test_slow_answer_times_out_and_is_retried(chat_server: ChatServer) -> None:
    chat_server.respond_with(lambda body: ChatServer.completion("late", delay=2.0))
    sleeps = Sleeps()
    with ChatClient(config(chat_server, timeout_s=0.2, max_retries=1), sleep=sleeps) as client:
        result = client.chat(MESSAGES)
    assert result.text is None and result.error_kind == "timeout"
    assert result.error is not None and "0.2 s" in result.error
    assert result.attempts == 2 and len(chat_server.requests) == 2
    assert sleeps.waits == [0.5]


def test_refused_connection_is_reported(chat_server: ChatServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = config(chat_server, base_url=f"http://127.0.0.1:{closed_port}/v1", max_retries=1)
    with ChatClient(settings, sleep=Sleeps()) as client:
        result = client.chat(MESSAGES)
    assert (result.error_kind, result.attempts) == ("connection", 2)


def test_host_outside_allowed_hosts_is_refused_before_connecting(
        chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection or DNS lookup was attempted")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(InputError, match=r"'judge\.example\.org' is not in allowed_hosts.*"
                                         r"add it to ClientConfig\.allowed_hosts"):
        ChatClient(ClientConfig(base_url="https://judge.example.org/v1", model="m"))
    monkeypatch.undo()
    # the server is reachable, yet a host left out of allowed_hosts gets nothing
    with pytest.raises(InputError, match=r"'127\.0\.0\.1' is not in allowed_hosts"):
        ChatClient(config(chat_server, allowed_hosts=("localhost",)))
    assert chat_server.requests == []
    chat_server.script(chat_server.completion("ok"))
    with ChatClient(config(chat_server, allowed_hosts=("LOCALHOST", "127.0.0.1"))) as client:
        assert client.chat(MESSAGES).text == "ok"


def test_cache_makes_reruns_free_and_keeps_no_prompt(chat_server: ChatServer,
                                                     tmp_path: Path) -> None:
    chat_server.respond_with(lambda body: ChatServer.completion(f"seed {body['seed']}",
                                                                prompt_tokens=50))
    settings = config(chat_server, cache_dir=tmp_path / "cache", prompt_price_per_1k=1.0,
                      completion_price_per_1k=1.0)
    with ChatClient(settings) as client:
        first = client.chat(MESSAGES)
        again = client.chat(MESSAGES)
        other_seed = client.chat(MESSAGES, seed=7)
    assert len(chat_server.requests) == 2  # the repeat was served from the cache
    assert (first.cached, again.cached, other_seed.cached) == (False, True, False)
    assert again.text == first.text == "seed 0" and other_seed.text == "seed 7"
    assert again.request_key == first.request_key != other_seed.request_key
    assert again.usage == first.usage and (again.cost, again.attempts) == (0.0, 0)
    with ChatClient(settings) as fresh_client:  # a new process would see the same
        assert fresh_client.chat(MESSAGES).cached
        assert fresh_client.chat(MESSAGES, temperature=0.7).cached is False
    assert len(chat_server.requests) == 3
    elsewhere = settings.model_copy(update={"base_url": chat_server.url.replace("/v1", "/b/v1")})
    with ChatClient(elsewhere) as other_server:  # same model name, another endpoint
        answer = other_server.chat(MESSAGES)
    assert answer.cached is False and answer.request_key != first.request_key
    assert chat_server.requests[-1].path == "/b/v1/chat/completions"
    stored = all_text(tmp_path / "cache")
    assert "Jane Roe" not in stored and "apixaban" not in stored


def test_api_key_comes_from_the_environment_and_is_never_stored(
        chat_server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("JUDGE_API_KEY", SECRET)
    chat_server.script(Reply(status=500, body="failed on: Patient Jane Roe, MRN 4417"),
                       chat_server.completion("ok"))
    settings = config(chat_server, api_key_env="JUDGE_API_KEY", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.DEBUG), ChatClient(settings, sleep=Sleeps()) as client:
        assert client.chat(MESSAGES).text == "ok"
        assert SECRET not in repr(client)
    assert [r.headers["authorization"] for r in chat_server.requests] == [f"Bearer {SECRET}"] * 2
    assert SECRET not in all_text(tmp_path / "cache")
    assert SECRET not in settings.model_dump_json()
    assert caplog.records and SECRET not in caplog.text
    assert "HTTP 500" in caplog.text and "Jane Roe" not in caplog.text  # no server text logged


def test_missing_key_variable_and_key_pasted_as_name(chat_server: ChatServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUDGE_API_KEY", raising=False)
    with pytest.raises(InputError, match="JUDGE_API_KEY"):
        ChatClient(config(chat_server, api_key_env="JUDGE_API_KEY"))
    with pytest.raises(ValidationError, match="NAME of the environment variable"):
        config(chat_server, api_key_env=SECRET)
    assert chat_server.requests == []


def test_azure_deployment_url_api_version_and_api_key_header(
        chat_server: ChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_JUDGE_KEY", SECRET)
    chat_server.script(chat_server.completion("ok"))
    settings = ClientConfig(
        base_url=f"http://127.0.0.1:{chat_server.port}/openai/deployments/gpt-4o-judge",
        model="gpt-4o", api_key_env="AZURE_JUDGE_KEY", api_key_header="api-key",
        query_params={"api-version": "2024-06-01"})
    with ChatClient(settings) as client:
        assert client.chat(MESSAGES).text == "ok"
    [sent] = chat_server.requests
    assert sent.path == "/openai/deployments/gpt-4o-judge/chat/completions"
    assert sent.query == {"api-version": ["2024-06-01"]}
    assert sent.headers["api-key"] == SECRET and "authorization" not in sent.headers


def test_config_rejects_half_prices_and_bad_urls() -> None:
    with pytest.raises(ValidationError, match="both prompt_price_per_1k"):
        ClientConfig(base_url="http://127.0.0.1:1/v1", model="m", prompt_price_per_1k=1.0)
    with pytest.raises(ValidationError, match="http:// or https://"):
        ClientConfig(base_url="127.0.0.1:8000/v1", model="m")


def test_messages_need_role_and_content(chat_server: ChatServer) -> None:
    with ChatClient(config(chat_server)) as client, pytest.raises(InputError, match="message 2"):
        client.chat([MESSAGES[0], {"role": "user"}])
    assert chat_server.requests == []
