"""What the digest tests share: a news folder, a config, a model and an SMTP server.

In the test's process the in-process fake model answers; the config names the HTTP fault
server, for the tests that run ``brief digest run`` in a child process."""

import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from service.digest.config import load_config
from service.digest.run import Outcome, run_digests
from service.settings import Settings
from tests.conftest import ROOT
from tests.fake_model import FakeModel, answer_with
from tests.fault_server import Plan, fault_server
from tests.smtp_server import PASSWORD, USER, Mailbox, smtp_server, trusted_ca

DATA = ROOT / "tests" / "data" / "digest"
NOW = datetime(2024, 5, 7, 6, 0, tzinfo=UTC)
RECIPIENTS = ("ana@example.org", "ben@example.org")


def write_config(folder: Path, model_url: str, **extra: Any) -> Path:
    """A one-digest config reading ``folder/news`` with its state in ``folder/state``."""
    lines = [f"{key} = {value!r}" for key, value in extra.items()]
    text = f"""# a digest for the tests
state_dir = "state"

[[digest]]
name = "world"
sources = ["news"]
recipients = {list(RECIPIENTS)!r}
sender = "News Brief <brief@example.org>"
model = "hosted_vllm/fault"
api_base = "{model_url}"
{chr(10).join(lines)}
"""
    path = folder / "digest.toml"
    path.write_text(text.replace("'", '"'), encoding="utf-8")
    return path


@dataclass
class Setup:
    """A digest ready to run against live local servers."""

    folder: Path
    config: Path
    box: Mailbox
    port: int
    plan: Plan
    """The HTTP model server's, which child processes use."""
    model: FakeModel
    """The model this process uses."""
    settings: Settings

    @property
    def news(self) -> Path:
        return self.folder / "news"

    def run(self, now: datetime = NOW, **options: Any) -> list[Outcome]:
        return run_digests(load_config(self.config), self.settings, now=now, **options)

    def add_day_two(self) -> None:
        shutil.copytree(DATA / "day2", self.news, dirs_exist_ok=True)


def smtp_env(monkeypatch: pytest.MonkeyPatch, port: int, ca_file: Path, security: str) -> None:
    """Point the default SMTP variables at the test server, as a user's environment would."""
    values = {
        "BRIEF_SMTP_HOST": "127.0.0.1",
        "BRIEF_SMTP_PORT": str(port),
        "BRIEF_SMTP_SECURITY": security,
        "BRIEF_SMTP_USER": USER,
        "BRIEF_SMTP_PASSWORD": PASSWORD,
        "SSL_CERT_FILE": str(ca_file),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def make_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: ExitStack, security: str = "starttls"
) -> Setup:
    ca, ca_file = trusted_ca(tmp_path)
    port, box = stack.enter_context(smtp_server(ca, security))
    plan = Plan()
    url = stack.enter_context(fault_server(plan))
    smtp_env(monkeypatch, port, ca_file, security)
    shutil.copytree(DATA / "day1", tmp_path / "news")
    settings = Settings(cache_dir=tmp_path / "cache", timeout=5.0, retry_wait_max=0.0)
    model = FakeModel()
    answer_with(monkeypatch, model)
    return Setup(tmp_path, write_config(tmp_path, url), box, port, plan, model, settings)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of an email."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return (
        str(text.get_content()).replace("\r\n", "\n"),
        str(html.get_content()).replace("\r\n", "\n"),
    )
