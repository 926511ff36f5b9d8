"""The pipeline: ingest → clean → extract → merge → compose → assemble → render; the ``brief`` API.

Each stage lives in its own module and only passes data forward; the model gateway, the
reply cache and the local model server are services the stages are handed, never import.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from pydantic import BaseModel

import schemas
from schemas import Article, ArticleClaims, Briefing, Disagreement, MergedClaim, Sentence, Skipped
from service._exceptions import (
    BriefingError,
    BudgetExceededError,
    LocalModelError,
    ModelError,
    NoUsableInputError,
)
from service.assemble import StageResults, assemble, number_sources
from service.cache import ResponseCache, StageCache, code_fingerprint
from service.clean import Cleaner, clean, originals, set_aside_warnings, suspected_injections
from service.compose import Composed, draft, finish, from_claims_only
from service.embed import WEIGHTS_SHA256 as EMBEDDER_SHA256
from service.embed import usable as embed_usable
from service.extract import claims_of_copies, extract
from service.gateway import Endpoint, Gateway, LiteLLMEndpoint
from service.ingest import Ingested, Options, ingest, split_sentences
from service.settings import EMBEDDED, Settings

if TYPE_CHECKING:
    from service.deployments import RoutedEndpoint
    from service.local_model import LocalServer, Tuning


class Progress(Protocol):
    """Receives progress events; the CLI draws a bar from them."""

    def stage(self, name: str, total: int) -> None:
        """A stage with ``total`` steps begins."""

    def advance(self) -> None:
        """One step of the current stage is done."""


class _NoProgress:
    def stage(self, name: str, total: int) -> None:
        return None

    def advance(self) -> None:
        return None


def make_endpoint(settings: Settings) -> Endpoint:
    """The endpoint ``settings.model`` names."""
    if settings.deployments:
        return routed_endpoint(settings)
    if settings.model == EMBEDDED:
        from service.local_model import EmbeddedEndpoint  # only for the embedded model

        return EmbeddedEndpoint(local_server(settings), settings.local_url)
    return LiteLLMEndpoint(settings.model, settings.api_base)


def local_tuning(settings: Settings) -> "Tuning":
    """How ``settings`` tune the embedded model's server."""
    from service.local_model import Tuning

    return Tuning(
        follow_load=settings.local_follow_load,
        wait_policy=settings.local_wait_policy,
        spin_count=settings.local_spin_count,
        server_args=tuple(settings.local_server_args),
    )


def local_server(settings: Settings) -> "LocalServer":
    """The embedded model's server as ``settings`` tune it (not started)."""
    from service.local_model import LocalServer

    tuning = local_tuning(settings)
    return LocalServer(
        settings.cache_dir,
        settings.local_threads,
        settings.local_context,
        tuning,
        settings.local_engine,
    )


def routed_endpoint(settings: Settings) -> "RoutedEndpoint":
    """The model's deployments behind one Router; the embedded model's are its servers."""
    from service.deployments import RoutedEndpoint
    from service.local_model import EMBEDDED_IDENTITY, MODEL_ALIAS

    if settings.model == EMBEDDED:  # deployments of `brief serve-model`, on other machines
        model, identity = f"hosted_vllm/{MODEL_ALIAS}", EMBEDDED_IDENTITY
    else:
        model, identity = settings.model, f"{settings.model}@"
    embedded = settings.model == EMBEDDED
    cooldown = settings.deployment_cooldown
    return RoutedEndpoint(model, settings.deployments, identity, cooldown, embedded)


def _fallback_settings(settings: Settings, model: str) -> Settings:
    # "model@http://host/v1" names a fallback on its own server; a plain name uses none.
    name, _, base = model.partition("@") if "@http" in model else (model, "", "")
    update: dict[str, object] = {"model": name, "api_base": base or None, "deployments": []}
    return settings.model_copy(update=update)


def model_label(settings: Settings) -> str:
    """The model's name as shown to users."""
    if settings.model != EMBEDDED:
        return settings.model
    from service.local_model import MODEL_ALIAS

    return f"embedded/{MODEL_ALIAS}"


def make_gateway(settings: Settings) -> Gateway:
    """A gateway to the model and its fallbacks, with the shared cache unless disabled."""
    cache = ResponseCache(settings.cache_dir) if settings.use_cache else None
    fallbacks = [make_endpoint(_fallback_settings(settings, m)) for m in settings.fallback_models]
    return Gateway([make_endpoint(settings), *fallbacks], settings, cache)


async def _extract_one(
    gateway: Gateway, article: Article, progress: Progress
) -> ArticleClaims | Skipped:
    # no limit here: the gateway bounds the calls in flight for the whole run
    try:
        return await extract(gateway, article, gateway.settings.reasks)
    except LocalModelError:
        raise  # not about this article: every other one would fail the same way
    except ModelError as error:
        return Skipped(stage="extract", subject=article.origin, reason=str(error))
    finally:
        progress.advance()


QUIET = 0.001
"""Seconds of a sleep that tells whether the event loop is idle: it ends on time."""
SENDING = 20
"""Sleeps at most that the clean-up waits for the calls it began to leave (a busy machine
may never let one end on time)."""


async def _idle(tries: int | None = None) -> None:
    """Return once the event loop is idle: a short sleep ended on time, so nothing else ran
    meanwhile (no reply was handled, no request prepared, in this thread or another); or
    after ``tries`` sleeps, if given."""
    loop = asyncio.get_running_loop()
    for _ in itertools.repeat(None) if tries is None else range(tries):
        started = loop.time()
        await asyncio.sleep(QUIET)
        if loop.time() - started < 2 * QUIET:
            return


async def _read_ahead(articles: Sequence[Article]) -> None:
    """What the merge needs of each article that no reply changes, worked out one article at
    a time while the event loop is idle (the model is awaited), so no call waits for it."""
    for article in articles:
        await _idle()
        from service.merge import read_ahead  # a run that merges nothing never imports it

        try:
            read_ahead(article)
        except Exception:  # the merge meets it again, and reports it
            return


Extracted = tuple[list[ArticleClaims], list[Skipped]]
"""The claims of the articles the model read, and those it could not read, in input order."""
Call = asyncio.Future[ArticleClaims | Skipped]
READING = "Reading articles"


async def _extract_reading_ahead(usable: Sequence[Article], calls: Sequence[Call]) -> Extracted:
    """The calls' claims, the usable articles' sentences read ahead for the merge meanwhile."""
    ahead = asyncio.ensure_future(_read_ahead(usable))
    try:
        results = await asyncio.gather(*calls)
    finally:
        ahead.cancel()  # what is left is worked out by the merge, if it is not cached
        await asyncio.wait([ahead])
    claims = [r for r in results if isinstance(r, ArticleClaims)]
    return claims, [r for r in results if isinstance(r, Skipped)]


async def _clean_and_extract(
    gateway: Gateway, ingested: Ingested, stages: StageCache, progress: Progress | None
) -> tuple["Prepared", list[Call]]:
    """The articles split and cleaned one at a time, each sent to the model as soon as no
    article still to come can change it (``Cleaner``): the first calls leave while the
    others are cleaned. Returns them prepared, and the calls under way, in input order."""
    cleaner = Cleaner(len(ingested.articles))
    calls: list[Call] = []
    later = _Later(progress or _NoProgress())
    try:
        for article in ingested.articles:
            cleaner.add(_split(stages, article))
            begun = [_extract_soon(gateway, a, later) for a in cleaner.ready() if _sent(a)]
            calls += begun
            # the calls begun leave before the next article is cleaned: litellm builds each
            # request in a thread, which waits for the interpreter while this one cleans
            await (_idle(SENDING) if begun else asyncio.sleep(0))
        calls += [_extract_soon(gateway, a, later) for a in cleaner.finish() if _sent(a)]
        prepared = _prepared(cleaner.cleaned, ingested.skipped)
    except BaseException:
        await _cancelled(calls)
        raise
    later.begin(READING, len(calls))
    return prepared, calls


def _unsplit(text: str) -> list[Sentence]:
    return []  # each article is split in its turn to be cleaned (``_split``)


def _split(stages: StageCache, article: Article) -> Article:
    """The ingested article with its sentences (ingest leaves them to the clean-up's turn)."""
    return article.model_copy(update={"sentences": cached_split(stages, article.text)})


def _sent(article: Article) -> bool:
    """Whether the model reads ``article``: it has something left, and is no copy."""
    return bool(article.kept) and article.duplicate_of is None


def _extract_soon(gateway: Gateway, article: Article, progress: Progress) -> Call:
    return asyncio.ensure_future(_extract_one(gateway, article, progress))


async def _cancelled(calls: Sequence[Call]) -> None:
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)


class _Later:
    """Progress whose stage is told once its size is known: steps done before are held."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.held: int | None = 0

    def stage(self, name: str, total: int) -> None:
        self.progress.stage(name, total)

    def begin(self, name: str, total: int) -> None:
        """Tell the stage, then the steps already done."""
        held, self.held = self.held or 0, None
        self.progress.stage(name, total)
        for _ in range(held):
            self.progress.advance()

    def advance(self) -> None:
        if self.held is None:
            self.progress.advance()
        else:
            self.held += 1


def unusable(articles: Sequence[Article]) -> list[Skipped]:
    """Each cleaned article left with nothing to read, as skipped, with why."""
    return [
        Skipped(stage="ingest", subject=a.origin, reason=_why_empty(a))
        for a in articles
        if not a.kept
    ]


def _why_empty(article: Article) -> str:
    if not article.sentences:
        return "no text; pass a file with the article"
    return "nothing left after setting aside boilerplate, captions and comments"


async def abrief(
    inputs: Sequence[str | Path],
    *,
    settings: Settings | None = None,
    sources: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    progress: Progress | None = None,
) -> Briefing:
    """Brief ``inputs``: files, folders, http(s) URLs of pages or feeds, or ``-`` for stdin."""
    settings = settings or Settings()
    async with open_gateway(settings) as gateway:
        stages = stage_cache(gateway.cache)
        options = replace(ingest_options(settings, stages), split=_unsplit)  # split as cleaned
        ingested = ingest(inputs, sources, stdin, options)
        return await _brief_ingested(gateway, ingested, stages, progress)


async def _brief_ingested(
    gateway: Gateway, ingested: Ingested, stages: StageCache, progress: Progress | None
) -> Briefing:
    """Brief articles not split yet: each split, cleaned and sent in turn, or, on a re-run,
    all cleaned at once from the stage cache."""
    given = _as_json(ingested.articles)
    cleaned = stages.recall(SPLIT_AND_CLEAN, given, list)
    if cleaned is not None:  # no article waits for any other
        return await brief_prepared(gateway, _prepared(cleaned, ingested.skipped), progress)
    prepared, calls = await _clean_and_extract(gateway, ingested, stages, progress)
    stages.keep(SPLIT_AND_CLEAN, given, prepared.cleaned)
    extracted = await _extract_reading_ahead(prepared.usable, calls)
    return await _brief_extracted(gateway, prepared, extracted, progress)


SPLIT_AND_CLEAN = "split and clean"
"""The stage that takes ingested articles (not split yet) to cleaned ones."""


def ingest_options(settings: Settings, stages: StageCache | None = None) -> Options:
    """How ``settings`` says inputs are found and fetched (split through ``stages``, if given)."""
    return Options(
        glob=settings.glob,
        allow_private_urls=settings.allow_private_urls,
        max_articles=settings.max_articles,
        max_per_feed=settings.max_articles_per_feed,
        split=partial(cached_split, stages) if stages else None,
    )


@cache
def _fingerprint() -> str:
    """This code's fingerprint (the ``service`` and ``schemas`` packages), once per process."""
    return code_fingerprint([Path(__file__).parent, Path(schemas.__file__).parent])


def stage_cache(cache: ResponseCache | None) -> StageCache:
    """The stages' results kept in ``cache`` (none kept when there is no cache)."""
    return StageCache(cache, _fingerprint() if cache is not None else "")


def cached_split(stages: StageCache, text: str) -> list[Sentence]:
    """``text``'s sentences, split once per text and code, then taken from the cache."""
    return stages.memo("split", text, partial(split_sentences, text), list)


def _as_json(models: Sequence[BaseModel]) -> str:
    """What a stage is given, as the text its cache key is made of."""
    return "\n".join(m.model_dump_json() for m in models)


@asynccontextmanager
async def open_gateway(settings: Settings) -> AsyncIterator[Gateway]:
    """A gateway for ``settings``, closed (model server stopped, cache closed) on leaving."""
    gateway = make_gateway(settings)
    try:
        yield gateway
    finally:
        await gateway.close()
        if gateway.cache is not None:
            gateway.cache.close()


@dataclass
class Prepared:
    """Articles cleaned and ready for the model, with what was skipped so far."""

    cleaned: list[Article]
    usable: list[Article]
    skipped: list[Skipped]


def prepare(
    articles: Sequence[Article], skipped: Sequence[Skipped] = (), stages: StageCache | None = None
) -> Prepared:
    """Clean ``articles``; raise :class:`NoUsableInputError` when none is left to read."""
    stages = stages or stage_cache(None)
    cleaned = stages.memo("clean", _as_json(articles), partial(clean, list(articles)), list)
    return _prepared(cleaned, skipped)


def _prepared(cleaned: list[Article], skipped: Sequence[Skipped]) -> Prepared:
    usable = [a for a in cleaned if a.kept]
    skipped = [*skipped, *unusable(cleaned)]
    if not usable:
        reasons = "; ".join(f"{s.subject}: {s.reason}" for s in skipped) or "no inputs given"
        raise NoUsableInputError(f"no usable article ({reasons})")
    return Prepared(cleaned, usable, skipped)


async def brief_prepared(
    gateway: Gateway, prepared: Prepared, progress: Progress | None = None
) -> Briefing:
    """Brief prepared articles with ``gateway``, which may serve several briefings in turn."""
    progress = progress or _NoProgress()
    sent = originals(prepared.usable)
    progress.stage(READING, len(sent))
    calls = [_extract_soon(gateway, article, progress) for article in sent]
    extracted = await _extract_reading_ahead(prepared.usable, calls)
    return await _brief_extracted(gateway, prepared, extracted, progress)


async def _brief_extracted(
    gateway: Gateway, prepared: Prepared, extracted: "Extracted", progress: Progress | None = None
) -> Briefing:
    """The briefing of articles whose claims the model gave (or which it could not read)."""
    progress = progress or _NoProgress()
    claims, unread = extracted
    claims = [*claims, *claims_of_copies(claims, prepared.usable)]  # copies: not sent
    read = _read(prepared.usable, claims, unread)
    stages = stage_cache(gateway.cache)
    merged, differ = consolidate(claims, read, stages, gateway.settings.cache_dir)
    composed, unwritten = await _compose(gateway, merged, read, progress)
    results = StageResults(
        composed=composed,
        claims=composed.claims or merged,
        articles=read,
        model=model_label(gateway.settings),
        disagreements=differ,
        skipped=[*prepared.skipped, *unread, *unwritten],
        rejected=[r for c in claims for r in c.rejected],
        injections=suspected_injections(prepared.cleaned),
        set_aside=set_aside_warnings(prepared.cleaned),
        usage=gateway.meter.usage.model_copy(deep=True),
    )
    return assemble(results)


async def brief_articles(
    gateway: Gateway, articles: Sequence[Article], progress: Progress | None = None
) -> Briefing:
    """Brief already-ingested ``articles`` with a shared ``gateway`` (the digest's way in)."""
    prepared = prepare(articles, stages=stage_cache(gateway.cache))
    return await brief_prepared(gateway, prepared, progress)


def _read(
    articles: Sequence[Article], claims: Sequence[ArticleClaims], unread: Sequence[Skipped]
) -> list[Article]:
    """The articles the model read, in input order; a model error when it read none."""
    if not claims:
        raise ModelError(f"no article could be read by the model; last error: {unread[-1].reason}")
    return [a for a in articles if any(c.article_id == a.id for c in claims)]


Consolidated = tuple[list[MergedClaim], list[Disagreement]]


def consolidate(
    claims: Sequence[ArticleClaims],
    read: Sequence[Article],
    stages: StageCache | None = None,
    models: Path | None = None,
) -> Consolidated:
    """The claims merged across articles, and the figures they disagree on (marked contested);
    worked out once per claims, articles and code, then taken from ``stages``. Paraphrases
    align too where the sentence embedder's weights are under ``models`` and its packages are
    installed (``service.embed``)."""
    given = f"{_as_json(claims)}\n\n{_as_json(read)}"
    embedded = models is not None and embed_usable(models)
    if embedded:  # another merge: not the lexical one's cached result
        given += f"\n\nembeddings {EMBEDDER_SHA256}"
    work = partial(_consolidate, claims, read, models if embedded else None)
    return (stages or stage_cache(None)).memo("consolidate", given, work, tuple)


def _consolidate(
    claims: Sequence[ArticleClaims], read: Sequence[Article], models: Path | None
) -> Consolidated:
    # imported here: a re-run whose merge comes from the cache never loads the merger
    from service.embed import loaded
    from service.figures import disagreements
    from service.merge import contest, merge

    merged = merge(claims, read, loaded(models) if models else None)
    differ = disagreements(read, number_sources(read), merged)
    return contest(merged, differ), differ


def _budget_note(error: BudgetExceededError) -> str:
    return f"{error}; the briefing lists the best-supported claims in their own words"


async def _compose(
    gateway: Gateway, merged: list[MergedClaim], read: list[Article], progress: Progress
) -> tuple[Composed, list[Skipped]]:
    """The composed draft (its checks worked out once per draft, claims and code, then taken
    from the stage cache); when the budget is spent, one made from the claims, and why."""
    progress.stage("Writing the briefing", 1)
    try:
        written = await draft(gateway, merged, read, gateway.settings.reasks)
        given = "\n\n".join(_as_json(m) for m in ([written.draft], written.dropped, merged, read))
        work = partial(finish, written, merged, read)
        return stage_cache(gateway.cache).memo("finish", given, work, Composed), []
    except BudgetExceededError as error:
        skipped = Skipped(stage="compose", subject="briefing", reason=_budget_note(error))
        return from_claims_only(merged, read), [skipped]
    except ModelError as error:
        raise BriefingError(f"the briefing could not be composed: {error}") from error
    finally:
        progress.advance()


def brief(
    inputs: Sequence[str | Path],
    *,
    settings: Settings | None = None,
    sources: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    progress: Progress | None = None,
) -> Briefing:
    """Synchronous :func:`abrief`."""
    done: list[Briefing] = []

    async def run() -> None:
        # not returned: asyncio.run (Python 3.11) writes out its task's repr, result and all,
        # twice as it puts back the SIGINT handler (tens of ms for a briefing of 100 articles)
        done.append(
            await abrief(inputs, settings=settings, sources=sources, stdin=stdin, progress=progress)
        )

    asyncio.run(run())
    return done[0]
