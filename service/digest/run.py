"""One digest run, as steps that return values: collect → group → brief → build → store → send.

Between brief and build, the edition's stories are written to the archive, if there is one.

The only module that ties the others together, and the only one whose steps write state:
:func:`start`, :func:`remember`, :func:`store`, :func:`send` and :func:`record`, each named
for what it writes. The order is what makes a run safe to repeat and to kill: the email is
stored in the outbox, with its stories marked as sent, in one transaction *before* any copy
is sent; each recipient's copy is recorded as sent before the next; and every run also sends
what earlier runs left in the outbox. So a re-run after a crash sends what was built and not
yet sent, and nothing twice (short of a kill between the server's acceptance of a copy and
its record, a window of one SQLite commit).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import SMTP
from enum import StrEnum
from pathlib import Path

from schemas import Briefing
from service._exceptions import BriefError, DigestError, LocalModelError, UndeliveredError
from service.digest.archive import archived
from service.digest.collect import Candidate, choose, collect, group_stories
from service.digest.config import DigestConfig, DigestFile
from service.digest.edition import Edition, LeftOut, StoryBrief, StoryStatus
from service.digest.layout import render_html, render_text
from service.digest.mail import addressed, build, message_id, one_line
from service.digest.send import Smtp, deliver, resolve, undelivered
from service.digest.state import STATE_FILE, Built, State, locked
from service.digest.stories import Item
from service.gateway import Gateway
from service.pipeline import Progress, brief_articles, open_gateway
from service.settings import Settings

Say = Callable[[str], None]


class RunStatus(StrEnum):
    """How a digest's run ended."""

    SENT = "sent"
    """An email was built and stored; its copies were sent (or stay in the outbox)."""
    NOTHING_NEW = "nothing new"
    DRY_RUN = "dry run"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """What a run did for one digest."""

    digest: str
    status: RunStatus
    stories: int = 0
    message_id: str | None = None
    left_out: list[LeftOut] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    delivered: int = 0
    """Copies sent by this run, earlier runs' leftovers included."""
    error: BriefError | None = None


@dataclass(frozen=True)
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

    @property
    def dry_run(self) -> bool:
        return self.smtp is None


@dataclass(frozen=True)
class Email:
    """A digest's email, built and ready to store or preview."""

    edition: Edition
    built: Built


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
    run_id = None if job.dry_run else start(job)
    try:
        outcome = await _make(job, run_id)
        if not job.dry_run:
            outcome = replace(outcome, delivered=send(job))
    except BriefError as error:
        outcome = Outcome(job.config.name, RunStatus.FAILED, error=error)
    if run_id is not None:
        record(job, run_id, outcome)
    if isinstance(outcome.error, LocalModelError):
        raise outcome.error  # not about this digest: every other one would fail the same way
    return outcome


async def _make(job: Job, run_id: int | None) -> Outcome:
    name = job.config.name
    collected = collect(job.config, job.settings, job.state, job.now)
    job.say(f"{name}: {len(collected.articles)} articles in the window")
    grouped = group_stories(name, job.state, collected, job.now)
    if not job.dry_run:
        remember(job, grouped.placed)
    sent = job.state.sent(name)
    chosen, left_out = choose(job.config, grouped.stories, collected, sent)
    left_out += [LeftOut(s.subject, s.reason) for s in collected.skipped]
    if not chosen:
        return Outcome(name, RunStatus.NOTHING_NEW, left_out=left_out)
    briefs, failed = await brief_stories(job, chosen)
    if not briefs:
        raise DigestError(f"{name}: no story could be briefed; first: {failed[0].reason}")
    edition = make_edition(job, [b for b, _ in briefs], [*failed, *left_out])
    edition = archived(job.config.archive, edition, job.say)  # story pages; links for the email
    email = build_email(job, edition, [c for _, c in briefs])
    files = preview(job, email) if job.dry_run or job.out is not None else []
    if run_id is None:
        return _outcome(RunStatus.DRY_RUN, email, files)
    store(job, run_id, email)
    return _outcome(RunStatus.SENT, email, files)


def _outcome(status: RunStatus, email: Email, files: list[Path]) -> Outcome:
    edition = email.edition
    return Outcome(
        edition.digest,
        status,
        len(edition.stories),
        email.built.message_id,
        edition.left_out,
        files,
    )


def start(job: Job) -> int:
    """Record that this digest's run starts; its id."""
    return job.state.start_run(job.config.name, job.now)


def remember(job: Job, placed: list[Item]) -> None:
    """Store where grouping placed the articles met for the first time."""
    job.state.remember(job.config.name, placed, job.now)


async def brief_stories(
    job: Job, chosen: list[Candidate]
) -> tuple[list[tuple[StoryBrief, Candidate]], list[LeftOut]]:
    """Brief the stories at once through the pipeline, with one gateway (model server,
    cache, and its limit on calls in flight) for all."""
    if job.progress is not None:
        job.progress.stage("Briefing stories", len(chosen))
    async with open_gateway(job.settings) as gateway:
        started = []
        for candidate in chosen:
            started.append(asyncio.create_task(_brief_one(job, gateway, candidate)))
            # each story is cleaned before its first call: a turn of the loop after each one
            # sends the calls already asked for, instead of after every story is cleaned
            await asyncio.sleep(0)
        done = await asyncio.gather(*started, return_exceptions=True)
    for result in done:
        if isinstance(result, BaseException):
            raise result  # not about one story (no model): every one would fail
    briefs = [(b, c) for b, c in zip(done, chosen, strict=True) if isinstance(b, StoryBrief)]
    return briefs, [r for r in done if isinstance(r, LeftOut)]


async def _brief_one(job: Job, gateway: Gateway, candidate: Candidate) -> StoryBrief | LeftOut:
    try:
        briefing = await brief_articles(gateway, candidate.articles)
    except LocalModelError:
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
        status=StoryStatus.NEW if sent is None else StoryStatus.UPDATED,
        briefing=briefing,
        outlets=candidate.outlets,
        since=since if sent is not None else [],
        last_sent=sent.last_sent if sent is not None else None,
    )


def make_edition(job: Job, stories: list[StoryBrief], left_out: list[LeftOut]) -> Edition:
    """The day's next edition of this digest: the briefed stories and what was left out."""
    number = job.state.editions(job.config.name, job.now.date()) + 1
    return Edition(job.config.name, job.now, number, stories, left_out)


def build_email(job: Job, edition: Edition, chosen: list[Candidate]) -> Email:
    """The edition's email, with the stories (``chosen``, in its order) it marks as sent."""
    config = job.config
    content = "\n".join(f"{c.story.story_id}:{','.join(sorted(c.present))}" for c in chosen)
    msg_id = message_id(edition, config.sender, content)
    raw = build(edition, config.sender, msg_id).as_bytes()
    stories = [
        (c.story.story_id, b.briefing.title, _sent_ids(c))
        for b, c in zip(edition.stories, chosen, strict=True)
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
    return Email(edition, built)


def _sent_ids(candidate: Candidate) -> list[str]:
    earlier = candidate.sent.articles if candidate.sent else frozenset()
    return sorted(earlier | set(candidate.present))


def _subject(raw: bytes) -> str:
    return str(BytesHeaderParser(policy=SMTP).parsebytes(raw)["Subject"])  # not the body


def preview(job: Job, email: Email) -> list[Path]:
    """Write the email, addressed to every recipient, as files in ``--out`` (or here)."""
    raw = addressed(email.built.raw, ", ".join(job.config.recipients))
    return write_files(job.out or Path.cwd(), email.edition, raw)


def write_files(out: Path, edition: Edition, raw: bytes) -> list[Path]:
    """Write the email as ``.eml``, its HTML as ``.html`` and its text as ``.txt``."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{edition.digest.replace(' ', '-')}-{edition.made:%Y-%m-%d}-{edition.number}"
    files = [stem.with_suffix(".eml"), stem.with_suffix(".html"), stem.with_suffix(".txt")]
    files[0].write_bytes(raw)
    files[1].write_text(render_html(edition), encoding="utf-8")
    files[2].write_text(render_text(edition), encoding="utf-8")
    return files


def store(job: Job, run_id: int, email: Email) -> None:
    """Put the email in the outbox with its stories marked as sent, and note it on the run."""
    job.state.store(email.built, job.now)
    job.state.note_email(run_id, email.built.message_id, len(email.edition.stories))


def send(job: Job) -> int:
    """Send every pending copy of this digest's emails, oldest email first; copies sent."""
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


def record(job: Job, run_id: int, outcome: Outcome) -> None:
    """Record how the run ended, and what it left out."""
    state, name = job.state, job.config.name
    failures = [(item.subject, item.reason) for item in outcome.left_out]
    state.record_failures(run_id, name, job.now, failures)
    done = f"{outcome.delivered} copies sent, {len(outcome.left_out)} left out"
    detail = str(outcome.error or "") or done
    state.finish_run(run_id, datetime.now(UTC), outcome.status.value, detail)
