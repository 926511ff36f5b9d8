"""The ``brief`` command: a thin layer over :func:`service.brief`."""

import logging
import signal
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar

import click

from schemas import Briefing
from service._exceptions import BriefError
from service.cli_support import (
    EXIT_BUSY,
    EXIT_DELIVERY,
    EXIT_INTERRUPTED,
    EXIT_LOCAL_MODEL,
    EXIT_MODEL,
    EXIT_NO_INPUT,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    BarProgress,
    DefaultGroup,
    RootUsage,
    deployment_options,
    exit_code,
    settings_from,
)
from service.pipeline import brief, local_server
from service.render import FORMATS, render
from service.settings import Settings

__all__ = [
    "EXIT_BUSY",
    "EXIT_DELIVERY",
    "EXIT_INTERRUPTED",
    "EXIT_LOCAL_MODEL",
    "EXIT_MODEL",
    "EXIT_NO_INPUT",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "cleaning_report",
    "main",
]

EPILOG = """\b
Examples:
  brief ../shared/seeds/                      brief a folder with the embedded model
  brief a.txt b.md -f json -o briefing.json   write the full JSON briefing
  cat article.txt | brief - other.txt         read one article from stdin
  brief https://example.org/feed.xml          every entry of a feed (teasers are fetched)
  brief --model openai/gpt-4o-mini news/      any litellm model (key from OPENAI_API_KEY)
  brief --model hosted_vllm/qwen --api-base http://127.0.0.1:8000/v1 news/
  brief -m hosted_vllm/qwen --api-base http://a:8000/v1 --api-base http://b:8000/v1 news/
                                              two servers share the calls
  brief -m openai/gpt-4o-mini --fallback-model anthropic/claude-3-5-haiku-latest \\
        --max-tokens 200000 news/             a fallback model and a token budget

\b
Every option can also be set as an environment variable BRIEF_<NAME>
(BRIEF_MODEL, BRIEF_API_BASE, BRIEF_CACHE_DIR, BRIEF_CONCURRENCY, ...).

\b
Exit codes:
  0    briefing written
  1    briefing written, but some inputs or articles were skipped (listed on stderr)
  2    bad command line
  3    no usable article in the inputs
  4    the model failed: no briefing could be produced
  5    the embedded model is not installed or its weights fail their check
  130  interrupted

\b
Nightly email digests: brief digest run | status (see brief digest --help);
a folder named digest is read as brief ./digest.
Keep the embedded model loaded between runs: brief serve-model (see its --help).
"""


def _sources(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        path, sep, name = pair.partition("=")
        if not sep or not path or not name:
            raise click.BadParameter(f"{pair!r} is not PATH=NAME", param_hint="--source")
        mapping[path] = name
    return mapping


def _summary(usage: Any, seconds: float) -> str:
    cost = f", ${usage.cost_usd:.4f}" if usage.cost_usd else ""
    return (
        f"brief: {usage.calls} model calls, {usage.cache_hits} cache hits, "
        f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens"
        f"{cost}, {seconds:.1f} s"
    )


class BriefGroup(DefaultGroup):
    """``brief``'s group; the digest's commands are imported only when ``brief digest`` is named
    (a briefing never loads the digest's state, mail and archive code)."""

    LAZY: ClassVar[dict[str, str]] = {"digest": "service.digest.cli"}
    """Subcommand names and the module defining each (as an attribute of the same name)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.LAZY:
            self._load(args[0])
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> None:
        if name not in self.commands:
            self.add_command(getattr(import_module(self.LAZY[name]), name))


@click.group(
    "brief",
    cls=BriefGroup,
    default="brief",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def main() -> None:
    """newsbrief: cited briefings of news stories, and nightly email digests of them."""


@main.command(
    "brief", cls=RootUsage, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(None, "-V", "--version", package_name="newsbrief", prog_name="brief")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-m", "--model", help="litellm model string, or 'embedded' (default) for the local model."
)
@click.option(
    "--api-base",
    "api_bases",
    multiple=True,
    metavar="URL",
    help="Base URL of an OpenAI-compatible server; repeat it for several servers of the "
    "model, which share its calls (least busy first; one that fails is left out a while).",
)
@click.option(
    "--deployments",
    "deployments_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file of [[deployment]] tables (api_base, model, api_key_env, max_in_flight, "
    "rpm): servers or keys sharing the model's calls.",
)
@click.option(
    "--fallback-model",
    "fallback_models",
    multiple=True,
    metavar="MODEL",
    help="Model to move to when the model keeps failing (repeatable, in order; MODEL@URL "
    "for one on its own server).",
)
@click.option(
    "--max-tokens",
    "max_tokens_per_run",
    type=click.IntRange(1),
    help="Token budget of the run, retries included; never exceeded.",
)
@click.option(
    "--max-cost",
    "max_cost_per_run",
    type=click.FloatRange(0, min_open=True),
    help="Cost budget of the run in USD (where the price is known).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="markdown",
    show_default=True,
    help="markdown for reading; json for the full briefing with every citation's sentence ids; "
    "html for one self-contained page where every citation opens the sentences it rests on.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the briefing to FILE instead of stdout.",
)
@click.option(
    "-s",
    "--source",
    "source_pairs",
    multiple=True,
    metavar="PATH=NAME",
    help="Name the outlet of an input file (repeatable), e.g. -s a.txt=Reuters.",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the reply cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where replies and local weights are cached (default: the user cache dir).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Model calls at once (default 1 for the embedded model, else 16).",
)
@click.option("--glob", metavar="PATTERN", help="Only read files in folders matching PATTERN.")
@click.option(
    "--allow-private-urls",
    is_flag=True,
    default=None,
    help="Fetch URLs on private, loopback or link-local addresses (refused by default).",
)
@click.option(
    "--max-articles",
    type=click.IntRange(1),
    help="Articles read per run, the newest (default 200); the rest are listed as skipped.",
)
@click.option(
    "--max-per-feed",
    "max_articles_per_feed",
    type=click.IntRange(1),
    help="Entries read per feed, the newest (default 100); the rest are listed as skipped.",
)
@click.option(
    "--show-cleaning",
    is_flag=True,
    help="List on stderr what was set aside before the model read each article, and why.",
)
@click.option("-v", "--verbose", count=True, help="Log what happens on stderr (-vv for more).")
def brief_command(
    paths: tuple[str, ...],
    fmt: str,
    output: Path | None,
    source_pairs: tuple[str, ...],
    no_cache: bool,
    show_cleaning: bool,
    verbose: int,
    **overrides: Any,
) -> None:
    """Turn several news articles about one story into one cited briefing.

    PATHS are article files (.txt .md .html .htm .json .jsonl, or .xml .rss .atom
    feeds), folders of them, http(s) URLs of pages or feeds, or - for stdin. Every
    sentence of the briefing cites numbered sources; the JSON format traces each
    citation to sentence ids and character offsets in the inputs.
    """
    if not paths:
        raise click.UsageError("give at least one article file, folder, or - for stdin")
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])
    overrides.update(
        deployment_options(overrides.pop("api_bases"), overrides.pop("deployments_file"))
    )
    settings = settings_from({**overrides, "use_cache": False if no_cache else None})
    started = time.monotonic()
    briefing = _run(paths, settings, _sources(source_pairs))
    _write(render(briefing, fmt), output)
    if show_cleaning:
        click.echo(cleaning_report(briefing), err=True, nl=False)
    for skipped in briefing.skipped:
        line = f"brief: skipped {skipped.subject} ({skipped.stage}): {skipped.reason}"
        click.echo(line, err=True)
    click.echo(_summary(briefing.usage, time.monotonic() - started), err=True)
    sys.exit(EXIT_PARTIAL if briefing.skipped else EXIT_OK)


def _run(paths: tuple[str, ...], settings: Settings, sources: dict[str, str]) -> Briefing:
    """The briefing, or a one-line error and the documented exit code."""
    progress = BarProgress()
    try:
        return brief(paths, settings=settings, sources=sources, progress=progress)
    except BriefError as error:
        progress.close()
        click.echo(f"brief: error: {error}", err=True)
        sys.exit(exit_code(error))
    except KeyboardInterrupt:
        progress.close()
        click.echo("brief: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        progress.close()


def cleaning_report(briefing: Briefing) -> str:
    """What the clean-up set aside in each article, one line per span."""
    lines = []
    for article in briefing.articles:
        lines.append(f"brief: {article.origin}: set aside {len(article.removed)} spans")
        for removal in article.removed:
            excerpt = article.text[removal.start : removal.end].replace("\n", " ")
            excerpt = excerpt if len(excerpt) <= 60 else excerpt[:57] + "..."
            span = f"[{removal.start}:{removal.end}]"
            lines.append(f"  {removal.kind.value:<11} {span:<13} {excerpt!r} ({removal.reason})")
    return "\n".join(lines) + "\n"


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        click.echo(text, nl=False)  # the briefing is not lost: it goes to stdout instead
        click.echo(
            f"brief: error: cannot write {output}: {error.strerror}; printed instead", err=True
        )
        sys.exit(EXIT_USAGE)


SERVE_PORT = 8765


@main.command("serve-model", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=SERVE_PORT,
    show_default=True,
    help="Port on 127.0.0.1.",
)
@click.option("--threads", type=click.IntRange(1), help="CPU threads (default: every core).")
@click.option("--context", type=click.IntRange(512), help="Context window in tokens (8192).")
def serve_model(port: int, threads: int | None, context: int | None) -> None:
    """Keep the embedded model loaded between runs, until Ctrl-C.

    Serves the embedded model on 127.0.0.1:PORT. Then point `brief` and `brief digest` at
    it with BRIEF_LOCAL_URL=http://127.0.0.1:PORT/v1 and they skip starting (and loading)
    the model on each run. Nothing but this machine can reach it.
    """
    from service.local_model import port_free  # the embedded model's code: only here

    settings = settings_from({"local_threads": threads, "local_context": context})
    if not port_free(port):
        click.echo(f"brief: error: port {port} is in use; choose another with --port", err=True)
        sys.exit(EXIT_USAGE)
    server = local_server(settings)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_OK))  # `kill`, systemd: stop cleanly
    try:
        server.start(port)
        click.echo(f"brief: serving the embedded model at {server.base_url} (Ctrl-C stops)")
        click.echo(f"  export BRIEF_LOCAL_URL={server.base_url}")
        server.wait()
    except BriefError as error:
        click.echo(f"brief: error: {error}", err=True)
        sys.exit(exit_code(error))
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    finally:
        server.stop()
