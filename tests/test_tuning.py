"""The embedded model's server tuning: threads from the usable CPUs and the load, OpenMP's
wait settings in the server's environment, extra server flags; nothing starts a server."""

from pathlib import Path

import pytest

from service.local_model import Tuning, threads_for, usable_cpus
from service.pipeline import local_server
from service.settings import Settings


def test_by_default_the_server_gets_every_usable_cpu_and_libgomps_own_waiting() -> None:
    server = local_server(Settings())
    assert server.threads == usable_cpus()
    assert server._environment({"PATH": "/bin"}) == {"PATH": "/bin"}


@pytest.mark.parametrize(
    ("cpus", "load", "threads"), [(2, 0.1, 2), (2, 1.0, 1), (2, 3.7, 1), (8, 2.4, 6), (4, 0.6, 3)]
)
def test_threads_from_load_leave_the_busy_cpus_out(
    cpus: int, load: float, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.local_model.usable_cpus", lambda: cpus)
    assert threads_for(None, Tuning(threads_from_load=True), load) == threads
    assert threads_for(None, Tuning(), load) == cpus
    assert threads_for(5, Tuning(threads_from_load=True), load) == 5


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
