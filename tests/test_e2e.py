"""The seed briefing, end to end, replayed from a cassette recorded from the real local model.

One module-scoped run (async API, through the cassette) warms a cache; the other tests
reuse that cache, so they show that a re-run makes no model call and imports no litellm.
"""

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vcr
from click.testing import CliRunner

from schemas import Briefing, ClaimStatus
from service import abrief, brief, render
from service.cli import EXIT_OK, EXIT_PARTIAL, main
from service.figures import value_key
from service.render import md
from service.settings import Settings
from service.verify import names, normal, numbers
from tests.conftest import ROOT, SEEDS, _json_body, recording

CASSETTE = ROOT / "cassettes" / "test_e2e" / "seed_briefing.yaml"


@pytest.fixture(scope="module")
def seed_run(
    tmp_path_factory: pytest.TempPathFactory,
    model_url: str,
    vcr_config: dict[str, Any],
    pytestconfig: pytest.Config,
) -> tuple[Briefing, Settings]:
    settings = Settings(
        model="embedded", local_url=model_url, cache_dir=tmp_path_factory.mktemp("c")
    )
    config = dict(vcr_config)
    repeats = config.pop("allow_playback_repeats")
    recorder = vcr.VCR(**config)
    recorder.register_matcher("json_body", _json_body)
    mode = "all" if recording(pytestconfig) else "none"
    if mode == "all":
        CASSETTE.unlink(missing_ok=True)  # a fresh recording, as pytest-recording's "rewrite"
    use = recorder.use_cassette(str(CASSETTE), record_mode=mode, allow_playback_repeats=repeats)
    with use as cassette:
        briefing = asyncio.run(abrief([SEEDS], settings=settings))
    if mode == "none":
        assert cassette.all_played, "the cassette holds interactions this run never played"
    return briefing, settings


def test_briefing_has_title_lede_sections_and_all_sources(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, _ = seed_run
    assert briefing.title.strip()
    assert briefing.lede
    assert briefing.sections
    assert [s.number for s in briefing.sources] == list(range(1, len(briefing.sources) + 1))
    assert len(briefing.sources) + len(briefing.skipped) == 5
    assert briefing.usage.calls >= 6
    assert briefing.usage.completion_tokens > 0


def test_every_sentence_is_cited_and_every_citation_resolves(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, _ = seed_run
    articles = {a.id: a for a in briefing.articles}
    claims = {c.id: c for c in briefing.claims}
    for sentence in briefing.all_sentences():
        assert sentence.citations, sentence.text
        assert set(sentence.claim_ids) <= set(claims)
        for citation in sentence.citations:
            assert briefing.sources[citation.source - 1].article_id == citation.article_id
            article = articles[citation.article_id]
            for sid in citation.sentence_ids:
                quoted = article.sentence(sid)
                assert article.text[quoted.start : quoted.end] == quoted.text
        backing = {
            (s.article_id, i)
            for c in sentence.claim_ids
            for s in claims[c].support
            for i in s.sentence_ids
        }
        cited = {(c.article_id, i) for c in sentence.citations for i in c.sentence_ids}
        assert cited == backing


def test_status_follows_sources_and_disagreements(seed_run: tuple[Briefing, Settings]) -> None:
    briefing, _ = seed_run
    disputed = {c for d in briefing.disagreements for c in d.claim_ids}
    assert disputed, "the seeds' disputed figures are stated by some claims"
    for claim in briefing.claims:
        expected = ClaimStatus.CORROBORATED if claim.sources > 1 else ClaimStatus.SINGLE_SOURCE
        assert claim.status is (ClaimStatus.CONTESTED if claim.id in disputed else expected)


# What the five seed articles disagree on, read by hand: value keys per topic.
SEED_DISAGREEMENTS = {
    "soldiers killed": {"600", "1000", "thousand"},
    "wounded": {"thousand", "4000"},
    "soldiers sent": {"10000", "15000"},
    "when first acknowledged": {"april", "july"},
    "how Putin conveyed it to Kim": {"a letter", "a phone call"},
}


def test_every_seed_disagreement_is_listed_with_its_values(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, _ = seed_run
    found = {
        d.topic: {value_key(v.value).lower() for v in d.values} for d in briefing.disagreements
    }
    assert found == SEED_DISAGREEMENTS
    killed = next(d for d in briefing.disagreements if d.topic == "soldiers killed")
    assert any("first at least 1,000, later closer to 600" in r for r in killed.revisions)


def test_every_disputed_value_is_in_the_sentences_it_cites(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, _ = seed_run
    articles = {a.id: a for a in briefing.articles}
    for disagreement in briefing.disagreements:
        for value in disagreement.values:
            for citation in value.citations:
                cited = " ".join(
                    articles[citation.article_id].sentence(i).text for i in citation.sentence_ids
                )
                key = value_key(value.value)
                assert key in numbers(cited) or key.lower() in cited.lower(), (key, cited)
            said = " ".join(
                articles[c.article_id].sentence(i).text
                for c in value.citations
                for i in c.sentence_ids
            )
            words = set(normal(said).split())
            assert all(set(normal(who).split()) <= words for who in value.attribution), value


def test_no_sentence_states_a_number_or_name_its_citations_lack(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, _ = seed_run
    articles = {a.id: a for a in briefing.articles}
    for sentence in briefing.all_sentences():
        cited = " ".join(
            articles[c.article_id].sentence(i).text
            for c in sentence.citations
            for i in c.sentence_ids
        )
        assert numbers(sentence.text) <= numbers(cited), sentence.text
        assert names(sentence.text) <= set(normal(cited).split()), sentence.text
        assert {c.name for c in sentence.checks} >= {"citations", "numbers", "names"} or (
            sentence.outcome == "from claims"
        )


def test_markdown_lists_the_disagreements_and_ends_with_the_check_counts(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, _ = seed_run
    text = render(briefing)
    differ = text.split("## Where sources differ\n", 1)[1].split("## Sources")[0]
    assert "**Soldiers killed:** about 600, per Seoul" in differ
    assert "more than 10,000" in differ
    assert "some 15,000" in differ
    assert text.rstrip().splitlines()[-1].startswith("*Checked ")


def test_an_article_mostly_set_aside_is_named_with_why(
    seed_run: tuple[Briefing, Settings],
) -> None:
    # the first seed carries four other stories glued on after its own
    briefing, _ = seed_run
    (warning,) = briefing.set_aside
    assert "000_" in warning
    assert "another story: 4" in warning
    assert f"- Mostly set aside: {md(warning)}" in render(briefing)


def test_a_rerun_is_served_from_the_cache(seed_run: tuple[Briefing, Settings]) -> None:
    briefing, settings = seed_run
    again = brief([SEEDS], settings=settings)
    assert again.usage.calls == 0
    assert again.usage.cache_hits == briefing.usage.calls + briefing.usage.cache_hits
    assert again.model_dump(exclude={"usage", "generated_at"}) == briefing.model_dump(
        exclude={"usage", "generated_at"}
    )


def test_cached_cli_run_prints_markdown_and_never_imports_litellm(
    seed_run: tuple[Briefing, Settings],
) -> None:
    briefing, settings = seed_run
    probe = (
        "import atexit, sys\n"
        "report = lambda: print('litellm imported:', 'litellm' in sys.modules, file=sys.stderr)\n"
        "atexit.register(report)\n"
        "from service.cli import main\n"
        "main()\n"
    )
    env = {
        "BRIEF_CACHE_DIR": str(settings.cache_dir),
        "BRIEF_LOCAL_URL": str(settings.local_url),
        "PATH": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe, str(SEEDS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == (EXIT_PARTIAL if briefing.skipped else EXIT_OK), done.stderr
    assert done.stdout.startswith(f"# {briefing.title}")
    assert "## Sources" in done.stdout
    assert "litellm imported: False" in done.stderr
    assert "0 model calls" in done.stderr


def test_cli_json_output_is_the_full_briefing(
    seed_run: tuple[Briefing, Settings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    briefing, settings = seed_run
    monkeypatch.setenv("BRIEF_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setenv("BRIEF_LOCAL_URL", str(settings.local_url))
    out = tmp_path / "b.json"
    result = CliRunner().invoke(main, [str(SEEDS), "--format", "json", "--output", str(out)])
    assert result.exit_code == (EXIT_PARTIAL if briefing.skipped else EXIT_OK), result.output
    data = json.loads(out.read_text())
    assert data["title"] == briefing.title
    assert data["lede"][0]["citations"][0]["sentence_ids"]
