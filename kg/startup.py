"""What `kg serve` checks before it serves: a usable data directory that no other kg serve
holds, and a port it can listen on. Each failure is one line saying what to change."""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import socket
from pathlib import Path

from kg.confined import forget_last_words
from kg.errors import KgError


class StartupError(KgError):
    """kg cannot start as configured; the message says what to change."""


class ExclusiveLock:
    """An exclusive lock on a file, held while the process lives.

    `flock` is released by the kernel when the process dies, however it dies, so a killed
    `kg serve` never leaves a stale lock behind.
    """

    def __init__(self, path: Path, what: str, change: str) -> None:
        self.path = path
        self.what = what
        self.change = change
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise `StartupError` naming the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StartupError(
                f"another kg serve (pid {holder}) is using {self.what}; stop it or set {self.change}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let another process take the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def prepare_data_dir(data_dir: Path, store: Path | None) -> list[ExclusiveLock]:
    """Create the data directory if needed, and lock it and the embedded store (None: the
    store is a server) for this process."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"KG_DATA_DIR={str(data_dir)!r}: cannot create it: {exc.strerror}") from None
    if not os.access(data_dir, os.W_OK):
        raise StartupError(f"KG_DATA_DIR={str(data_dir)!r}: not writable by this user")
    locks = [ExclusiveLock(data_dir / "kg.lock", f"the data directory {data_dir}", "KG_DATA_DIR")]
    if store is not None:
        # two data directories may name one store (KG_STORE_URL): the store is locked too
        store.parent.mkdir(parents=True, exist_ok=True)
        locks.append(
            ExclusiveLock(store.with_name(store.name + ".serve.lock"), f"the store {store}", "KG_STORE_URL")
        )
    for lock in locks:
        lock.acquire()
    forget_last_words(data_dir / "tmp")  # this data dir is ours now: what is there is stale
    return locks


def serving_pid(data_dir: Path) -> int | None:
    """The process id of the `kg serve` holding `data_dir` (-1 if it wrote none), or None."""
    try:
        fd = os.open(data_dir / "kg.lock", os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(holder) if holder.isdigit() else -1
    finally:
        os.close(fd)  # and with it the shared lock, if this process got it
    return None


def raise_open_file_limit() -> None:
    """Let this process hold as many connections as the system allows it (the usual soft
    limit, 1024, is what a client opening half-sent requests would exhaust first)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port`, ready to hand to uvicorn."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise StartupError(f"KG_HOST={host!r}: cannot resolve it: {exc.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use; choose another with --port (or KG_PORT)"
            ) from None
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(False)
    return sock
