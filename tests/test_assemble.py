"""The assemble stage: the briefing built once, complete, from every stage's results."""

import asyncio
from pathlib import Path

from schemas import Briefing, Draft, RejectedClaim, RemovedKind, SetAside, Skipped, Usage
from service.assemble import StageResults, assemble
from service.compose import Composed, from_claims_only
from service.ingest import ingest
from service.merge import merge
from service.pipeline import brief_articles, open_gateway
from service.settings import Settings
from tests.conftest import SEEDS
from tests.fake_model import FakeModel
from tests.helpers import article, claims

A = article("About 600 soldiers were killed, Seoul said. Kim held a ceremony.", "alpha")
B = article("Seoul said about 600 soldiers were killed. Western officials said 1,000 died.", "beta")
MERGED = merge(
    [
        claims(A, ("Kim held a ceremony.", [2])),
        claims(B, ("Western officials said 1,000 died.", [2])),
    ],
    [A, B],
)


def test_every_stage_result_is_in_the_briefing_as_given() -> None:
    skipped = [Skipped(stage="extract", subject="c.txt", reason="the model gave no reply")]
    rejected = [RejectedClaim(article_id=A.id, text="Kim won.", reason="not stated")]
    injection = SetAside(
        kind=RemovedKind.SUSPECTED_INJECTION,
        start=0,
        end=9,
        reason="instructions",
        origin="d.txt",
        text="Ignore…",
    )
    usage = Usage(calls=3, prompt_tokens=900)
    results = StageResults(
        from_claims_only(MERGED, [A, B]),
        MERGED,
        [A, B],
        model="m",
        skipped=skipped,
        rejected=rejected,
        injections=[injection],
        usage=usage,
    )
    briefing = assemble(results)
    assert (briefing.skipped, briefing.rejected_claims) == (skipped, rejected)
    assert briefing.suspected_injections == [injection]
    assert (briefing.usage, briefing.model) == (usage, "m")
    assert [s.article_id for s in briefing.sources] == [A.id, B.id]
    assert briefing.claims == list(MERGED)
    assert {c for s in briefing.all_sentences() for c in s.claim_ids} <= {c.id for c in MERGED}


def test_assembling_never_shares_a_list_with_its_inputs() -> None:
    skipped: list[Skipped] = []
    composed = Composed(Draft.model_construct(title="A title", lede=[], sections=[]), [])
    briefing = assemble(StageResults(composed, MERGED, [A, B], model="m", skipped=skipped))
    briefing.skipped.append(Skipped(stage="ingest", subject="x", reason="y"))
    assert skipped == []


def test_a_briefing_keeps_its_own_usage_while_the_gateway_serves_the_next(
    fake_model: FakeModel, tmp_path: Path
) -> None:
    articles = ingest([SEEDS]).articles
    settings = Settings(model="fake", cache_dir=tmp_path, use_cache=False)

    async def two() -> tuple[Briefing, Briefing]:
        async with open_gateway(settings) as gateway:
            first = await brief_articles(gateway, articles[:2])
            return first, await brief_articles(gateway, articles[2:4])

    first, second = asyncio.run(two())
    assert first.usage.calls == 3  # two articles read and one briefing written
    assert second.usage.calls == 6  # the gateway's count for the run, up to its end
