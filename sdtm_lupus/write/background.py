"""XPT observation records written by one background thread while the run goes on.

Copying hundreds of MB into files is the slowest part of writing a large run, and it hardly needs
the interpreter (numpy and the write system call let other threads run). Inside `deferred()`
(write_output_folder wraps the filling of the staging folder with it) `run(job)` hands a file's
writing to one writer thread, in order; `wait()` returns once every handed-over file is complete
and raises the first error of any of them. `later(job)` hands over a file nobody reads before the
folder is complete (define.html: lxml's XSLT also lets other threads run) to a second thread, waited
for when `deferred()` ends. Outside `deferred()`, both write at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field


@dataclass
class _Scope:
    executor: ThreadPoolExecutor
    side: ThreadPoolExecutor
    pending: list[Future] = field(default_factory=list)
    side_pending: list[Future] = field(default_factory=list)


_SCOPES: list[_Scope] = []


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Write files in the background until the block ends (which waits for them all)."""
    scope = _Scope(ThreadPoolExecutor(max_workers=1, thread_name_prefix="sdtm-lupus-writer"),
                   ThreadPoolExecutor(max_workers=1, thread_name_prefix="sdtm-lupus-side"))
    _SCOPES.append(scope)
    try:
        yield
        wait()
        _raise_first(scope.side_pending)
    finally:
        _SCOPES.remove(scope)
        # on an error: files not started are dropped, a started one ends before its folder is removed
        for executor in (scope.executor, scope.side):
            executor.shutdown(wait=True, cancel_futures=True)


def run(job: Callable[[], None]) -> None:
    """job() in the writer thread (inside deferred()) or now."""
    _submit(job, side=False)


def later(job: Callable[[], None]) -> None:
    """job() in the side thread, waited for when deferred() ends (or now, outside it)."""
    _submit(job, side=True)


def _submit(job: Callable[[], None], side: bool) -> None:
    if not _SCOPES:
        job()
        return
    scope = _SCOPES[-1]
    if side:
        scope.side_pending.append(scope.side.submit(job))
    else:
        scope.pending.append(scope.executor.submit(job))


def wait() -> None:
    """Until every file handed over by run() so far is written; raises the first error."""
    if not _SCOPES:
        return
    scope = _SCOPES[-1]
    pending, scope.pending = scope.pending, []
    _raise_first(pending)


def _raise_first(futures: list[Future]) -> None:
    errors = [error for error in (f.exception() for f in futures) if error is not None]
    if errors:
        raise errors[0]
