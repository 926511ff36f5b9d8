"""Several fake model servers on 127.0.0.1, each answering a bounded number of calls at once.

Each is :mod:`tests.fault_server` (canned valid replies, faults at a planned rate), behind a
semaphore of ``slots``: the calls beyond it wait in the server, as on a real model server
with that many parallel slots. ``refusing_url`` is an address where nothing listens.
"""

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fault_server import Plan, _handler
from tests.helpers import serve


@dataclass
class Served:
    """One server of the fleet: its address, the most calls it held at once, and when its
    first call came and its last call ended (``time.time()``, comparable across processes)."""

    url: str
    in_flight: int = 0
    peak: int = 0
    first: float | None = None
    last: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.first = self.first or time.time()

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.last = time.time()


def _slotted(plan: Plan, slots: int, served: Served) -> type[BaseHTTPRequestHandler]:
    gate = threading.Semaphore(slots)
    answer = _handler(plan)

    class Slotted(answer):  # type: ignore[valid-type,misc]
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            served.enter()
            try:
                with gate:
                    super().do_POST()
            finally:
                served.leave()

    return Slotted


@contextmanager
def fleet(plans: Sequence[Plan], slots: int = 4) -> Iterator[list[Served]]:
    """One server per plan, each answering at most ``slots`` calls at once."""
    with ExitStack() as stack:
        servers = []
        for plan in plans:
            served = Served("")
            served.url = f"{stack.enter_context(serve(_slotted(plan, slots, served)))}/v1"
            servers.append(served)
        yield servers


def refusing_url() -> str:
    """The base URL of a port of 127.0.0.1 that refuses connections (nothing listens)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
