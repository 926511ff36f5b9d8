"""The ``brief digest`` commands: ``run`` (gather, brief, store, send) and ``status``.

A thin layer over :mod:`service.digest.run` and :mod:`service.digest.state`: it reads the
options, prints progress and one-line errors on stderr, and exits with a documented code.
"""

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from service._exceptions import BriefError
from service.cli_support import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    BarProgress,
    exit_code,
    settings_from,
)
from service.digest.config import load_config
from service.digest.run import Outcome, run_digests
from service.digest.state import STATE_FILE, State
from service.settings import Settings

T = TypeVar("T")

RUN_EPILOG = """\b
Examples:
  brief digest run                      every digest in ~/.config/newsbrief/digest.toml
  brief digest run -c digest.toml -d world --dry-run --out preview/
  brief digest run --archive ~/public_html/news   also a browsable page per story
  brief digest status                   the last runs, the outbox and failures

\b
Cron (every day at 06:00):
  0 6 * * *  brief digest run >>"$HOME/.local/state/newsbrief-digest.log" 2>&1

\b
Exit codes:
  0    sent, or nothing new to send
  1    sent, but stories or inputs were left out (listed in the email and on stderr)
  2    bad command line or configuration (names the key and line), or an SMTP variable unset
  4    no story could be briefed: no email was built
  5    the embedded model is not installed or its weights fail their check
  6    delivery failed: the email stays in the outbox, and the next run sends it
  7    another digest run holds the lock: nothing was done
  8    delivered to nobody: every recipient was refused; the stories stay unsent for next run
  9    the digest state (folder, lock or database) cannot be opened, read or written
  130  interrupted (safe: a re-run sends what was built and not yet sent, never twice)
"""

CONFIG_OPTION = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The digest configuration (TOML; default ~/.config/newsbrief/digest.toml, or "
    "BRIEF_DIGEST_CONFIG).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def digest() -> None:
    """Nightly email digests: each story of the day briefed, with citations, in one email.

    A digest reads its sources (folders, files, feeds, URLs), groups the articles not yet
    sent into stories, briefs each story, and mails one email (HTML and plain text) to
    each recipient. Safe to repeat and to kill: the email is stored in an outbox before it
    is sent, and no copy is sent twice. Run `brief digest run --help` for the exit codes.
    """


def _say(line: str) -> None:
    click.echo(f"brief digest: {line}", err=True)


@contextmanager
def _one_line_errors(progress: BarProgress | None = None) -> Iterator[None]:
    """Turn newsbrief errors and Ctrl-C into one line on stderr and the documented exit code."""
    try:
        yield
    except BriefError as error:
        if progress:
            progress.close()
        click.echo(f"brief digest: error: {error}", err=True)
        sys.exit(exit_code(error))
    except KeyboardInterrupt:
        if progress:
            progress.close()
        click.echo("brief digest: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _guarded(call: Callable[[], T], progress: BarProgress | None = None) -> T:
    with _one_line_errors(progress):
        return call()
    raise AssertionError("unreachable")  # pragma: no cover - _one_line_errors exits


@digest.command("run", epilog=RUN_EPILOG)
@CONFIG_OPTION
@click.option("-d", "--digest", "only", metavar="NAME", help="Run only this digest (default: all).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Build the email and write it as .eml, .html and .txt files; send nothing, change no "
    "state.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the files go (default: the current folder on a dry run; on a real run a "
    "copy of each email is kept there).",
)
@click.option(
    "--archive",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write each story's HTML briefing and index pages into this folder (default: "
    "the config's [archive]; a dry run writes one only when this is given).",
)
@click.option("-v", "--verbose", count=True, help="Log what happens on stderr (-vv for more).")
def run_command(
    config_path: Path | None,
    only: str | None,
    dry_run: bool,
    out: Path | None,
    archive: Path | None,
    verbose: int,
) -> None:
    """Gather new articles, brief each story, and send each digest's email.

    Articles already sent are left out; a story with new articles since it was last sent
    is marked updated. Emails left in the outbox by an earlier run are sent first.
    """
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])
    settings = settings_from({"digest_config": config_path})
    file = _guarded(lambda: load_config(settings.digest_config))
    if archive is not None or dry_run:  # a preview never touches the configured archive
        file = file.with_archive(archive)
    progress = BarProgress()
    outcomes = _guarded(
        lambda: run_digests(
            file, settings, only=only, dry_run=dry_run, out=out, say=_say, progress=progress
        ),
        progress,
    )
    progress.close()
    for outcome in outcomes:
        _report(outcome)
    sys.exit(_exit_code(outcomes))


def _report(outcome: Outcome) -> None:
    name = outcome.digest
    for item in outcome.left_out:
        _say(f"{name}: left out {item.subject}: {item.reason}")
    if outcome.error is not None:
        click.echo(f"brief digest: error: {outcome.error}", err=True)
    elif outcome.status == "nothing new":
        _say(f"{name}: nothing new since the last email; {outcome.delivered} copies sent")
    elif outcome.files:
        _say(f"{name}: {outcome.stories} stories; wrote {', '.join(map(str, outcome.files))}")
    if outcome.status == "sent":
        _say(f"{name}: {outcome.stories} stories in {outcome.message_id}; sent {outcome.delivered}")


def _exit_code(outcomes: list[Outcome]) -> int:
    errors = [o.error for o in outcomes if o.error is not None]
    if errors:
        return exit_code(errors[0])
    return EXIT_PARTIAL if any(o.left_out for o in outcomes) else EXIT_OK


@digest.command("status")
@CONFIG_OPTION
@click.option("-n", "--limit", type=click.IntRange(1), default=10, show_default=True)
def status_command(config_path: Path | None, limit: int) -> None:
    """Show the last runs, the outbox (what each recipient got) and recent failures."""
    settings = settings_from({"digest_config": config_path})
    path = _guarded(lambda: _state_path(settings, given=config_path is not None))
    if not path.exists():
        click.echo(f"No digest has run yet (state: {path}).")
        return
    state = _guarded(lambda: State(path))
    try:
        click.echo(status_report(state, limit), nl=False)
    finally:
        state.close()


def _state_path(settings: Settings, given: bool) -> Path:
    if given or settings.digest_config.exists():
        file = load_config(settings.digest_config)
        return (file.state_dir or settings.data_dir) / STATE_FILE
    return settings.data_dir / STATE_FILE


def _table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return [f"{title}: none", ""]
    lines = [f"{title}:", "  " + " | ".join(header)]
    lines += ["  " + " | ".join("" if v is None else str(v) for v in row) for row in rows]
    return [*lines, ""]


def status_report(state: State, limit: int) -> str:
    """The last runs, the outbox and the last failures, as plain text."""
    runs = [(*r[:3], r[3] if r[2] else "running or killed", *r[4:]) for r in state.last_runs(limit)]
    lines = _table(
        "Last runs",
        ("digest", "started", "finished", "status", "stories", "message-id", "detail"),
        runs,
    )
    lines += _table(
        "Outbox",
        ("digest", "day", "message-id", "subject", "recipient", "status", "at", "error"),
        state.outbox(limit * 4),
    )
    lines += _table("Failures", ("digest", "at", "subject", "reason"), state.last_failures(limit))
    return "\n".join(lines)
