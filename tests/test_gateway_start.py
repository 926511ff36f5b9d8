"""A burst of calls begins one call at a time: the first request of a burst is on its way
before the last one is built, and every call still runs at once with the others."""

import asyncio
from dataclasses import dataclass, field

from service.gateway import Gateway, ModelRequest, Reply
from service.settings import Settings

CALLS = 8


@dataclass
class _Logged:
    """An endpoint that logs when each request is built and sent, and answers only once every
    call is in flight (a bound only in case they never are: then the test fails, not hangs)."""

    identity: str = "logged"
    log: list[tuple[str, int]] = field(default_factory=list)
    in_flight: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, request: ModelRequest, timeout: float) -> Reply:
        number = int(request.messages[0]["content"])
        self.log.append(("building", number))
        for _ in range(3):  # turns of the event loop, as a request built in a thread takes
            await asyncio.sleep(0)
        self.log.append(("sent", number))
        self.in_flight += 1
        if self.in_flight == CALLS:
            self.all_in.set()
        await asyncio.wait_for(self.all_in.wait(), 60)
        return Reply(f"reply {number}", "stop", 1, 1, cached=False)

    async def close(self) -> None:
        return None


def _request(number: int) -> ModelRequest:
    message = {"role": "user", "content": str(number)}
    return ModelRequest([message], {}, "test", "1", max_tokens=10)


async def _burst(endpoint: _Logged) -> list[str]:
    settings = Settings(model="logged", concurrency=CALLS, use_cache=False)
    gateway = Gateway([endpoint], settings, None)
    replies = await asyncio.gather(*(gateway.complete(_request(n)) for n in range(CALLS)))
    return [r.content for r in replies]


def test_the_first_request_of_a_burst_leaves_before_the_last_is_built() -> None:
    endpoint = _Logged()
    replies = asyncio.run(_burst(endpoint))
    assert replies == [f"reply {n}" for n in range(CALLS)]
    assert endpoint.log.index(("sent", 0)) < endpoint.log.index(("building", CALLS - 1))
    assert endpoint.all_in.is_set()  # all at once, as the concurrency allows
