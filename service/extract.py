"""Stage 2, extract: one model call per article for a summary and claims with sentence-id evidence.

The reply must validate as :class:`schemas.ExtractionReply` with the article's own sentence
ids; otherwise it is re-asked (bounded), and then the article is reported as failed. The
model names each claim's sentences and never copies them: the claim's text is the text of
those sentences, filled in here, so it is the source's own wording and costs no output
tokens. Claims are then checked (:mod:`service.verify`) like any other text (a claim given
by another path, or a future prompt that asks for wording, is re-anchored or rejected), and
a repeated claim is dropped. A reply left with no claim is re-asked like an invalid one.
"""

from collections.abc import Sequence
from functools import cache
from typing import Any

from schemas import (
    Article,
    ArticleClaims,
    ExtractedClaim,
    Extraction,
    ExtractionReply,
    RejectedClaim,
)
from schemas.extraction import MAX_CLAIMS
from service.gateway import Gateway, ModelRequest
from service.guard import as_data
from service.prompts import load_prompt
from service.structured import ask, load_json
from service.verify import best_anchor, same_sentence, ungrounded


@cache
def extraction_schema(sentences: int) -> dict[str, Any]:
    """The JSON schema the reply must follow, evidence ids listed as an enum of those shown.

    A server that enforces schemas as grammars (llama.cpp) then cannot emit an id the
    article does not have (it ignores ``minimum``/``maximum``, but honours ``enum``);
    other servers are still held to it by validation.
    """
    schema = ExtractionReply.model_json_schema()
    items = schema["$defs"]["ClaimPick"]["properties"]["evidence"]["items"]
    items["enum"] = list(range(1, sentences + 1))
    return schema


def extraction_request(article: Article) -> ModelRequest:
    """The model request for one article."""
    prompt = load_prompt("extract")
    shown = [{"id": n, "text": as_data(s.text)} for n, s in enumerate(article.kept, 1)]
    messages = prompt.render(sentences=shown, max_claims=MAX_CLAIMS)
    return ModelRequest(
        messages=messages,
        schema=extraction_schema(len(article.kept)),
        schema_name="Extraction",
        template_version=prompt.version,
        max_tokens=prompt.max_tokens,
    )


def parse_extraction(content: str, article: Article) -> ArticleClaims:
    """Validate a reply against the schema and the ids shown, fill in each claim's text
    from its sentences, then ground it.

    The model sees the kept sentences numbered 1..n with no gaps (a small model cites gaps'
    ids); its evidence is translated back to the article's own sentence ids here.
    """
    kept = article.kept
    reply = ExtractionReply.model_validate(
        load_json(content), context={"sentence_ids": range(1, len(kept) + 1)}
    )
    claims = []
    for pick in reply.claims:
        evidence = sorted({kept[i - 1].id for i in pick.evidence})
        text = " ".join(article.sentence(i).text for i in evidence)
        claims.append(ExtractedClaim(text=text, evidence=evidence, kind=pick.kind))
    return ground(Extraction(claims=claims, summary=reply.summary), article)


def _anchored(
    claim: ExtractedClaim, article: Article, candidates: list[tuple[int, str]]
) -> ExtractedClaim | None:
    stated_by = [article.sentence(i).text for i in claim.evidence]
    if ungrounded(claim.text, stated_by) is None:
        return claim
    anchor = best_anchor(claim.text, candidates)
    return None if anchor is None else claim.model_copy(update={"evidence": [anchor]})


def _reject(article: Article, claim: ExtractedClaim, reason: str) -> RejectedClaim:
    return RejectedClaim(article_id=article.id, text=claim.text, reason=reason)


def ground(extraction: Extraction, article: Article) -> ArticleClaims:
    """Keep the claims their evidence states; raise ValueError when none is left."""
    kept: list[ExtractedClaim] = []
    rejected: list[RejectedClaim] = []
    seen: set[str] = set()
    moved = 0
    candidates = [(s.id, s.text) for s in article.kept]  # once, not per claim
    for claim in extraction.claims:
        anchored = _anchored(claim, article, candidates)
        if anchored is None:
            rejected.append(_reject(article, claim, "not stated by the article's sentences"))
        elif same_sentence(claim.text, seen):
            rejected.append(_reject(article, claim, "repeats an earlier claim"))
        else:
            kept.append(anchored)
            moved += anchored.evidence != claim.evidence
    if not kept:
        raise ValueError("no claim is stated by the sentences it cites; cite the right ids")
    grounded = extraction.model_copy(update={"claims": kept})
    return ArticleClaims(
        article_id=article.id, extraction=grounded, rejected=rejected, reanchored=moved
    )


async def extract(gateway: Gateway, article: Article, reasks: int) -> ArticleClaims:
    """The article's grounded claims (raises a ModelError when it cannot get them)."""
    return await ask(
        gateway,
        extraction_request(article),
        lambda content: parse_extraction(content, article),
        reasks,
    )


def claims_of_copies(
    claims: Sequence[ArticleClaims], articles: Sequence[Article]
) -> list[ArticleClaims]:
    """Each copy's claims, taken from its original and anchored in the copy's own sentences
    (a copy whose sentences state none of them has none)."""
    by_article = {c.article_id: c for c in claims}
    found = []
    for copy in articles:
        original = by_article.get(copy.duplicate_of or "")
        if original is None:
            continue
        try:
            found.append(ground(original.extraction, copy))
        except ValueError:
            continue
    return found
