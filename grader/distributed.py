"""Grading on a Dask distributed cluster (`grader grade --scheduler ADDRESS`).

The cluster only runs the pure grading step, one task per submission: a function of plain data
(exercise, name, bytes) that returns the result document. Finding, preparing and writing stay
with the client (`grader.batch`), so a cluster batch writes exactly what a local one does. Each
worker machine grades with its own sandbox, as local grading does, and needs convgrade installed
(checked when connecting).

A worker lost mid-task is handled by the scheduler, which runs the task again on another worker
(up to `distributed.scheduler.allowed-failures` deaths, then `KilledWorker`); a task that raises
is retried `RETRIES` times. Whatever still fails comes back as a reason, never as a missing
result. This is the only module that imports Dask; `grader.batch` imports it only when a
scheduler is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from typing import TypeVar

from distributed import CancelledError, Client, Future, KilledWorker, as_completed
from distributed.comm import get_address_host_port

T = TypeVar("T")

RETRIES = 2  # reruns of a task that raised: a worker-side hiccup (full disk, ...), not learner code
CONNECT_TIMEOUT_S = 30
MIN_IN_FLIGHT = 32  # submitted ahead of the cluster's threads, so no worker waits for the client


class ClusterError(Exception):
    """The cluster cannot grade this batch: unreachable or lost, or workers without convgrade."""


class Cluster:
    """A client of the Dask scheduler at `address` whose workers are checked to grade like this
    machine. Use as a context manager; closing it releases every task still running."""

    def __init__(self, address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.address = address
        try:
            # Checked first: a Client that fails on a malformed address complains again when
            # garbage-collected, long after the one-line error.
            get_address_host_port(address)
        except ValueError as exc:
            raise ClusterError(f"not a Dask scheduler address: {address} ({exc})") from None
        try:
            self.client = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            _check_workers(self.client)
        except BaseException:
            self.client.close()
            raise

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def grade(self, function: Callable[..., dict], items: Iterable[tuple[T, tuple]],
              retries: int = RETRIES) -> Iterator[tuple[T, dict | None, str]]:
        """Run `function(*args)` on the cluster for each `(tag, args)`; yield `(tag, document,
        "")` as each task finishes, or `(tag, None, reason)` for one that failed for good.

        `items` is consumed lazily, a window ahead of the cluster's capacity, so the client holds
        only the submissions in flight, however large the class."""
        pending = iter(items)
        running = as_completed(loop=self.client.loop)
        tags: dict[str, T] = {}

        def submit_more() -> None:
            try:
                window = max(MIN_IN_FLIGHT, 2 * sum(self.client.nthreads().values()))
            except OSError as exc:  # Dask's CommClosedError: the scheduler is gone
                raise ClusterError(f"lost the Dask scheduler at {self.address} ({type(exc).__name__}); "
                                   "what was graded is kept: rerun to grade the rest") from None
            while running.count() < window:
                item = next(pending, None)
                if item is None:
                    return
                tag, args = item
                # pure=False and a fresh key: two identical submissions are two tasks, each of
                # which is graded, rather than one result shared by Dask's deduplication.
                future = self.client.submit(function, *args, key=f"convgrade-{uuid.uuid4().hex}",
                                            retries=retries, pure=False)
                tags[future.key] = tag
                running.add(future)

        submit_more()
        for future in running:
            document, reason = _outcome(future, retries)
            tag = tags.pop(future.key)
            future.release()  # the scheduler may forget it: the client has the document
            yield tag, document, reason
            submit_more()


def _outcome(future: Future, retries: int) -> tuple[dict | None, str]:
    """The task's document, or why there is none."""
    try:
        return future.result(), ""
    except KilledWorker as exc:
        # Its attributes, not its message, which names the task key, meaningless to a reader.
        deaths = exc.allowed_failures + 1
        who = f"{deaths} Dask workers" if deaths > 1 else "a Dask worker"
        return None, f"{who} died while grading it (KilledWorker; the last was {exc.last_worker.address})"
    except CancelledError:
        return None, "the Dask cluster cancelled its task (scheduler restarted or connection lost)"
    except Exception as exc:  # noqa: BLE001 - any failure becomes the submission's reason
        return None, f"its Dask task failed {retries + 1} times: {type(exc).__name__}: {exc}"


def _version() -> str | None:
    """This machine's convgrade version, or None when running from a source tree."""
    try:
        return metadata.version("convgrade")
    except metadata.PackageNotFoundError:
        return None


def _check_workers(client: Client) -> None:
    """Refuse a cluster whose workers would grade differently from this machine: without
    convgrade, or with another version of it (other suites, other points). A worker that does not
    answer (leaving, restarting) is not held against the cluster, nor is one that joins later:
    a task on a worker without convgrade fails, and is recorded as such."""
    mine = _version()
    # A standard-library function, so that it also runs on a worker without convgrade.
    theirs = client.run(metadata.version, "convgrade", on_error="return")
    missing = sorted(w for w, v in theirs.items() if isinstance(v, metadata.PackageNotFoundError))
    if missing:
        raise ClusterError(f"Dask worker {missing[0]} does not have convgrade installed "
                           f"({len(missing)} such workers); on every worker: pip install 'convgrade[dask]'")
    wrong = sorted((w, v) for w, v in theirs.items() if isinstance(v, str) and mine and v != mine)
    if wrong:
        address, version = wrong[0]
        raise ClusterError(f"Dask worker {address} has convgrade {version}, this machine {mine} "
                           f"({len(wrong)} such workers); install the same version everywhere")
