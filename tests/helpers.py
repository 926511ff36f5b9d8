"""Hand-built articles and claims, for tests that need no model."""

from schemas import Article, ArticleClaims, ClaimKind, ExtractedClaim, Extraction
from service.ingest import make_article


def article(text: str, source: str) -> Article:
    return make_article(text, f"{source}.txt", source)


def claims(item: Article, *specs: tuple[str, list[int]]) -> ArticleClaims:
    extracted = [
        ExtractedClaim(evidence=ids, kind=ClaimKind.FACT, text=text) for text, ids in specs
    ]
    extraction = Extraction(summary="A summary of the article.", claims=extracted)
    return ArticleClaims(article_id=item.id, extraction=extraction)
