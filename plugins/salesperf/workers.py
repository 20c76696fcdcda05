"""Forked worker processes shared by the stages that spread work over the cores
(rendering emails, running validation suites)."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
from collections.abc import Iterator

MAX_DEFAULT = 4


def count(variable: str) -> int:
    """How many worker processes ``variable`` asks for (1 = in this process); by default
    one per core, at most 4. Anything but a whole number of at least 1 is an error."""
    raw = os.environ.get(variable, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            raise ValueError(f"{variable} must be a whole number, not {raw!r}") from None
        if n < 1:
            raise ValueError(f"{variable} must be at least 1, not {n}")
        return n
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT))


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def reset_signals() -> None:
    """Pool initializer: SIGTERM ends a worker, whatever its parent installed.

    Airflow's task runner handles SIGTERM with a function that returns at once in any other
    process than its own, and a forked worker inherits it. A worker that lost the race for
    its end-of-work sentinel (the pool's own clean-up may read it) then waited for ever for
    a task, deaf to the pool's terminate(): the weekly digest hung in a demo run.

    Workers are forked with SIGTERM held back (:func:`sigterm_held`): it is let through
    only here, once it ends the worker, so a terminate() that comes before this reset is
    not lost on the parent's handler."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


@contextlib.contextmanager
def sigterm_held() -> Iterator[None]:
    """Block SIGTERM in this thread while worker processes are forked (they start with it
    blocked, and :func:`reset_signals` unblocks it); a SIGTERM sent to this process
    meanwhile is delivered when the block ends. Threads started inside inherit the block,
    which keeps workers the pool forks later from those threads just as safe."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the parent's objects out of the garbage collector's reach while children are
    forked: a child's collection would otherwise write to every inherited object and so copy
    the parent's whole heap page by page (a long-lived Airflow or bench process holds
    hundreds of MB)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
