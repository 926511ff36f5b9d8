"""The embedded model's server tuning: threads from the usable CPUs, following the load, OpenMP's
wait settings in the server's environment, extra server flags; nothing starts a server."""

import threading
from pathlib import Path

import pytest

from service._exceptions import LocalModelMissingError
from service.local_model import usable_cpus
from service.local_server import (
    CLOCK_TICKS,
    PERIOD,
    Reading,
    busy_ticks,
    follow,
    others_busy,
    own_ticks,
    threads_free,
)
from service.pipeline import local_server
from service.settings import Settings


def test_by_default_the_server_gets_every_usable_cpu_and_libgomps_own_waiting() -> None:
    server = local_server(Settings())
    assert server.threads == usable_cpus()
    assert server._environment({"PATH": "/bin"}) == {"PATH": "/bin"}


STAT = """cpu  900 0 300 5000 100 0 0 0 0 0
cpu0 400 0 100 2500 50 0 0 0 0 0
cpu1 500 0 200 2500 50 0 0 0 0 0
cpu2 7 0 0 9000 0 0 0 0 0 0
intr 12345
"""


def test_busy_ticks_count_the_usable_cpus_less_idle_and_io_wait() -> None:
    assert busy_ticks(STAT, [0, 1]) == 400 + 100 + 500 + 200
    assert busy_ticks(STAT, [2]) == 7


def test_own_ticks_read_user_and_system_time_past_a_name_with_spaces() -> None:
    fields = ["S", *["0"] * 10, "120", "30", *["0"] * 10]
    assert own_ticks("4242 (python -m x) " + " ".join(fields)) == 150


@pytest.mark.parametrize(
    ("others", "cpus", "threads"),
    [(0.0, 2, 2), (0.3, 2, 2), (0.7, 2, 1), (1.0, 2, 1), (2.0, 2, 1), (5.0, 2, 1), (2.4, 8, 6)],
)
def test_the_threads_are_the_cpus_others_leave_free_at_least_one(
    others: float, cpus: int, threads: int
) -> None:
    assert threads_free(others, cpus) == threads


def test_others_busy_is_all_busy_time_less_this_process_own() -> None:
    before = Reading(busy=1000, own=400, at=10.0)
    after = Reading(busy=1000 + 150, own=400 + 100, at=11.0)  # 1.5 CPUs busy, 1.0 ours
    assert others_busy(before, after) == pytest.approx(50 / CLOCK_TICKS)
    assert others_busy(after, after) == 0.0


def test_follow_sets_threads_only_when_the_free_cpus_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tick = CLOCK_TICKS * PERIOD
    # another process keeps both CPUs busy for five readings, then stops
    busy = [Reading(int(tick * 2 * n), 0, n * PERIOD) for n in range(6)]
    quiet = [Reading(busy[-1].busy, 0, n * PERIOD) for n in range(6, 20)]
    readings = iter([*busy, *quiet])
    monkeypatch.setattr("service.local_server.read", lambda _cpus: next(readings))
    monkeypatch.setattr("service.local_server.PERIOD", 0.0)
    stop = threading.Event()
    chosen: list[int] = []

    def record(threads: int) -> None:
        chosen.append(threads)
        if threads == 2:
            stop.set()

    follow(record, stop, [0, 1])
    assert chosen == [1, 2]


def test_following_the_load_is_off_unless_asked_and_when_threads_are_fixed(
    tmp_path: Path,
) -> None:
    def command(**settings: object) -> list[str]:
        server = local_server(Settings(cache_dir=tmp_path, **settings))  # type: ignore[arg-type]
        return server._command(tmp_path / "w.gguf")

    assert command()[2] == "service.local_server"
    assert "--fixed-threads" in command()
    assert "--fixed-threads" not in command(local_follow_load=True)
    assert "--fixed-threads" in command(local_follow_load=True, local_threads=1)


def test_settings_reach_the_servers_command_and_environment(tmp_path: Path) -> None:
    settings = Settings(
        cache_dir=tmp_path,
        local_threads=3,
        local_wait_policy="passive",
        local_spin_count=10000,
        local_server_args=["--n_batch", "256"],
    )
    server = local_server(settings)
    command = server._command(tmp_path / "w.gguf")
    assert command[command.index("--n_threads") + 1] == "3"
    assert command[-2:] == ["--n_batch", "256"]
    environment = server._environment({"OMP_WAIT_POLICY": "ACTIVE", "HOME": "/h"})
    assert environment == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "10000", "HOME": "/h"}


def test_a_wait_policy_outside_openmps_two_is_refused() -> None:
    with pytest.raises(ValueError, match="local_wait_policy"):
        Settings(local_wait_policy="spin")


def test_llama_servers_own_binary_is_used_when_built_and_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    monkeypatch.setattr("sys.executable", str(python))
    with pytest.raises(LocalModelMissingError, match="make llama-server"):
        local_server(Settings(cache_dir=tmp_path, local_engine="llama-server"))._command(python)
    assert "service.local_server" in local_server(Settings(cache_dir=tmp_path))._command(python)
    binary = python.with_name("llama-server")
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    for engine in ("auto", "llama-server"):
        settings = Settings(cache_dir=tmp_path, local_engine=engine, local_threads=3)
        command = local_server(settings)._command(tmp_path / "w.gguf")
        assert command[0] == str(binary)
        assert command[command.index("--threads") + 1] == "3"
        assert command[command.index("--model") + 1] == str(tmp_path / "w.gguf")
    chosen = Settings(cache_dir=tmp_path, local_engine="llama-cpp-python")
    assert "service.local_server" in local_server(chosen)._command(python)
