"""Shared fixtures: cassettes matched on method, path and JSON body; no test reaches a model.

Replay (the default, ``--record-mode=none``) points the embedded-model endpoint at an
address where nothing listens: every reply must come from a cassette, and a request no
cassette holds fails the test at once, here (the product knows nothing of cassettes).
``make record`` runs with ``--record-mode=rewrite``, which starts the real embedded model
server once for the session and records its traffic. Tests that only need replies use the
in-process :class:`tests.fake_model.FakeModel` (the ``fake_model`` fixture). Every test runs
with no ``BRIEF_*`` variable of the developer's shell and its own cache, data and config dirs.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.stubs import httpx_stubs

from service.local_model import LocalServer
from service.settings import Settings, default_cache_dir
from tests.fake_model import FakeModel, answer_with

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
SECRET_HEADERS = ["authorization", "api-key", "x-api-key", "openai-api-key", "cookie"]
REPLAY_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing answers there


def _json_body(r1: Any, r2: Any) -> None:
    def load(request: Any) -> Any:
        body = request.body or b"{}"
        return json.loads(body.decode() if isinstance(body, bytes) else body)

    assert load(r1) == load(r2), "request bodies differ"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No ``BRIEF_*`` variable of the developer's shell reaches a test, and no test reads or
    writes the user's cache, data or configuration (platformdirs follows ``XDG_*``)."""
    for name in [n for n in os.environ if n.startswith("BRIEF_")]:
        monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    for kind in ("CACHE", "DATA", "CONFIG"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(home / kind.lower()))


@pytest.fixture(autouse=True, scope="session")
def replay_misses_fail() -> Iterator[None]:
    """A request no cassette holds fails its test with one clear line.

    vcrpy raises an ordinary exception inside the HTTP transport, which litellm would wrap
    and the gateway retry as a connection error; failing the test (a BaseException that no
    ``except Exception`` catches) stops it where it happened instead. The hook is vcrpy's
    httpx stub, the one place it decides a request has no recorded reply.
    """
    real = httpx_stubs._vcr_request

    def checked(*args: Any) -> Any:
        try:
            return real(*args)
        except CannotOverwriteExistingCassetteException as miss:
            reason = getattr(miss, "reason", "no_match")
            pytest.fail(
                f"no recorded reply matches a model request ({reason}); re-record "
                "the cassette with make record",
                pytrace=False,
            )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_stubs, "_vcr_request", checked)
        yield


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    """The in-process model every pipeline the test opens talks to, whatever its settings."""
    model = FakeModel()
    answer_with(monkeypatch, model)
    return model


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("json_body", _json_body)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "match_on": ["method", "path", "json_body"],
        "filter_headers": SECRET_HEADERS,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(ROOT / "cassettes" / request.module.__name__.split(".")[-1])


def recording(config: pytest.Config) -> bool:
    return config.getoption("--record-mode") not in ("none", None)


@pytest.fixture(scope="session")
def model_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """Where model calls go: the real local server when recording, nowhere on replay."""
    if not recording(pytestconfig):
        yield REPLAY_URL
        return
    server = LocalServer(default_cache_dir(), threads=None, context=8192)
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def cassette(vcr: Any, pytestconfig: pytest.Config) -> Iterator[Any]:
    """The test's cassette; on replay, every recorded interaction must have been played."""
    yield vcr
    if not recording(pytestconfig):
        unplayed = len(vcr.data) - vcr.play_count
        assert vcr.all_played, f"{unplayed} recorded interactions were never played"


@pytest.fixture
def settings(tmp_path: Path, model_url: str) -> Settings:
    """Settings for the embedded model, with a fresh cache per test."""
    return Settings(model="embedded", local_url=model_url, cache_dir=tmp_path / "cache")


@pytest.fixture
def seeds() -> Path:
    assert SEEDS.is_dir(), f"the seed articles are expected at {SEEDS}"
    return SEEDS
