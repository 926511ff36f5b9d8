"""A real kill: ``brief digest run`` in a child process SIGKILLed between building the email and
sending it, or between two recipients; the re-run delivers each copy exactly once."""

import os
import subprocess
import sys
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.digest_helpers import NOW, RECIPIENTS, make_setup

# Runs the real command, with one function of service.digest.send replaced by a SIGKILL on
# its n-th call: ``connect`` 1 is after the email is stored, ``send_one`` 2 between recipients.
CHILD = """
import os, signal, sys
from service.digest import send
name, when = sys.argv[1], int(sys.argv[2])
real, calls = getattr(send, name), []
def dies(*args):
    calls.append(args)
    if len(calls) == when:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)
setattr(send, name, dies)
from service.cli import main
main(["digest", "run", "--config", sys.argv[3]])
"""


@pytest.mark.parametrize(("point", "call", "before"), [("connect", 1, 0), ("send_one", 2, 1)])
def test_a_run_killed_mid_send_and_rerun_delivers_each_copy_once(
    point: str, call: int, before: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ExitStack() as stack:
        digest = make_setup(tmp_path, monkeypatch, stack)
        env = {**os.environ, "BRIEF_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, point, str(call), str(digest.config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert child.returncode == -9, child.stderr
        assert len(digest.box.received) == before
        (outcome,) = digest.run(now=NOW + timedelta(minutes=5))
        assert (outcome.status, outcome.delivered) == ("nothing new", len(RECIPIENTS) - before)
        copies = digest.box.copies()
        assert sorted(r for r, _ in copies) == sorted(RECIPIENTS)
        assert set(copies.values()) == {1}
