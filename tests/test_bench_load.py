"""Benchmark 8's command line: ways by name, a wrong name refused before anything runs."""

import pytest

from bench import load


def test_ways_are_taken_by_their_printed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "sys.argv", ["bench.load", "--anyway", "split when crowded", "--", "--poll 0"]
    )
    arguments = load._arguments()
    assert arguments.anyway
    assert arguments.ways == ["split when crowded", "--poll 0"]


def test_an_unknown_way_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["bench.load", "split when crowdd"])
    with pytest.raises(SystemExit) as stopped:
        load._arguments()
    assert stopped.value.code == 2
    assert "no such way: split when crowdd" in capsys.readouterr().err
