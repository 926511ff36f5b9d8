"""The command end to end on one article, replayed with pytest-recording's cassette."""

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from service.cli import main
from service.settings import Settings


@pytest.mark.vcr
def test_cli_briefs_one_article_with_citations(
    cassette: Any, settings: Settings, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEF_LOCAL_URL", str(settings.local_url))
    monkeypatch.setenv("BRIEF_CACHE_DIR", str(settings.cache_dir))
    result = CliRunner().invoke(
        main,
        [
            str(seeds / "003_fb74129c95015117.txt"),
            "-s",
            "003_fb74129c95015117.txt=Seed Three",
            "--show-cleaning",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout
    assert "1. Seed Three" in result.stdout
    assert "composed sentences" in result.stdout
    assert "model calls, 0 cache hits" in result.stderr
    assert "set aside 9 spans" in result.stderr
    assert "comments" in result.stderr
    assert "Matzomaster" not in result.stdout
