"""`connector-kit run`: every capture feeds its collections, every materialization reads them.

All tasks of the catalog (except those with `shards.disable`) run at once in one
process, connected through the state directory's journals (see `state_dir`).
The run ends when every capture has finished its sessions (its connector exited,
went idle for `--timeout`, or reached its target transactions) and every
materialization has committed everything the captures committed. A first
SIGINT or SIGTERM stops every task at its next transaction boundary; a second
one aborts at once, which is safe too, since nothing is recorded as committed
before it is. The first failure of any task stops the run with that error.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from typing import Protocol

from connector_kit.errors import ConnectorError
from connector_kit.runtime.catalog import Catalog
from connector_kit.runtime.journals import JournalHeads
from connector_kit.runtime.run_capture import CaptureRunner
from connector_kit.runtime.run_materialization import MaterializationRunner
from connector_kit.runtime.run_options import RunOptions
from connector_kit.runtime.run_progress import ProgressReporter
from connector_kit.runtime.run_stats import BindingCounters, RunCounters
from connector_kit.runtime.state_dir import StateDirectory

log = logging.getLogger(__name__)


class _Runner(Protocol):
    @property
    def name(self) -> str: ...

    def counters(self) -> list[BindingCounters]: ...

    async def run(self, stop: asyncio.Event) -> None: ...


async def run(
    catalog: Catalog,
    *,
    state: StateDirectory,
    options: RunOptions,
    counters: RunCounters | None = None,
) -> RunCounters:
    """Run the catalog's tasks until they are done (or stopped); return their counters."""
    counters = counters if counters is not None else RunCounters()
    with state.locked(catalog=catalog.root):
        heads = JournalHeads()
        for journal, head in state.committed_journals().items():
            heads.set(journal, collection=head.collection, length=head.length)
        captures = [
            CaptureRunner(
                catalog=catalog,
                task=task,
                state=state,
                heads=heads,
                counters=counters,
                options=options,
            )
            for task in catalog.captures.values()
            if not task.spec.shards.disable
        ]
        for capture in captures:
            for journal, (collection, length) in capture.committed_heads().items():
                heads.set(journal, collection=collection, length=length)
            heads.writer_started()
        materializations = [
            MaterializationRunner(
                catalog=catalog,
                task=task,
                state=state,
                heads=heads,
                counters=counters,
                options=options,
            )
            for task in catalog.materializations.values()
            if not task.spec.shards.disable
        ]
        runners: list[_Runner] = [*captures, *materializations]
        if not runners:
            raise ConnectorError(f"{catalog.root} has no enabled captures or materializations")
        log.info(
            "running %d captures and %d materializations",
            len(captures),
            len(materializations),
            extra={"fields": {"state_dir": str(state.path)}},
        )
        reporter = ProgressReporter(counters, interval=options.progress_interval)
        stop = asyncio.Event()
        progress = asyncio.create_task(reporter.report_periodically())
        outcome = "failed"
        try:
            with _signals_stop(stop), _few_collections():
                await _run_all(runners, stop=stop)
            outcome = "stopped" if stop.is_set() else "finished"
        except asyncio.CancelledError:
            if stop.is_set():
                outcome = "aborted"
                raise KeyboardInterrupt from None
            raise
        finally:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            reporter.summarize(outcome=outcome)
    return counters


async def _run_all(runners: list[_Runner], *, stop: asyncio.Event) -> None:
    try:
        async with asyncio.TaskGroup() as group:
            for runner in runners:
                group.create_task(_guarded(runner, stop), name=runner.name)
    except BaseExceptionGroup as failures:
        raise _first_failure(failures) from None


async def _guarded(runner: _Runner, stop: asyncio.Event) -> None:
    try:
        await runner.run(stop)
    except Exception:
        for counters in runner.counters():
            counters.failed()
        raise


def _first_failure(group: BaseExceptionGroup[BaseException]) -> BaseException:
    leaves = list(_leaves(group))
    for leaf in leaves:
        if isinstance(leaf, ConnectorError):
            return leaf
    for leaf in leaves:
        if not isinstance(leaf, asyncio.CancelledError):
            return leaf
    return leaves[0]


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


YOUNG_GENERATION_THRESHOLD = 200_000


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Collect garbage rarely while documents stream through.

    A transaction holds tens of thousands of parsed documents, and with the default
    thresholds every few hundred allocations trigger a collection that walks them
    all again: parsing and serializing ran three to five times slower. Parsed JSON
    has no reference cycles, so collecting rarely loses nothing.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


@contextlib.contextmanager
def _signals_stop(stop: asyncio.Event) -> Iterator[None]:
    """First SIGINT/SIGTERM: stop at transaction boundaries. Second: abort now."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal(name: str) -> None:
        if not stop.is_set():
            log.warning(
                "%s: stopping every task at its next transaction boundary (again to abort)",
                name,
            )
            stop.set()
        elif main is not None:
            log.warning("%s again: aborting", name)
            main.cancel()

    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signal.Signals(signum).name)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
