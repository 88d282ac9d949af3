"""A real HTTP server on 127.0.0.1 that speaks the chat-completions protocol, for judge tests.

Replies are scripted: ``chat_server.script(reply, ...)`` queues replies served in order, and
``chat_server.respond_with(function)`` answers every later request from its JSON body. Every
request received is recorded (path, query, headers, body), so tests can count requests and
inspect what was sent. A reply may be delayed to provoke client timeouts; delays end early
when the test finishes.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer: a JSON body (dict) or raw text, after ``delay`` seconds."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class ChatServer:
    """The state of the running server: scripted replies and the requests received."""

    def __init__(self) -> None:
        self.url = ""
        self.port = 0
        self.requests: list[Received] = []
        self._queue: deque[Reply] = deque()
        self._responder: Callable[[Any], Reply] | None = None
        self._lock = threading.Lock()
        self.stopping = threading.Event()

    def script(self, *replies: Reply) -> None:
        """Queue replies, served first in first out before the responder is used."""
        with self._lock:
            self._queue.extend(replies)

    def respond_with(self, responder: Callable[[Any], Reply]) -> None:
        """Answer each request without a scripted reply from its parsed JSON body."""
        self._responder = responder

    @staticmethod
    def completion(text: str, *, prompt_tokens: int = 100, completion_tokens: int = 20,
                   finish_reason: str = "stop", delay: float = 0.0) -> Reply:
        """A successful chat completion whose message content is ``text``."""
        return Reply(body={
            "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "judge",
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}, delay=delay)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            if self._queue:
                return self._queue.popleft()
        if self._responder is not None:
            return self._responder(received.body)
        return Reply(status=500, body="no scripted reply left")


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            parts = urlsplit(self.path)
            reply = server._next(Received(path=parts.path, query=parse_qs(parts.query),
                                          headers={k.lower(): v for k, v in self.headers.items()},
                                          body=body))
            if reply.delay and server.stopping.wait(reply.delay):
                return
            content = (json.dumps(reply.body) if isinstance(reply.body, dict)
                       else str(reply.body or "")).encode("utf-8")
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json"
                                 if isinstance(reply.body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(content)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is expected in timeout tests


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A chat-completions server on 127.0.0.1 (a free port), stopped after the test."""
    state = ChatServer()
    httpd = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.port = int(httpd.server_address[1])
    state.url = f"http://127.0.0.1:{state.port}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
