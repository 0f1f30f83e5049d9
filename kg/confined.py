"""Child processes that cannot outgrow their memory, outlive their parent, or hang a request.

Query processes and the extraction process run untrusted work (a caller's SPARQL, a
repository's files). Each calls `confine` first thing: its data segment is capped with
`RLIMIT_DATA` (heap and anonymous mappings; the store's memory-mapped files do not count),
so an allocation past the cap fails inside that process alone — Rust aborts, Python raises
`MemoryError` — and it exits when its parent dies, however the parent died, so a killed
`kg serve` never leaves a worker holding the store's lock.

Rust aborts on a panic too, so the exit code alone cannot say why a child died: what the
Rust runtime prints (fd 2) goes to a file the parent reads after the death (`last_words`),
while Python's own logging keeps writing to the original stderr.

A confined child is also cut off the network (a network namespace of its own, with no
interface up): whatever a query or a repository file asks for, nothing leaves the machine
or reaches its loopback services. The pipe to the parent, made before, keeps working.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

PARENT_CHECK_SECONDS = 0.5
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000

log = logging.getLogger("kg.confined")


LAST_WORDS = "kg-child-*.stderr"


def last_words_file(directory: Path) -> Path:
    """A fresh file in `directory` for a child's native stderr (see `confine`); a parent killed
    before it could remove it leaves it there for `forget_last_words`."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="kg-child-", suffix=".stderr", dir=directory)
    os.close(fd)
    return Path(name)


def forget_last_words(directory: Path) -> None:
    """Remove what children of an earlier, killed process left in `directory`."""
    for stale in directory.glob(LAST_WORDS):
        stale.unlink(missing_ok=True)


def confine(memory_bytes: int | None, last_words: Path | None = None, *, offline: bool = True) -> bool:
    """Cap this process's data segment at `memory_bytes`, send what native code prints to
    `last_words`, cut it off the network (`offline`), and exit when the parent dies.
    Returns whether it is off the network."""
    # A Rust panic or allocation failure prints one line, not a page of backtrace.
    os.environ["RUST_BACKTRACE"] = "0"
    if last_words is not None:
        sys.stderr.flush()
        python_stderr = os.dup(2)
        native = os.open(last_words, os.O_WRONLY | os.O_APPEND)
        os.dup2(native, 2)
        os.close(native)
        sys.stderr = os.fdopen(python_stderr, "w", buffering=1)
    isolated = offline and isolate_network()
    if offline and not isolated:
        log.warning("this process could not be cut off the network (no network namespace allowed)")
    if memory_bytes is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    watch_parent(os.getppid())
    return isolated


def network_isolation_works() -> bool:
    """Whether a child of this process can be cut off the network (asked of a throwaway one)."""
    probe = "from kg.confined import isolate_network as i; raise SystemExit(0 if i() else 1)"
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def isolate_network() -> bool:
    """Move this process into a network namespace of its own (no interface up); whether it
    could (root can; others need unprivileged user namespaces, which most kernels allow)."""
    libc = ctypes.CDLL(None, use_errno=True)
    flags = _CLONE_NEWNET if os.geteuid() == 0 else _CLONE_NEWUSER | _CLONE_NEWNET
    return bool(libc.unshare(flags) == 0)


_LIMITED = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_DATA, (n, n)); os.execvp(sys.argv[2], sys.argv[2:])"
)


def limited(command: list[str], memory_bytes: int) -> list[str]:
    """`command`, run with its data segment capped (set between fork and exec by a tiny
    Python, since `preexec_fn` is not safe in a process with threads)."""
    return [sys.executable, "-c", _LIMITED, str(memory_bytes), *command]


def watch_parent(parent: int) -> None:
    """Exit this process as soon as `parent` is no longer its parent (it died: re-parented)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(70)  # no cleanup to run: whatever this process held, the kernel releases

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def read_last_words(last_words: Path) -> str:
    """What the child's native code printed (the tail), emptying the file for the next child."""
    try:
        with last_words.open("rb") as f:
            f.seek(max(0, last_words.stat().st_size - 4096))
            text = f.read().decode("utf-8", "replace")
        last_words.write_bytes(b"")
    except OSError:
        return ""
    return text.strip()


def out_of_memory(exitcode: int | None, words: str) -> bool:
    """Whether a confined child died because an allocation failed: Rust aborts saying
    "memory allocation of N bytes failed" (Python raises `MemoryError` instead, caught there)."""
    return exitcode == -signal.SIGABRT and "memory allocation of" in words


@dataclass(eq=False)
class Child:
    """A child process started to be confined, with the pipe to it and its last-words file.

    `target(conn, *args, last_words)` runs in the child and should call `confine` first.
    """

    process: BaseProcess
    conn: Connection
    last_words: Path

    @classmethod
    def start(cls, target: Callable[..., None], args: tuple[Any, ...], *, name: str, scratch: Path) -> Child:
        """Spawn `target` (a fresh interpreter: nothing of this process is inherited)."""
        context = mp.get_context("spawn")
        parent, child = context.Pipe()
        last_words = last_words_file(scratch)
        process = context.Process(target=target, args=(child, *args, str(last_words)), name=name, daemon=True)
        process.start()
        child.close()
        return cls(process, parent, last_words)

    def ended(self) -> tuple[int | None, str]:
        """Once the pipe broke: the child's exit code and what its native code printed."""
        self.process.join(5)
        return self.process.exitcode, read_last_words(self.last_words)

    def kill(self) -> None:
        """Stop the child now and forget its files."""
        self.process.kill()
        self.process.join(10)
        self.conn.close()
        self.last_words.unlink(missing_ok=True)
