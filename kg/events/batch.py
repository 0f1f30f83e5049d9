"""Group commit: many concurrent writers share one transaction and one fsync.

With `synchronous=FULL`, every commit waits for the disk. Webhook deliveries arrive
concurrently, so one thread takes whatever is queued, stores it in one transaction and
then answers every waiting caller; under load a single fsync acknowledges dozens. Async
callers wait on an asyncio future, so an acknowledgement never ties up a thread.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from kg.errors import Unavailable

T = TypeVar("T")
R = TypeVar("R")

_MAX_BATCH = 512
Resolve = Callable[[object, BaseException | None], None]


class GroupCommit(Generic[T, R]):
    """Runs `write(items) -> results` for batches of items submitted from many callers."""

    def __init__(self, write: Callable[[list[T]], list[R]]) -> None:
        self._write = write
        self._queue: queue.SimpleQueue[tuple[T, Resolve] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, item: T) -> R:
        """Queue `item` and block until it is written; raises what the write raised."""
        future: Future[R] = Future()

        def resolve(result: object, error: BaseException | None) -> None:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        self._put(item, resolve)
        return future.result()

    async def submit_async(self, item: T) -> R:
        """Queue `item` and wait, without a thread, until it is written."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()

        def settle(result: object, error: BaseException | None) -> None:
            if future.cancelled():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def resolve(result: object, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, result, error)

        self._put(item, resolve)
        return await future

    def _put(self, item: T, resolve: Resolve) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
        self._queue.put((item, resolve))

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < _MAX_BATCH:
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
                if entry is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(entry)
            self._flush(batch)

    def _flush(self, batch: list[tuple[T, Resolve]]) -> None:
        try:
            results = self._write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, Unavailable):
                # Unavailable: no item is at fault but the log, and one by one only waits longer
                for _, resolve in batch:
                    resolve(None, exc)
                return
            # One bad item must not fail its neighbours: write them one by one.
            for entry in batch:
                self._flush([entry])
            return
        for (_, resolve), result in zip(batch, results, strict=True):
            resolve(result, None)

    def close(self) -> None:
        """Finish what is queued and stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()
