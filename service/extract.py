"""Stage 2, extract: one model call per article for a summary and claims with sentence-id evidence.

The reply must validate as :class:`schemas.Extraction` with the article's own sentence
ids; otherwise it is re-asked (bounded), and then the article is reported as failed.
Each claim is then checked against its evidence (:mod:`service.verify`): re-anchored to
the sentence that states it, or rejected and listed. A reply left with no grounded claim
is re-asked like an invalid one.
"""

import re
from functools import cache
from typing import Any

from schemas import Article, ArticleClaims, ExtractedClaim, Extraction, RejectedClaim
from schemas.extraction import CLAIM_TEXT_LIMIT, MAX_CLAIMS
from service.gateway import Gateway, ModelRequest
from service.guard import as_data
from service.prompts import load_prompt
from service.structured import ask, load_json
from service.verify import MIN_ANCHOR, best_anchor, coverage, same_sentence, ungrounded


@cache
def extraction_schema(sentences: int) -> dict[str, Any]:
    """The JSON schema the reply must follow, evidence ids listed as an enum of those shown.

    A server that enforces schemas as grammars (llama.cpp) then cannot emit an id the
    article does not have (it ignores ``minimum``/``maximum``, but honours ``enum``);
    other servers are still held to it by validation.
    """
    schema = Extraction.model_json_schema()
    items = schema["$defs"]["ExtractedClaim"]["properties"]["evidence"]["items"]
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
    """Validate a reply against the schema and the ids shown, map them back, then ground it.

    The model sees the kept sentences numbered 1..n with no gaps (a small model cites gaps'
    ids); its evidence is translated back to the article's own sentence ids here.
    """
    kept = article.kept
    extraction = Extraction.model_validate(
        load_json(content), context={"sentence_ids": range(1, len(kept) + 1)}
    )
    claims = [
        c.model_copy(update={"evidence": [kept[i - 1].id for i in c.evidence]})
        for c in extraction.claims
    ]
    return ground(extraction.model_copy(update={"claims": claims}), article)


_DANGLING = re.compile(r"\b(?:of|the|a|an|to|and|or|with|for|by|in|on|as|at|from)\W*$", re.I)


def _uncut(claim: ExtractedClaim, article: Article) -> ExtractedClaim:
    """A claim cut off while copying its one evidence sentence (at the length limit, or
    before a quotation: "awarded the title of") is replaced by that sentence, rather than
    shown broken off mid-phrase."""
    cut = len(claim.text) >= CLAIM_TEXT_LIMIT - 5 or _DANGLING.search(claim.text)
    if not cut or len(claim.evidence) != 1:
        return claim
    sentence = article.sentence(claim.evidence[0]).text
    copied = coverage(claim.text, sentence) >= MIN_ANCHOR
    return claim.model_copy(update={"text": sentence}) if copied else claim


def _anchored(
    claim: ExtractedClaim, article: Article, candidates: list[tuple[int, str]]
) -> ExtractedClaim | None:
    claim = _uncut(claim, article)
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
