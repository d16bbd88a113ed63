"""Where fold work runs: in this process, in local worker processes (loky), or on a Dask cluster.

One small interface for :mod:`mlcli.experiments.cv.runner`: ``slots`` (how many pieces of work run at once),
``put`` (data every piece needs, shipped once where that helps), ``submit``, ``wait`` (the pieces that
finished, waiting at most ``timeout`` seconds), ``result`` and ``close``. The runner starts no more pieces
than there are slots, so what is submitted is what runs: the progress bar can name it, and the next piece is
chosen when a slot frees, with everything measured so far.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

# what joblib's loky backend sets in its workers so that BLAS/OpenMP pools do not oversubscribe the cores
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class _Call:
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]):
        self.fn, self.args = fn, args
        self.value: Any = None


class InlinePool:
    """This process, one piece at a time (``--jobs 1``): time budgets and Ctrl-C reach the fit directly."""

    slots = 1

    def put(self, value: Any) -> Any:
        return value

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Call:
        return _Call(fn, args)

    def wait(self, handles: Sequence[_Call], timeout: float) -> list[_Call]:
        if not handles:
            return []
        call = handles[0]
        call.value = call.fn(*call.args)
        return [call]

    def result(self, handle: _Call) -> Any:
        return handle.value

    def close(self, abort: bool) -> None:
        pass


class ProcessPool:
    """Local worker processes (joblib's loky executor, reused across runs in one process)."""

    def __init__(self, jobs: int, cores: int):
        from joblib.externals.loky import get_reusable_executor

        inner = str(max(1, cores // jobs))
        env = {name: os.environ.get(name, inner) for name in _THREAD_VARS}
        self.slots = jobs
        self._executor = get_reusable_executor(max_workers=jobs, timeout=300, env=env)
        _release_at_exit()

    def put(self, value: Any) -> Any:
        return value

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._executor.submit(fn, *args)

    def wait(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return [h for h in handles if h in done]

    def result(self, handle: Any) -> Any:
        return handle.result()

    def close(self, abort: bool) -> None:
        if abort:  # Ctrl-C, SIGTERM or an error: stop the running fits now, and wait until the workers are gone
            self._executor.shutdown(wait=True, kill_workers=True)


class DaskPool:
    """A Dask cluster: ``jobs`` pieces at a time (-1: one per worker thread); the data is scattered once."""

    def __init__(self, client: Any, jobs: int):
        self.client = client
        threads = sum(client.nthreads().values()) or 1
        self.slots = threads if jobs == -1 else max(1, jobs)
        self._live: list[Any] = []

    def put(self, value: Any) -> Any:
        return self.client.scatter(value, hash=False)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        future = self.client.submit(fn, *args, pure=False)
        self._live.append(future)
        return future

    def wait(self, handles: Sequence[Any], timeout: float) -> list[Any]:
        from distributed import wait

        try:
            with self.client.as_current():  # the client was made with set_as_default=False
                done = wait(list(handles), timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return []
        self._live = [f for f in self._live if f not in done]
        return [h for h in handles if h in done]

    def result(self, handle: Any) -> Any:
        return handle.result()

    def close(self, abort: bool) -> None:
        if abort and self._live:
            self.client.cancel(self._live)


_TRACKERS = ("joblib.externals.loky.backend.resource_tracker", "multiprocessing.resource_tracker")
_at_exit: list[bool] = []


def _release_at_exit() -> None:
    if not _at_exit:
        import atexit

        atexit.register(release_workers)
        _at_exit.append(True)


def release_workers(wait: float = 2.0) -> None:
    """Leave no process behind: loky's reusable workers stopped and joined, multiprocessing's exit finalizers run
    (they unlink the pool's semaphores and unregister them), then the resource trackers that worker pools start
    (a process each, which would otherwise outlive this one by a moment) stopped and waited for, ``wait``
    seconds at most each. Called at exit (registered with the first worker pool); every step is best effort."""
    import sys

    try:
        executor = getattr(sys.modules.get("joblib.externals.loky.reusable_executor"), "_executor", None)
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)
        exit_function = getattr(sys.modules.get("multiprocessing.util"), "_exit_function", None)
        if exit_function is not None:  # runs again, with nothing left to do, after this handler
            exit_function()
        for name in _TRACKERS:
            _stop_tracker(getattr(sys.modules.get(name), "_resource_tracker", None), wait)
    except (Exception, KeyboardInterrupt):  # noqa: BLE001 - at exit: what is left still ends with this process
        pass


def _stop_tracker(tracker: Any, wait: float) -> None:
    """Close a resource tracker's pipe (it then cleans up and ends) and reap it, ``wait`` seconds at most: a
    process that still holds the pipe would keep it alive, and exit must not hang on it."""
    import time

    fd, pid = getattr(tracker, "_fd", None), getattr(tracker, "_pid", None)
    if fd is None or pid is None or not hasattr(os, "WNOHANG"):
        return
    tracker._fd = tracker._pid = None  # started again if anything needs it later
    os.close(fd)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:  # reaped already
            return
        time.sleep(0.005)


def make_pool(jobs: int, client: Any, cores: int) -> InlinePool | ProcessPool | DaskPool:
    if client is not None:
        return DaskPool(client, jobs)
    if jobs <= 1:
        return InlinePool()
    return ProcessPool(jobs, cores)
