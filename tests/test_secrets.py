"""A canary key, used for real against the fault server, must appear in no artifact:
not in outputs, logs at any verbosity, error messages, cache entries or cassettes."""

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main
from tests.conftest import ROOT, SEEDS
from tests.fault_server import Plan, fault_server

CANARY = "sk-canary-5f1e0c9a7b3d4e2f8a6c"


def _artifacts(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOSTED_VLLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.setenv(name, CANARY)


def _run(url: str, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    out = tmp_path / "out" / "briefing.json"
    out.parent.mkdir()
    args = [
        str(SEEDS),
        "-m",
        "hosted_vllm/fault",
        "--api-base",
        url,
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    result = CliRunner().invoke(main, [*args, "-vv", "-f", "json", "-o", str(out), *extra])
    return result.exit_code, result.output, out.read_text() if out.exists() else ""


@pytest.mark.usefixtures("keyed")
def test_the_canary_key_reaches_the_server_and_no_artifact(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan = Plan(rate=0.3, seed=3, faults=("500", "429", "malformed"))
    caplog.set_level(logging.DEBUG)
    with fault_server(plan) as url:
        code, output, briefing = _run(url, tmp_path)
    assert code in (0, 1), output
    assert any(CANARY in str(r["headers"]) for r in plan.requests), "the key was never used"
    assert CANARY not in output
    assert CANARY not in briefing
    assert CANARY not in caplog.text
    for path in _artifacts(tmp_path / "cache", tmp_path / "out"):
        assert CANARY.encode() not in path.read_bytes(), path


@pytest.mark.usefixtures("keyed")
def test_the_canary_key_is_not_in_error_messages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with fault_server(Plan(rate=1.0, faults=("500",))) as url:
        code, output, _ = _run(url, tmp_path)
    assert code == 4
    assert "brief: error:" in output
    assert CANARY not in output
    assert CANARY not in caplog.text


def test_cassettes_hold_no_key_or_authorization_header() -> None:
    for path in _artifacts(ROOT / "cassettes"):
        text = path.read_text().lower()
        assert "authorization" not in text, path
        assert "sk-" not in text, path
        assert "api-key" not in text, path


def test_the_cassettes_are_checked_at_all() -> None:
    assert len(_artifacts(ROOT / "cassettes")) >= 2
