"""One digest run: gather → group → brief each story → build and store the email → send it.

The only module that ties the others together. The order is what makes a run safe to repeat
and to kill: the email is stored in the outbox, with its stories marked as sent, in one
transaction *before* any copy is sent; each recipient's copy is recorded as sent before the
next; and every run first sends what earlier runs left in the outbox. So a re-run after a
crash sends what was built and not yet sent, and nothing twice (short of a kill between the
server's acceptance of a copy and its record, a window of one SQLite commit).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import SMTP
from pathlib import Path

from schemas import Article, Briefing, Skipped
from service._exceptions import (
    BriefError,
    CassetteMissError,
    DigestError,
    LocalModelError,
    UndeliveredError,
)
from service.clean import clean
from service.digest.archive import archived
from service.digest.config import DigestConfig, DigestFile
from service.digest.edition import NEW, UPDATED, Edition, LeftOut, StoryBrief
from service.digest.layout import render_html, render_text
from service.digest.mail import addressed, build, message_id, one_line
from service.digest.send import Smtp, deliver, resolve, undelivered
from service.digest.state import STATE_FILE, Built, Sent, State, locked
from service.digest.stories import Item, Story, group, keys_of
from service.gateway import Gateway
from service.ingest import ingest
from service.pipeline import Progress, brief_articles, ingest_options, open_gateway
from service.settings import Settings

STORY_MEMORY_DAYS = 30
"""How long a story's articles are remembered for placing later articles in it."""

Say = Callable[[str], None]


@dataclass
class Outcome:
    """What a run did for one digest."""

    digest: str
    status: str
    """``sent``, ``nothing new``, ``dry run`` or ``failed``."""
    stories: int = 0
    message_id: str | None = None
    left_out: list[LeftOut] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    delivered: int = 0
    """Copies sent by this run, earlier runs' leftovers included."""
    error: BriefError | None = None


@dataclass
class Job:
    """The fixed inputs of one digest's run."""

    config: DigestConfig
    settings: Settings
    state: State
    now: datetime
    smtp: Smtp | None = None
    """None for a dry run."""
    out: Path | None = None
    say: Say = lambda line: None
    progress: Progress | None = None
    run_id: int = 0

    @property
    def dry_run(self) -> bool:
        return self.smtp is None


@dataclass
class Gathered:
    """The articles the sources hold now, each with its time, and the inputs skipped."""

    articles: dict[str, Article]
    when: dict[str, datetime]
    skipped: list[Skipped]


@dataclass
class Candidate:
    """A story with articles not sent before: what it would brief and how to show it."""

    story: Story
    articles: list[Article]
    """Its articles to brief, newest first, at most ``max_articles_per_story``."""
    present: list[str]
    """The ids of all its articles the sources hold now."""
    fresh: list[Article]
    sent: Sent | None
    outlets: int
    latest: datetime

    @property
    def label(self) -> str:
        title = self.articles[0].title or self.articles[0].origin
        return f"{one_line(title, 100)} ({len(self.present)} articles)"


def run_digests(
    file: DigestFile,
    settings: Settings,
    *,
    only: str | None = None,
    dry_run: bool = False,
    out: Path | None = None,
    now: datetime | None = None,
    say: Say = lambda line: None,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Run the digest called ``only``, or every digest in ``file``, in turn."""
    digests = file.select(only)
    smtps = {d.name: None if dry_run else resolve(file.smtp_for(d)) for d in digests}
    path = (file.state_dir or settings.data_dir) / STATE_FILE
    moment = now or datetime.now().astimezone()
    with locked(path):
        state = State(path)
        try:
            jobs = [
                Job(d, _settings_for(settings, d), state, moment, smtps[d.name], out, say, progress)
                for d in digests
            ]
            return [asyncio.run(run_one(job)) for job in jobs]
        finally:
            state.close()


def _settings_for(settings: Settings, config: DigestConfig) -> Settings:
    update = {"model": config.model, "api_base": config.api_base, "deployments": config.deployments}
    return settings.model_copy(update={k: v for k, v in update.items() if v})


async def run_one(job: Job) -> Outcome:
    """Build, store and send one digest's email; errors end in the outcome, not raised."""
    name = job.config.name
    if not job.dry_run:
        job.run_id = job.state.start_run(name, job.now)
    try:
        outcome = await _build(job)
        if not job.dry_run:
            outcome.delivered = _deliver_all(job)
    except BriefError as error:
        outcome = Outcome(name, "failed", error=error)
    if not job.dry_run:
        _record(job, outcome)
    if isinstance(outcome.error, LocalModelError | CassetteMissError):
        raise outcome.error  # not about this digest: every other one would fail the same way
    return outcome


def _record(job: Job, outcome: Outcome) -> None:
    state, name = job.state, job.config.name
    failures = [(item.subject, item.reason) for item in outcome.left_out]
    state.record_failures(job.run_id, name, job.now, failures)
    done = f"{outcome.delivered} copies sent, {len(outcome.left_out)} left out"
    detail = str(outcome.error or "") or done
    state.finish_run(job.run_id, datetime.now(UTC), outcome.status, detail)


async def _build(job: Job) -> Outcome:
    name = job.config.name
    gathered = gather(job)
    job.say(f"{name}: {len(gathered.articles)} articles in the window")
    chosen, left_out = choose(job, _group(job, gathered), gathered)
    left_out += [LeftOut(s.subject, s.reason) for s in gathered.skipped]
    if not chosen:
        return Outcome(name, "nothing new", left_out=left_out)
    briefs, failed = await brief_all(job, chosen)
    left_out = failed + left_out
    if not briefs:
        raise DigestError(f"{name}: no story could be briefed; first: {failed[0].reason}")
    number = job.state.editions(name, job.now.date()) + 1
    edition = Edition(name, job.now, number, [b for b, _ in briefs], left_out)
    edition = archived(job.config.archive, edition, job.say)  # story pages; links for the email
    return keep(job, edition, [c for _, c in briefs])


def gather(job: Job) -> Gathered:
    """Read every source; give each article a time; keep those in the window."""
    # no per-run cap: a digest reads all its sources (each feed capped) and bounds its model
    # calls by max_stories and max_articles_per_story instead
    options = replace(ingest_options(job.settings), max_articles=None)
    ingested = ingest(job.config.sources, options=options)
    seen = job.state.first_seen(job.config.name)
    when = {a.id: _time_of(a, seen.get(a.id) or job.now) for a in ingested.articles}
    hours = job.config.window_hours()
    start = job.now - timedelta(hours=hours) if hours else None
    kept = {a.id: a for a in ingested.articles if start is None or when[a.id] >= start}
    return Gathered(kept, when, ingested.skipped)


def _time_of(article: Article, fallback: datetime) -> datetime:
    """When it was published, else its file's modification time, else when first seen."""
    if article.published is not None:
        return _aware(article.published)
    path = Path(article.origin.split("#")[0])
    if "://" not in article.origin and path.is_file():
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return _aware(fallback)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _group(job: Job, gathered: Gathered) -> list[Story]:
    horizon = job.now - timedelta(days=STORY_MEMORY_DAYS)
    known = {
        i.article_id: i
        for i in job.state.known_items(job.config.name)
        if i.article_id in gathered.articles or i.when >= horizon
    }
    new = [
        Item(a.id, keys_of(clean([a])[0]), gathered.when[a.id])
        for a in gathered.articles.values()
        if a.id not in known
    ]
    stories = group(known.values(), new)
    if not job.dry_run:
        placed = [replace(i, story_id=s.story_id) for s in stories for i in s.items]
        job.state.remember(
            job.config.name, [i for i in placed if i.article_id not in known], job.now
        )
    return stories


def choose(
    job: Job, stories: list[Story], gathered: Gathered
) -> tuple[list[Candidate], list[LeftOut]]:
    """Stories with articles not sent before, the most widely reported and newest first."""
    sent = job.state.sent(job.config.name)
    found = [_candidate(job, s, gathered, sent.get(s.story_id)) for s in stories]
    ranked = sorted(
        (c for c in found if c is not None),
        key=lambda c: (-c.outlets, -c.latest.timestamp(), c.story.story_id),
    )
    limit = job.config.max_stories
    beyond = [LeftOut(c.label, f"beyond the limit of {limit} stories") for c in ranked[limit:]]
    return ranked[:limit], beyond


def _candidate(job: Job, story: Story, gathered: Gathered, sent: Sent | None) -> Candidate | None:
    present = [
        gathered.articles[i.article_id] for i in story.items if i.article_id in gathered.articles
    ]
    fresh = [a for a in present if sent is None or a.id not in sent.articles]
    if not fresh:
        return None
    newest = sorted(present, key=lambda a: (gathered.when[a.id], a.id), reverse=True)
    return Candidate(
        story=story,
        articles=newest[: job.config.max_articles_per_story],
        present=[a.id for a in present],
        fresh=sorted(fresh, key=lambda a: (gathered.when[a.id], a.id)),
        sent=sent,
        outlets=len({a.source for a in present}),
        latest=gathered.when[newest[0].id],
    )


async def brief_all(
    job: Job, chosen: list[Candidate]
) -> tuple[list[tuple[StoryBrief, Candidate]], list[LeftOut]]:
    """Brief the stories at once through the pipeline, with one gateway (model server,
    cache, and its limit on calls in flight) for all."""
    if job.progress is not None:
        job.progress.stage("Briefing stories", len(chosen))
    async with open_gateway(job.settings) as gateway:
        done = await asyncio.gather(
            *(_brief_one(job, gateway, c) for c in chosen), return_exceptions=True
        )
    for result in done:
        if isinstance(result, BaseException):
            raise result  # not about one story (no model, a cassette miss): every one fails
    briefs = [(b, c) for b, c in zip(done, chosen, strict=True) if isinstance(b, StoryBrief)]
    return briefs, [r for r in done if isinstance(r, LeftOut)]


async def _brief_one(job: Job, gateway: Gateway, candidate: Candidate) -> StoryBrief | LeftOut:
    try:
        briefing = await brief_articles(gateway, candidate.articles)
    except (LocalModelError, CassetteMissError):
        raise
    except BriefError as error:
        return LeftOut(candidate.label, f"could not be briefed: {error}")
    finally:
        if job.progress is not None:
            job.progress.advance()
    return _story_brief(candidate, briefing)


def _story_brief(candidate: Candidate, briefing: Briefing) -> StoryBrief:
    sent = candidate.sent
    since = [
        f"{a.source}: {one_line(a.title or a.sentences[0].text, 150)}" for a in candidate.fresh
    ]
    return StoryBrief(
        story_id=candidate.story.story_id,
        status=NEW if sent is None else UPDATED,
        briefing=briefing,
        outlets=candidate.outlets,
        since=since if sent is not None else [],
        last_sent=sent.last_sent if sent is not None else None,
    )


def keep(job: Job, edition: Edition, sent: list[Candidate]) -> Outcome:
    """Build the email; write it to files on a dry run, else store it in the outbox."""
    config = job.config
    content = "\n".join(f"{c.story.story_id}:{','.join(sorted(c.present))}" for c in sent)
    msg_id = message_id(edition, config.sender, content)
    raw = build(edition, config.sender, msg_id).as_bytes()
    outcome = Outcome(config.name, "dry run", len(edition.stories), msg_id, edition.left_out)
    if job.dry_run or job.out is not None:
        preview = addressed(raw, ", ".join(config.recipients))
        outcome.files = write_files(job.out or Path.cwd(), edition, preview)
    if job.dry_run:
        return outcome
    stories = [
        (c.story.story_id, b.briefing.title, _sent_ids(c))
        for b, c in zip(edition.stories, sent, strict=True)
    ]
    built = Built(
        msg_id,
        config.name,
        job.now.date(),
        config.sender,
        _subject(raw),
        raw,
        list(config.recipients),
        stories,
    )
    job.state.store(built, job.now)
    job.state.note_email(job.run_id, msg_id, len(edition.stories))
    outcome.status = "sent"
    return outcome


def _sent_ids(candidate: Candidate) -> list[str]:
    earlier = candidate.sent.articles if candidate.sent else frozenset()
    return sorted(earlier | set(candidate.present))


def _subject(raw: bytes) -> str:
    return str(message_from_bytes(raw, policy=SMTP)["Subject"])


def write_files(out: Path, edition: Edition, raw: bytes) -> list[Path]:
    """Write the email as ``.eml``, its HTML as ``.html`` and its text as ``.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{edition.digest.replace(' ', '-')}-{edition.made:%Y-%m-%d}-{edition.number}"
    files = [stem.with_suffix(".eml"), stem.with_suffix(".html"), stem.with_suffix(".txt")]
    files[0].write_bytes(raw)
    files[1].write_text(render_html(edition), encoding="utf-8")
    files[2].write_text(render_text(edition), encoding="utf-8")
    return files


def _deliver_all(job: Job) -> int:
    """Send every pending copy of this digest's emails, oldest email first."""
    assert job.smtp is not None
    delivered, nobody = 0, []
    for outgoing in job.state.pending(job.config.name):

        def mark(
            recipient: str, status: str, error: str, msg_id: str = outgoing.message_id
        ) -> None:
            nonlocal delivered
            job.state.mark(msg_id, recipient, status, datetime.now(UTC), error)
            delivered += status == "sent"

        try:
            deliver(job.smtp, outgoing, mark)
        except UndeliveredError as error:  # its stories are unsent again: the others go on
            nobody.append(f"{job.config.name}: {error}")
            continue
        except DigestError as error:
            raise type(error)(
                f"{job.config.name}: {outgoing.message_id} not sent: {error}; it stays in the "
                "outbox and the next run sends it"
            ) from None
        job.say(f"{job.config.name}: sent {outgoing.message_id}")
    undelivered(nobody, delivered, job.say)
    return delivered
