"""The digest end to end: a folder of articles on three stories, briefed by the local fake model
server, mailed over a real SMTP server on 127.0.0.1 (STARTTLS or TLS, with a login); state
across runs (new, updated, unchanged); crash safety, each recipient getting each email once."""

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service._exceptions import BusyError, DeliveryError, ModelError
from service.cli import EXIT_BUSY, EXIT_DELIVERY, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from service.digest import run as run_module
from service.digest import send as send_module
from service.digest.state import STATE_FILE, locked
from service.pipeline import brief_articles
from tests.digest_helpers import NOW, RECIPIENTS, Setup, make_setup, parts


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


@pytest.fixture
def digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    with ExitStack() as stack:
        yield make_setup(tmp_path, monkeypatch, stack)


def assert_each_got_once(digest: Setup, emails: int) -> None:
    copies = digest.box.copies()
    assert set(copies.values()) == {1}, copies
    for recipient in RECIPIENTS:
        assert len({m for r, m in copies if r == recipient}) == emails


def cli(digest: Setup, *args: str) -> Any:
    env = {"BRIEF_CACHE_DIR": str(digest.folder / "cache"), "BRIEF_RETRY_WAIT_MAX": "0"}
    return CliRunner(env=env).invoke(main, ["digest", *args, "--config", str(digest.config)])


def test_one_email_per_recipient_with_one_cited_briefing_per_story(digest: Setup) -> None:
    (outcome,) = digest.run()
    assert (outcome.status, outcome.stories, outcome.error) == ("sent", 3, None)
    assert outcome.delivered == 2
    assert_each_got_once(digest, emails=1)
    for recipient in RECIPIENTS:
        (message,) = digest.box.to(recipient)
        assert message["To"] == recipient
        assert message.get_content_type() == "multipart/alternative"
        text, html = parts(message)
        assert text.count("Sources\n[1] ") == 3
        assert html.count('class="story"') == 3
        assert 'href="https://coastalwire.example/halden-strike"' in html
        assert "style=" in html
        assert "<style" not in html
    assert "(and 2 more)" in str(message["Subject"])


def test_a_second_run_sends_nothing_and_a_later_article_updates_its_story(digest: Setup) -> None:
    digest.run()
    (again,) = digest.run(now=NOW + timedelta(hours=1))
    assert (again.status, again.delivered) == ("nothing new", 0)
    assert_each_got_once(digest, emails=1)
    digest.add_day_two()
    (update,) = digest.run(now=NOW + timedelta(days=1))
    assert (update.status, update.stories) == ("sent", 1)
    assert_each_got_once(digest, emails=2)
    first, second = digest.box.to(RECIPIENTS[0])
    text, html = parts(second)
    assert "[UPDATED]" in text
    assert "Since the last digest:" in text
    assert "fjord-times: Halden dockworkers end strike" in text
    assert "badge-updated" in html
    halden = [line for line in parts(first)[0].splitlines() if "Halden" in line]
    assert halden  # the story was in the first email, under the same id
    (last,) = digest.run(now=NOW + timedelta(days=2))
    assert last.status == "nothing new"


def test_killed_between_build_and_send_the_rerun_sends_each_copy_once(
    digest: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*args: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "deliver", killed)
        with pytest.raises(Killed):
            digest.run()
    assert digest.box.received == []
    (outcome,) = digest.run(now=NOW + timedelta(minutes=5))
    assert (outcome.status, outcome.delivered) == ("nothing new", 2)
    assert_each_got_once(digest, emails=1)
    digest.run(now=NOW + timedelta(minutes=10))
    assert_each_got_once(digest, emails=1)


def test_killed_between_two_recipients_the_rerun_sends_only_the_second(
    digest: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = send_module.send_one, []

    def dies_on_second(*args: Any) -> None:
        calls.append(args)
        if len(calls) == 2:
            raise Killed
        real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(send_module, "send_one", dies_on_second)
        with pytest.raises(Killed):
            digest.run()
    assert [r.recipient for r in digest.box.received] == [RECIPIENTS[0]]
    (outcome,) = digest.run(now=NOW + timedelta(minutes=5))
    assert outcome.delivered == 1
    assert_each_got_once(digest, emails=1)


def test_a_failing_smtp_server_leaves_the_email_in_the_outbox(
    digest: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEF_SMTP_PASSWORD", "wrong")
    (outcome,) = digest.run()
    assert isinstance(outcome.error, DeliveryError)
    assert "535" in str(outcome.error)
    assert "stays in the outbox" in str(outcome.error)
    assert "wrong" not in str(outcome.error)
    monkeypatch.setenv("BRIEF_SMTP_PORT", "9")  # the discard port: nothing listens
    result = cli(digest, "run")
    assert result.exit_code == EXIT_DELIVERY, result.output
    assert "stays in the outbox" in result.stderr
    assert "Traceback" not in result.output
    status = cli(digest, "status")
    assert status.stdout.count("| pending |") == 2
    assert "failed" in status.stdout
    monkeypatch.setenv("BRIEF_SMTP_PASSWORD", "s3cret-pass")
    monkeypatch.setenv("BRIEF_SMTP_PORT", str(digest.port))
    result = cli(digest, "run")
    assert result.exit_code == EXIT_OK, result.output
    assert_each_got_once(digest, emails=1)
    assert cli(digest, "status").stdout.count("| sent |") == 2


def test_a_failing_story_is_left_out_listed_and_tried_again(
    digest: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = brief_articles

    async def fails_for_norland(gateway: Any, articles: Any, progress: Any = None) -> Any:
        if any("Norland" in (a.title or "") for a in articles):
            raise ModelError("the model kept failing (injected)")
        return await real(gateway, articles, progress)

    with monkeypatch.context() as patch:
        patch.setattr(run_module, "brief_articles", fails_for_norland)
        (outcome,) = digest.run()
    assert outcome.stories == 2
    (message,) = digest.box.to(RECIPIENTS[0])
    text, html = parts(message)
    assert "Left out:" in text
    assert "could not be briefed: the model kept failing" in text
    assert "Left out" in html
    (retry,) = digest.run(now=NOW + timedelta(hours=1))
    assert (retry.status, retry.stories) == ("sent", 1)
    assert "[NEW]" in parts(digest.box.to(RECIPIENTS[0])[-1])[0]


def test_stories_beyond_the_limit_are_listed_and_sent_later(digest: Setup) -> None:
    digest.config.write_text(
        digest.config.read_text().rstrip() + "\nmax_stories = 2\n", encoding="utf-8"
    )
    (outcome,) = digest.run()
    assert outcome.stories == 2
    assert [i.reason for i in outcome.left_out] == ["beyond the limit of 2 stories"]
    assert "Norland" in outcome.left_out[0].subject  # two outlets: ranked last
    (later,) = digest.run(now=NOW + timedelta(hours=1))
    assert later.stories == 1


def test_dry_run_writes_files_and_changes_nothing(digest: Setup, tmp_path: Path) -> None:
    result = cli(digest, "run", "--dry-run", "--out", str(tmp_path / "preview"))
    assert result.exit_code == EXIT_OK, result.output
    names = sorted(p.suffix for p in (tmp_path / "preview").iterdir())
    assert names == [".eml", ".html", ".txt"]
    assert digest.box.received == []
    assert "nothing" not in cli(digest, "status").stdout.split("Outbox")[1].split("\n")[0]
    (outcome,) = digest.run()
    assert outcome.stories == 3


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ExitStack() as stack:
        digest = make_setup(tmp_path, monkeypatch, stack, security="tls")
        (outcome,) = digest.run()
        assert outcome.status == "sent", outcome.error
        assert_each_got_once(digest, emails=1)


def test_a_refused_recipient_is_recorded_and_the_others_get_it(digest: Setup) -> None:
    digest.box.refuse.add(RECIPIENTS[0])
    (outcome,) = digest.run()
    assert outcome.delivered == 1
    assert [r.recipient for r in digest.box.received] == [RECIPIENTS[1]]
    assert "| refused | " in cli(digest, "status").stdout


def test_a_second_concurrent_run_is_refused(digest: Setup) -> None:
    with locked(digest.folder / "state" / STATE_FILE):
        with pytest.raises(BusyError):
            digest.run()
        result = cli(digest, "run")
    assert result.exit_code == EXIT_BUSY
    assert digest.box.received == []


def test_cli_run_exit_codes_and_messages(digest: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli(digest, "run")
    assert result.exit_code == EXIT_OK, result.output
    assert "3 stories in <" in result.stderr
    digest.add_day_two()
    (digest.news / "empty.txt").write_text("")
    result = cli(digest, "run")
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert "left out" in result.stderr
    assert "empty.txt" in result.stderr
    monkeypatch.delenv("BRIEF_SMTP_HOST")
    result = cli(digest, "run")
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.strip() == (
        "brief digest: error: BRIEF_SMTP_HOST is not set: it must hold the SMTP server's host name"
    )


def test_a_window_keeps_only_recent_articles(digest: Setup) -> None:
    old = datetime(2024, 5, 1, tzinfo=UTC).timestamp()
    for path in digest.news.iterdir():
        os.utime(path, (old, old))  # undated files count from their modification time
    digest.config.write_text(
        digest.config.read_text().rstrip() + '\nwindow = "12h"\n', encoding="utf-8"
    )
    (outcome,) = digest.run()  # 12 hours before NOW: only the fire's record of 20:15
    assert outcome.stories == 1
    (message,) = digest.box.to(RECIPIENTS[0])
    assert "Pine Bluff residents evacuate" in parts(message)[0]


def test_help_of_brief_and_of_the_digest_commands() -> None:
    brief_help = CliRunner().invoke(main, ["--help"]).output
    assert "--model" in brief_help
    assert "brief digest run" in brief_help
    digest_help = CliRunner().invoke(main, ["digest", "--help"]).output
    assert "run" in digest_help
    assert "status" in digest_help
    assert "outbox" in digest_help
    run_help = CliRunner().invoke(main, ["digest", "run", "--help"]).output
    for text in ("--config", "--digest", "--dry-run", "--out", "Exit codes:", "0 6 * * *"):
        assert text in run_help
