"""The command line: help, usage errors and exit codes, without any model."""

from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from service import cli
from service.cli import main
from service.local_model import LocalServer, free_port


def test_help_explains_options_examples_and_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for text in (
        "--model",
        "--api-base",
        "--format",
        "--output",
        "--no-cache",
        "--cache-dir",
        "--verbose",
    ):
        assert text in result.output
    assert "Examples:" in result.output
    assert "Exit codes:" in result.output
    assert "BRIEF_MODEL" in result.output


def test_no_paths_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, [])
    assert result.exit_code == cli.EXIT_USAGE
    assert "give at least one article" in result.output


def test_nothing_usable_exits_3_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [str(tmp_path / "nope.txt"), "--cache-dir", str(tmp_path)])
    assert result.exit_code == cli.EXIT_NO_INPUT
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("brief: error: no usable article")
    assert "nope.txt: no such file" in lines[0]


def test_bad_source_mapping_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Some news today.")
    result = CliRunner().invoke(main, [str(path), "--source", "nonsense"])
    assert result.exit_code == cli.EXIT_USAGE
    assert "is not PATH=NAME" in result.output


def test_missing_local_model_exits_5_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("The council voted on Monday. The mayor welcomed it.")
    monkeypatch.setattr("service.local_model.importlib.util.find_spec", lambda name: None)
    result = CliRunner().invoke(main, [str(path), "--cache-dir", str(tmp_path / "c")])
    assert result.exit_code == cli.EXIT_LOCAL_MODEL
    assert "pip install 'newsbrief[local]'" in result.output
    assert "Traceback" not in result.output


def test_a_bad_setting_in_the_environment_is_a_one_line_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEF_CONCURRENCY", "lots")
    path = tmp_path / "a.txt"
    path.write_text("The council voted on Monday.")
    result = CliRunner().invoke(main, [str(path)])
    assert result.exit_code == cli.EXIT_USAGE
    assert "BRIEF_CONCURRENCY" in result.output
    assert "Traceback" not in result.output


def test_help_lists_input_kinds_and_url_safety() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for text in (".html", ".jsonl", ".rss", "--glob", "--allow-private-urls", "--show-cleaning"):
        assert text in result.output


class _FakeServer:
    """Stands in for the embedded model's server: records what serve-model asks of it."""

    calls: ClassVar[list[str]] = []

    def __init__(self, settings: object) -> None:
        self.base_url = ""

    def start(self, port: int = 0) -> None:
        self.calls.append(f"start {port}")
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def wait(self) -> int:
        self.calls.append("wait")
        return 0

    def stop(self) -> None:
        self.calls.append("stop")


def test_serve_model_serves_on_the_port_and_says_how_to_use_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "local_server", _FakeServer)
    _FakeServer.calls = []
    port = free_port()
    result = CliRunner().invoke(main, ["serve-model", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert f"export BRIEF_LOCAL_URL=http://127.0.0.1:{port}/v1" in result.output
    assert _FakeServer.calls == [f"start {port}", "wait", "stop"]


def test_serve_model_on_a_busy_port_is_a_usage_error() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve-model", "--port", str(port)])
    assert result.exit_code == cli.EXIT_USAGE
    assert f"port {port} is in use; choose another with --port" in result.output


def test_serve_model_without_the_local_extra_exits_5(monkeypatch: pytest.MonkeyPatch) -> None:
    from service._exceptions import LocalModelMissingError

    def missing(self: object, port: int = 0) -> None:
        raise LocalModelMissingError("llama-cpp-python is not installed")

    monkeypatch.setattr(LocalServer, "start", missing)
    result = CliRunner().invoke(main, ["serve-model", "--port", str(free_port())])
    assert result.exit_code == cli.EXIT_LOCAL_MODEL
    assert "brief: error: llama-cpp-python is not installed" in result.output
