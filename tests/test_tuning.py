"""The embedded model's server tuning: threads from the usable CPUs, following the load, OpenMP's
wait settings in the server's environment, extra server flags; nothing starts a server."""

import threading
from pathlib import Path

import pytest

from service._exceptions import LocalModelMissingError
from service.local_model import usable_cpus
from service.local_server import (
    CLOCK_TICKS,
    FIRST_CALM,
    FIRST_TRY,
    HOLD,
    LONGEST_CALM,
    SHARED,
    STEADY,
    Controller,
    Crowding,
    Reading,
    busy_ns,
    follow,
    others,
    read,
    schedstat,
    split_threads,
    waiting_share,
)
from service.pipeline import local_server
from service.settings import Settings


def test_by_default_the_server_starts_with_every_usable_cpu_following_the_load_spinning_short(
    tmp_path: Path,
) -> None:
    server = local_server(Settings(cache_dir=tmp_path))
    assert server.threads == usable_cpus()
    assert "--fixed-threads" not in server._command(tmp_path / "w.gguf")
    assert server._environment({"PATH": "/bin"}) == {"PATH": "/bin", "GOMP_SPINCOUNT": "10000"}


def test_schedstat_lines_and_task_folders_are_read_as_running_and_waiting(
    tmp_path: Path,
) -> None:
    assert schedstat("75860390 1673820152 50\n") == (75860390, 1673820152)
    for task, line in [("1", "100 10 1"), ("2", "300 30 4")]:
        (tmp_path / task).mkdir()
        (tmp_path / task / "schedstat").write_text(line)
    (tmp_path / "3").mkdir()  # a thread that ended between listing and reading
    reading = read(tmp_path)
    assert (reading.running, reading.waiting) == (400, 40)


def test_waiting_share_is_waiting_over_running_and_waiting_and_none_when_idle() -> None:
    before = Reading(running=0, waiting=0, at=0.0)
    assert waiting_share(before, Reading(int(1.5e9), int(0.5e9), 1.0)) == 0.25
    assert waiting_share(before, Reading(1000, 1000, 1.0)) is None  # the threads slept
    assert waiting_share(before, Reading(int(1e9), 0, 0.0)) is None


def test_crowded_threads_drop_one_and_calm_ones_try_one_more_backing_off() -> None:
    controller = Controller(cpus=2)
    assert controller.next(None) == 2
    assert controller.next(0.33) == 1  # another process shares a CPU with ours: one fewer
    assert controller.next(0.0) == 1  # ... and the one left runs freely: kept
    calm = [controller.next(0.0) for _ in range(FIRST_CALM)]
    assert calm == [1] * (FIRST_CALM - 1) + [2]  # after a calm spell, one more is tried
    assert controller.next(0.3) == 1  # still crowded: back to one, and wait twice as long
    calm = [controller.next(0.0) for _ in range(2 * FIRST_CALM)]
    assert calm == [1] * (2 * FIRST_CALM - 1) + [2]
    assert controller.next(0.01) == 2  # the CPU is free again: kept, patience reset
    assert controller.patience == FIRST_CALM
    assert Controller(cpus=1).next(0.9) == 1  # never fewer than one


def test_when_fewer_threads_are_crowded_too_every_thread_comes_back_and_stays() -> None:
    controller = Controller(cpus=2)
    assert controller.next(0.5) == 1  # both CPUs contended
    assert controller.next(0.33) == 2  # one thread is crowded too: it would only get less
    assert [controller.next(0.5) for _ in range(HOLD)] == [2] * HOLD
    assert controller.next(0.5) == 1  # after the hold, fewer is tried again


def test_while_others_use_the_cpus_left_a_thread_more_is_tried_only_after_the_longest_calm() -> (
    None
):
    controller = Controller(cpus=2)
    controller.next(0.33)
    controller.next(0.0)  # one thread, calm, while another process keeps the other CPU
    calm = [controller.next(0.0, others=1.0) for _ in range(LONGEST_CALM)]
    assert calm == [1] * (LONGEST_CALM - 1) + [2]
    controller.next(0.3, others=1.0)  # still crowded: back to one
    calm = [controller.next(0.0, others=0.1) for _ in range(2 * FIRST_CALM)]
    assert calm[-1] == 2  # the other process is gone: tried soon


def test_the_machines_busy_time_and_what_others_did_are_read_from_proc_stat() -> None:
    stat = (
        "cpu  907 0 300 14000 100 0 0 0 0 0\ncpu0 400 0 100 2500 50 0 0 0 0 0\n"
        "cpu1 500 0 200 2500 50 0 0 0 0 0\ncpu2 7 0 0 9000 0 0 0 0 0 0\nintr 12345\n"
    )
    assert busy_ns(stat, [0, 1]) == 1200 * 1_000_000_000 // CLOCK_TICKS  # cpu2 is not ours
    assert busy_ns(stat, [2]) == 7 * 1_000_000_000 // CLOCK_TICKS
    before = Reading(running=0, waiting=0, at=0.0, busy=0)
    after = Reading(running=int(0.5e9), waiting=0, at=1.0, busy=int(1.5e9))
    assert others(before, after) == 1.0
    assert others(after, after) == 0.0


def test_patience_never_exceeds_the_longest_calm() -> None:
    controller = Controller(cpus=2)
    controller.next(0.5)
    controller.next(0.0)  # one thread, calm
    for _ in range(20):
        while controller.threads == 1:
            controller.next(0.0)
        controller.next(0.5)  # each try of a second thread crowds it
    assert controller.patience == LONGEST_CALM


def test_crowded_only_after_readings_in_a_row_waiting_more_than_the_shared_share() -> None:
    crowding = Crowding()
    assert crowding.next(None) is False  # no request running: nothing learnt
    assert [crowding.next(0.4) for _ in range(STEADY)] == [False] * (STEADY - 1) + [True]


def test_a_calm_reading_starts_the_count_again_and_an_idle_one_does_not() -> None:
    crowding = Crowding()
    shares = [0.4] * (STEADY - 1) + [SHARED] + [0.4] * (STEADY - 1)
    assert {crowding.next(share) for share in shares} == {False}  # background: single readings
    assert crowding.next(None) is False
    assert crowding.next(0.4) is True


def test_crowded_is_tried_quiet_again_after_its_patience_doubled_by_each_failed_trial() -> None:
    crowding = Crowding()
    for _ in range(STEADY):
        crowding.next(0.5)
    waits = []
    for _ in range(6):
        readings = 1
        while crowding.next(0.6):  # crowded, whatever the share says
            readings += 1
        waits.append(readings)
        assert [crowding.next(0.5) for _ in range(STEADY)][-1] is True  # the trial fails
    assert waits == [FIRST_TRY, 2 * FIRST_TRY, 4 * FIRST_TRY, 8 * FIRST_TRY] + [LONGEST_CALM] * 2


def test_a_trial_that_stays_calm_ends_the_crowding_and_resets_the_patience() -> None:
    crowding = Crowding()
    for share in [0.5] * STEADY + [0.6] * FIRST_TRY + [0.5] * STEADY + [0.6] * 2 * FIRST_TRY:
        crowding.next(share)  # crowded, one failed trial, and crowded again
    assert crowding.next(0.01) is False
    assert {crowding.next(share) for share in [0.01] * 20} == {False}
    assert [crowding.next(0.5) for _ in range(STEADY)][-1] is True
    assert crowding.patience == FIRST_TRY


def test_crowded_threads_are_one_more_than_the_cpus_for_prompts_one_fewer_for_tokens() -> None:
    assert split_threads(2, crowded=False) == (2, 2)
    assert split_threads(2, crowded=True) == (1, 3)
    assert split_threads(8, crowded=True) == (7, 9)
    assert split_threads(1, crowded=True) == (1, 2)


def test_follow_applies_threads_only_when_they_change(monkeypatch: pytest.MonkeyPatch) -> None:
    second = int(1e9)
    crowded = [Reading(n * second, n * second // 2, float(n)) for n in range(4)]
    calm = [
        Reading(crowded[-1].running + n * second, crowded[-1].waiting, 3.0 + n)
        for n in range(1, 20)
    ]
    readings = iter([*crowded, *calm])
    monkeypatch.setattr("service.local_server.read", lambda: next(readings))
    monkeypatch.setattr("service.local_server.PERIOD", 0.0)
    stop = threading.Event()
    applied: list[int] = []

    def apply(threads: int) -> None:
        applied.append(threads)
        if threads == 2:
            stop.set()

    controller = Controller(2)
    follow(lambda share, others: controller.next(share, others), apply, stop, 2)
    assert applied == [1, 2]


def test_following_the_load_is_on_unless_turned_off_or_threads_are_fixed(
    tmp_path: Path,
) -> None:
    def command(**settings: object) -> list[str]:
        chosen = Settings(cache_dir=tmp_path, local_engine="llama-cpp-python", **settings)  # type: ignore[arg-type]
        server = local_server(chosen)
        return server._command(tmp_path / "w.gguf")

    assert command()[2] == "service.local_server"
    assert "--fixed-threads" not in command()
    assert "--fixed-threads" in command(local_follow_load=False)
    assert "--fixed-threads" in command(local_threads=1)


def test_settings_reach_the_servers_command_and_environment(tmp_path: Path) -> None:
    settings = Settings(
        cache_dir=tmp_path,
        local_engine="llama-cpp-python",
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
    settings = Settings(cache_dir=tmp_path, local_engine="llama-server", local_threads=3)
    command = local_server(settings)._command(tmp_path / "w.gguf")
    assert command[0] == str(binary)
    assert command[command.index("--threads") + 1] == "3"
    assert command[command.index("--model") + 1] == str(tmp_path / "w.gguf")
    chosen = Settings(cache_dir=tmp_path, local_engine="llama-cpp-python")
    assert "service.local_server" in local_server(chosen)._command(python)
