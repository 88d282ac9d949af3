"""A small client for OpenAI-compatible chat-completions endpoints, made for judging PHI.

Requests go only to hosts listed in :attr:`ClientConfig.allowed_hosts` (loopback by default):
any other host is refused before a connection is opened, so notes do not leave the hospital
tenant by a typo. Environment proxies are not used and redirects are not followed, for the
same reason. The API key is read from the environment variable named in the config and is
never written to the cache or to logs.

Every call returns a :class:`ChatResult`; a timeout or an HTTP error that outlasts the
retries is reported in it (``error_kind``, ``error``) rather than raised, so that a judge can
record the item as unscored with the reason. Answers are cached on disk under a hash of the
endpoint and the request body (model, messages, temperature, seed, max_tokens,
response_format): rerunning the same evaluation makes no requests, and two servers that serve
a model of the same name do not share answers. Only the answer text, token counts and finish
reason are cached, not the prompt.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assay._frozen import FROZEN
from assay.errors import InputError, MissingExtraError

__all__ = ["LOOPBACK_HOSTS", "ChatClient", "ChatResult", "ClientConfig", "ErrorKind", "Usage"]

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")
ErrorKind = Literal["timeout", "connection", "http_status", "bad_response"]
ResponseFormat = Literal["text", "json_object", "json_schema"]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RETRIED_STATUS = frozenset({408, 425, 429}) | frozenset(range(500, 600))


class ClientConfig(BaseModel):
    """Where and how to call a chat-completions endpoint (no secret is held here).

    ``base_url`` ends before ``/chat/completions`` (``http://127.0.0.1:8000/v1``; for Azure
    OpenAI the deployment URL ``https://<resource>.openai.azure.com/openai/deployments/<name>``
    with ``query_params={"api-version": ...}`` and ``api_key_header="api-key"``).
    ``api_key_env`` names the environment variable holding the key; with the default header
    the key is sent as ``Authorization: Bearer <key>``, with any other header as is.
    ``max_retries`` retries follow a 429, 408, 425 or 5xx answer, a timeout or a failed
    connection, after ``backoff_s`` doubling at each retry or the server's ``Retry-After``,
    either capped at ``max_wait_s``. Prices are per 1,000 tokens, in the currency you use.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    model: str = Field(min_length=1)
    api_key_env: str | None = None
    api_key_header: str = Field(default="Authorization", min_length=1)
    query_params: Annotated[Mapping[str, str], *FROZEN] = Field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)
    max_wait_s: float = Field(default=30.0, ge=0)
    temperature: float = Field(default=0.0, ge=0, le=2)
    seed: int | None = 0
    max_tokens: int | None = Field(default=1024, gt=0)
    response_format: ResponseFormat = "text"
    cache_dir: Path | None = None
    prompt_price_per_1k: float | None = Field(default=None, ge=0)
    completion_price_per_1k: float | None = Field(default=None, ge=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/?#]+", value):
            raise ValueError(f"base_url must start with http:// or https:// and a host, "
                             f"got {value!r}")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("api_key_env is the NAME of the environment variable holding the "
                             "key (for example JUDGE_API_KEY), not the key itself")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _lower_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(host.strip().strip("[]").lower() for host in value)

    @model_validator(mode="after")
    def _both_prices(self) -> ClientConfig:
        if (self.prompt_price_per_1k is None) != (self.completion_price_per_1k is None):
            raise ValueError("give both prompt_price_per_1k and completion_price_per_1k, "
                             "or neither")
        return self

    @property
    def priced(self) -> bool:
        """True when prices are configured, so costs can be estimated."""
        return self.prompt_price_per_1k is not None

    @property
    def endpoint(self) -> str:
        """The chat-completions URL (without the query parameters)."""
        return f"{self.base_url}/chat/completions"


class Usage(BaseModel):
    """Tokens of one call as the server reported them in ``usage``."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class ChatResult(BaseModel):
    """One chat call: the answer text, or why there is none.

    ``usage`` is None when the server did not report tokens; ``cost`` is the estimated cost
    of the requests made for this call (0 for a cache hit; None without prices or usage).
    ``latency_s`` includes retries and waits; ``waits_s`` lists each wait before a retry.
    ``request_key`` is the hash of the endpoint and request body that keys the cache.
    """

    model_config = ConfigDict(frozen=True)

    text: str | None
    usage: Usage | None = None
    cost: float | None = None
    finish_reason: str | None = None
    latency_s: float
    cached: bool = False
    attempts: int
    waits_s: tuple[float, ...] = ()
    error_kind: ErrorKind | None = None
    error: str | None = None
    request_key: str

    @property
    def ok(self) -> bool:
        """True when an answer text came back."""
        return self.text is not None


class _Failure(Exception):
    """A failed attempt: ``detail`` goes into the result, ``brief`` (no server text) to logs."""

    def __init__(self, kind: ErrorKind, detail: str, brief: str, *,
                 retry_after: float | None = None, retried: bool = True) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.brief = kind, detail, brief
        self.retry_after, self.retried = retry_after, retried


class ChatClient:
    """Calls a chat-completions endpoint with retries, an on-disk cache and token accounting.

    Use it as a context manager (``with ChatClient(config) as client:``) so its connections
    are closed. Creating it checks the host against ``allowed_hosts`` and reads the API key
    from the environment; both problems raise :class:`~assay.errors.InputError` before any
    connection is made. ``sleep`` is the function used to wait between retries.
    """

    def __init__(self, config: ClientConfig, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - httpx ships with the genai extra
            raise MissingExtraError("genai", "httpx") from exc
        self.config = config
        self._host = httpx.URL(config.endpoint).host
        _check_host(self._host, config.allowed_hosts)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if config.api_key_env is not None:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise InputError(f"the environment variable {config.api_key_env} (api_key_env) "
                                 "is not set or empty; export the judge endpoint's API key "
                                 "in it")
            bearer = config.api_key_header.lower() == "authorization"
            self._headers[config.api_key_header] = f"Bearer {key}" if bearer else key
        self._sleep = sleep
        self._httpx = httpx
        self._http = httpx.Client(timeout=httpx.Timeout(config.timeout_s), trust_env=False,
                                  follow_redirects=False)

    def __repr__(self) -> str:
        return f"ChatClient(model={self.config.model!r}, endpoint={self.config.endpoint!r})"

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def request_body(self, messages: Sequence[Mapping[str, str]], *, seed: int | None = None,
                     temperature: float | None = None,
                     json_schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON body sent for these messages (``seed``/``temperature`` default to the
        config's; ``json_schema`` is used when ``response_format`` is ``json_schema``)."""
        config = self.config
        for number, message in enumerate(messages, start=1):
            if not isinstance(message.get("role"), str) \
                    or not isinstance(message.get("content"), str):
                raise InputError(f"message {number} needs text 'role' and 'content' fields")
        body: dict[str, Any] = {
            "model": config.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "temperature": config.temperature if temperature is None else temperature,
        }
        seed = config.seed if seed is None else seed
        if seed is not None:
            body["seed"] = seed
        if config.max_tokens is not None:
            body["max_tokens"] = config.max_tokens
        if config.response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif config.response_format == "json_schema":
            if json_schema is None:
                raise InputError("response_format is 'json_schema' but no schema was given")
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "strict": True, "schema": dict(json_schema)}}
        return body

    def chat(self, messages: Sequence[Mapping[str, str]], *, seed: int | None = None,
             temperature: float | None = None,
             json_schema: Mapping[str, Any] | None = None) -> ChatResult:
        """Send one chat request and return the answer, from the cache when it is there.

        ``messages`` are ``{"role": ..., "content": ...}`` mappings. Timeouts, failed
        connections and HTTP errors are retried as configured; what still fails comes back
        as a result with ``text=None`` and the reason in ``error``.
        """
        body = self.request_body(messages, seed=seed, temperature=temperature,
                                 json_schema=json_schema)
        payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        key = hashlib.sha256(f"{self.config.endpoint}\n{payload}".encode()).hexdigest()
        started = time.perf_counter()
        hit = self._cache_read(key)
        if hit is not None:
            return ChatResult(text=hit["text"], usage=_usage(hit.get("usage")),
                              cost=0.0 if self.config.priced else None,
                              finish_reason=hit.get("finish_reason"), cached=True, attempts=0,
                              latency_s=time.perf_counter() - started, request_key=key)
        waits: list[float] = []
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._post(payload.encode("utf-8"))
            except _Failure as failure:
                if not failure.retried or attempt > self.config.max_retries:
                    logger.warning("judge call to %s failed after %d attempt(s): %s",
                                   self._host, attempt, failure.brief)
                    return ChatResult(
                        text=None, latency_s=time.perf_counter() - started, attempts=attempt,
                        waits_s=tuple(waits), error_kind=failure.kind, request_key=key,
                        error=f"{failure.detail} (after {attempt} attempt(s))")
                wait = self._wait(attempt, failure.retry_after)
                logger.info("judge call to %s, attempt %d: %s; retrying in %.2f s",
                            self._host, attempt, failure.brief, wait)
                waits.append(wait)
                self._sleep(wait)
                continue
            self._cache_write(key, answer)
            usage = _usage(answer.get("usage"))
            return ChatResult(text=answer["text"], usage=usage, cost=self.cost(usage),
                              finish_reason=answer.get("finish_reason"), attempts=attempt,
                              latency_s=time.perf_counter() - started, waits_s=tuple(waits),
                              request_key=key)

    def cost(self, usage: Usage | None) -> float | None:
        """Estimated cost of a call with this usage (None without prices or usage)."""
        config = self.config
        if usage is None or config.prompt_price_per_1k is None \
                or config.completion_price_per_1k is None:
            return None
        return (usage.prompt_tokens * config.prompt_price_per_1k
                + usage.completion_tokens * config.completion_price_per_1k) / 1000

    def _post(self, content: bytes) -> dict[str, Any]:
        httpx = self._httpx
        _check_host(self._host, self.config.allowed_hosts)
        try:
            response = self._http.post(self.config.endpoint, content=content,
                                       headers=self._headers,
                                       params=dict(self.config.query_params))
        except httpx.TimeoutException as exc:
            detail = f"timeout: no answer within {self.config.timeout_s:g} s"
            raise _Failure("timeout", f"{detail} ({type(exc).__name__})", detail) from exc
        except httpx.TransportError as exc:
            brief = f"connection failed: {type(exc).__name__}"
            raise _Failure("connection", f"{brief}: {exc}", brief) from exc
        if response.status_code != 200:
            status = response.status_code
            excerpt = " ".join(response.text.split())[:200]
            raise _Failure("http_status", f"HTTP {status} from the judge endpoint: {excerpt}",
                           f"HTTP {status}",
                           retry_after=_retry_after(response.headers.get("Retry-After")),
                           retried=status in _RETRIED_STATUS)
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Failure("bad_response", "the endpoint's answer is not a chat completion "
                           f"(no choices[0].message.content: {exc!r})",
                           "not a chat completion", retried=False) from exc
        if not isinstance(text, str):
            raise _Failure("bad_response", "the endpoint's answer has no text content "
                           f"(content is {type(text).__name__})", "no text content",
                           retried=False)
        usage = data.get("usage") if isinstance(data, dict) else None
        return {"text": text, "finish_reason": choice.get("finish_reason"),
                "usage": usage if isinstance(usage, dict) else None}

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        config = self.config
        wait = config.backoff_s * 2 ** (attempt - 1) if retry_after is None else retry_after
        return min(max(wait, 0.0), config.max_wait_s)

    def _cache_path(self, key: str) -> Path | None:
        folder = self.config.cache_dir
        return None if folder is None else folder / key[:2] / f"{key}.json"

    def _cache_read(self, key: str) -> dict[str, Any] | None:
        path = self._cache_path(key)
        if path is None or not path.exists():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        answer = entry.get("answer") if isinstance(entry, dict) else None
        if entry.get("key") != key or not isinstance(answer, dict) \
                or not isinstance(answer.get("text"), str):
            logger.warning("ignoring malformed cache entry %s", path)
            return None
        return answer

    def _cache_write(self, key: str, answer: Mapping[str, Any]) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"key": key, "model": self.config.model, "answer": dict(answer)}
        partial = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")
        partial.write_text(json.dumps(entry, ensure_ascii=False, sort_keys=True),
                           encoding="utf-8")
        os.replace(partial, path)


def _check_host(host: str, allowed: Sequence[str]) -> None:
    if host.lower() not in allowed:
        raise InputError(
            f"judge endpoint host '{host}' is not in allowed_hosts ({', '.join(allowed)}); "
            f"nothing was sent. Texts go only to hosts you list: if '{host}' is inside your "
            "organisation's tenant, add it to ClientConfig.allowed_hosts")


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, Mapping):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
               for n in (prompt, completion)):
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion)
