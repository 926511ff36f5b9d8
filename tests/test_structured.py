"""Invalid replies are re-asked with their error, bounded, without a growing history."""

import asyncio
import json

import pytest

from schemas import ExtractionReply
from service._exceptions import ReplyInvalidError
from service.gateway import ModelRequest, Reply
from service.structured import ask

GOOD = json.dumps(
    {
        "summary": "A short summary of it.",
        "claims": [{"evidence": [1], "kind": "fact"}],
    }
)
BAD_ID = GOOD.replace("[1]", "[7]")


class ScriptedGateway:
    """Stands in for the gateway: answers from a script and records what it was asked."""

    def __init__(self, *replies: tuple[str, str]) -> None:
        self.replies = list(replies)
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> Reply:
        self.requests.append(request)
        content, finish = self.replies.pop(0)
        return Reply(content, finish, 10, 5, cached=False)


REQUEST = ModelRequest([{"role": "user", "content": "article"}], {}, "Extraction", "v1", 100)


def parse(content: str) -> ExtractionReply:
    return ExtractionReply.model_validate_json(content, context={"sentence_ids": {1, 2}})


def run(gateway: ScriptedGateway, reasks: int = 2) -> ExtractionReply:
    return asyncio.run(ask(gateway, REQUEST, parse, reasks))  # type: ignore[arg-type]


def test_invalid_reply_is_reasked_with_its_error() -> None:
    gateway = ScriptedGateway((BAD_ID, "stop"), (GOOD, "stop"))
    assert run(gateway).claims[0].evidence == [1]
    reask = gateway.requests[1].messages
    assert reask[:1] == REQUEST.messages
    assert reask[1] == {"role": "assistant", "content": BAD_ID}
    assert "sentence ids [7]" in reask[2]["content"]


def test_history_does_not_grow_with_attempts() -> None:
    gateway = ScriptedGateway(("nope", "stop"), ("still nope", "stop"), (GOOD, "stop"))
    run(gateway)
    assert [len(r.messages) for r in gateway.requests] == [1, 3, 3]
    assert [r.attempt for r in gateway.requests] == [0, 1, 2]  # distinct cache keys
    assert [r.temperature for r in gateway.requests] == [0.0, 0.4, 0.4]
    assert gateway.requests[2].messages[1]["content"] == "still nope"


def test_gives_up_after_the_bound() -> None:
    gateway = ScriptedGateway(("x", "stop"), ("y", "stop"), ("z", "stop"))
    with pytest.raises(ReplyInvalidError, match="after 3 attempts") as raised:
        run(gateway, reasks=2)
    assert raised.value.last_reply == "z"
    assert gateway.replies == []


def test_a_truncated_reply_is_not_parsed() -> None:
    gateway = ScriptedGateway((GOOD, "length"), (GOOD, "stop"))
    run(gateway)
    assert "cut off" in gateway.requests[1].messages[2]["content"]


def test_a_raw_newline_inside_a_string_is_not_worth_a_reask() -> None:
    from service.extract import parse_extraction
    from service.ingest import make_article

    item = make_article(
        "The council approved a new budget of four million on Monday.", "a.txt", "A"
    )
    summary = "The council approved a new\nbudget on Monday."  # a raw newline
    raw = json.dumps({"claims": [{"evidence": [1], "kind": "fact"}], "summary": "@"})
    raw = raw.replace('"@"', f'"{summary}"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)  # strict JSON refuses it
    parsed = parse_extraction(raw, item)
    assert parsed.extraction.summary == summary
    assert parsed.extraction.claims[0].text == item.sentences[0].text
