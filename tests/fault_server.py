"""A fault-injecting OpenAI-compatible model server on 127.0.0.1, for tests and benchmarks.

It answers ``POST /v1/chat/completions`` with a *valid canned reply* built from the schema the
request asks for (as :mod:`tests.fake_model` does in-process; never from the prompt's wording),
so it never needs a model; and, at seeded rates, it injects the faults providers produce:

    429 (with Retry-After) · 500 · 503 · a hang past the client's timeout · a dropped
    connection · malformed JSON · schema-invalid JSON · invented sentence ids · a reply cut
    short (``finish_reason: "length"``)

It also records every request (body and headers) and can add a fixed latency per call.
"""

import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fake_model import CONTENT_FAULTS, canned, faulty
from tests.helpers import serve

FAULTS = ("429", "500", "503", "hang", "drop", *CONTENT_FAULTS)


@dataclass
class Plan:
    """What the server does: which faults, how often, how slowly."""

    rate: float = 0.0
    """Share of calls that fail (0-1)."""
    faults: tuple[str, ...] = FAULTS
    """Which faults to draw from."""
    seed: int = 0
    latency: float = 0.0
    """Seconds added to every call."""
    hang: float = 5.0
    """Seconds a hang lasts (set it above the client's timeout)."""
    retry_after: str = "0"
    requests: list[dict[str, Any]] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            fault = self._random.choice(self.faults)
            self.injected.append(fault)
            return fault


def _schema(body: dict[str, Any]) -> dict[str, Any]:
    # the schema the request asks for, as sent with either kind of response_format
    asked = body.get("response_format") or {}
    schema = asked.get("json_schema", {}).get("schema") or asked.get("schema") or {}
    return dict(schema)


def completion(content: str, finish: str, body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat completion wrapping ``content``."""
    prompt_tokens = sum(len(m["content"]) for m in body["messages"]) // 4
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fault"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(content) // 4,
            "total_tokens": prompt_tokens + len(content) // 4,
        },
    }


def _handler(plan: Plan) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            plan.requests.append({"body": body, "headers": dict(self.headers)})
            time.sleep(plan.latency)
            self._answer(plan.draw(), body)

        def _answer(self, fault: str | None, body: dict[str, Any]) -> None:
            if fault in ("429", "500", "503"):
                headers = {"Retry-After": plan.retry_after} if fault == "429" else {}
                return self._send(int(fault), {"error": {"message": f"injected {fault}"}}, headers)
            if fault == "hang":
                time.sleep(plan.hang)
            if fault == "drop":
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            reply = canned(_schema(body))
            content, finish = faulty(fault, reply) if fault else (json.dumps(reply), "stop")
            return self._send(200, completion(content, finish, body), {})

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def fault_server(plan: Plan) -> Iterator[str]:
    """Run the server for ``plan``; yield its base URL (``http://127.0.0.1:PORT/v1``)."""
    with serve(_handler(plan)) as base:
        yield f"{base}/v1"
