"""The fusion benchmark's judge and run, on hand-made pairs and an in-process model."""

import asyncio
import json
from pathlib import Path

import pytest

from bench.fusion import VERDICTS, Pair, ask_all, pairs, table, verdict
from bench.quality_match import matches, normalise
from service import Settings
from service.gateway import ModelRequest
from service.pipeline import open_gateway
from tests.fake_model import FakeModel, answer_with

PAIR = Pair(
    cluster="test",
    fact="f1",
    pattern=[["bridge"], ["opened", "opens"]],
    sentences=(
        "The mayor opened the new bridge on Monday, the city said.",
        "The bridge, which cost $40 million, was opened by Mayor Lee.",
    ),
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Mayor Lee opened the new $40 million bridge on Monday, the city said.", "fused"),
        (" ".join(PAIR.sentences), "joined"),
        ("The mayor opened the bridge. It cost $40 million, Mayor Lee said.", "joined"),
        (PAIR.sentences[0], "one only"),
        ("The mayor opened the new bridge on Monday.", "one only"),  # a cut
        ("Mayor Lee opened the new $45 million bridge on Monday, the city said.", "invented"),
        ("Mayor Kim opened the new $40 million bridge on Monday, the city said.", "invented"),
        ("Mayor Lee and the city spent $40 million on Monday on a new crossing.", "lost"),
        (None, "invalid"),
        ("", "invalid"),
    ],
)
def test_verdict_tells_fused_from_stacked_copied_invented_and_lost(
    reply: str | None, expected: str
) -> None:
    assert verdict(reply, PAIR) == expected


def test_pairs_are_two_documents_sentences_stating_one_key_fact() -> None:
    found = pairs(["seeds"], per_cluster=3)
    assert [p.fact for p in found] == ["f1", "f2", "f3"]
    for pair in found:
        first, second = pair.sentences
        assert normalise(first) != normalise(second)
        assert matches(pair.pattern, first)
        assert matches(pair.pattern, second)


def test_every_way_of_asking_is_sent_every_pair_and_counted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def answer(request: ModelRequest) -> str:
        stacked = request.messages[1]["content"].split("\n")[1:3]
        return json.dumps({"text": " ".join(s[3:] for s in stacked)})

    model = FakeModel(answer=answer)
    answer_with(monkeypatch, model)

    async def ask() -> dict[str, list[str | None]]:
        async with open_gateway(Settings(cache_dir=tmp_path)) as gateway:
            return await ask_all(gateway, [PAIR], ())

    replies = asyncio.run(ask())
    assert set(replies) == {"everything", "shared", "example"}
    assert len(model.requests) == 3
    rows = table([PAIR], replies).splitlines()[1:]
    joined = ["0"] * len(VERDICTS)
    joined[VERDICTS.index("joined")] = "1"
    assert sorted(r.split()[0] for r in rows) == sorted(replies)
    assert all(r.split()[1:] == joined for r in rows)
