"""What a notebook sends the grader, and what the grader does with it (issue 12, class 2): a
notebook flooding its kernel's iopub channel, and cells that are slow to turn into Python. Each
is graded in a real batch; the containment is measured from the grader's side: its memory, its
CPU time, the batch's time, and the verdict of a classmate graded alongside."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.session import Session

from grader import batch, exercises, kernel
from tests.adversarial.test_corpus import CORPUS, _honest_points
from tests.conftest import ROOT

LIMITS = exercises.resolve("conv1d").limits
# What a submission may add to the batch's time: its kernel's start, the grading after its
# budget, the cleanup. The flood uses half its budget; the old grader ran the replay for minutes.
SLACK_S = 40
# The grader's resident memory above its level before the batch. Before issue 12 the flood
# below made it grow by 3.9 GiB (1000 queued messages of 3.9 MB); with 16 queued per socket but
# every message decoded, by 320 MiB; decoding only what it reads, by about 80 MiB.
MAX_GROWTH_MIB = 160
# The grader's own CPU time for the replayed notebook: a few seconds of nbclient and verdicts.
# Before issue 12 it transformed the slow cell itself: 70 s.
MAX_GRADER_CPU_S = 8.0


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class _PeakMemory:
    """The grader's resident memory, sampled while the batch runs: its peak above the start
    (ru_maxrss would hide a peak below one of an earlier test in this process)."""

    def __enter__(self) -> _PeakMemory:
        self.start = self.peak = _rss_mib()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.start


def _grade(folder: Path, out: Path) -> tuple[dict, float, float, float]:
    """The batch's results by name, its time, the grader's CPU time and memory growth."""
    with _PeakMemory() as memory:
        start, cpu = time.monotonic(), time.process_time()
        graded = batch.grade_batch([folder], out, jobs=2)
        elapsed, cpu = time.monotonic() - start, time.process_time() - cpu
    return {g.submission.name: g.result for g in graded}, elapsed, cpu, memory.growth


@pytest.mark.slow
def test_an_iopub_flood_neither_starves_a_classmate_nor_fills_the_grader(tmp_path):
    """adv57 floods for half its budget while a correct notebook (the model answer, a little slow to
    start, so that it runs during the flood) is graded next to it: that one scores 100/100, the batch
    keeps to the budget, the grader's memory stays bounded. Before issue 12: 3.9 GiB of grader
    memory, the classmate graded in 27 s instead of 9; with every message decoded on a thread
    of its own, 320 MiB and 35 s (one interpreter lock for all the threads)."""
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "adv57_iopub_flood.ipynb").write_bytes((CORPUS / "adv57_iopub_flood.ipynb").read_bytes())
    correct = nbformat.v4.new_notebook(metadata={"convgrade": {"exercise": "conv1d"}}, cells=[
        nbformat.v4.new_code_cell("import time\n\ntime.sleep(4)"),
        nbformat.v4.new_code_cell((ROOT / "solutions" / "conv1d.py").read_text())])
    nbformat.write(correct, folder / "classmate.ipynb")
    results, elapsed, _, growth = _grade(folder, tmp_path / "out")
    classmate, flood = results["classmate.ipynb"], results["adv57_iopub_flood.ipynb"]
    assert classmate.score == classmate.max_score, (classmate.message, classmate.cell_errors)
    assert flood.status == "graded"
    assert flood.score <= _honest_points("conv1d", ["convolve1d"], [])
    assert elapsed < LIMITS.total_timeout_s + SLACK_S, f"the batch took {elapsed:.0f} s"
    assert growth < MAX_GROWTH_MIB, f"the grader's memory grew by {growth:.0f} MiB"


@pytest.mark.slow
def test_a_cell_slow_to_transform_costs_the_grader_no_time(tmp_path):
    """adv58's kernel skips a cell that takes IPython's transformer a minute, then dies: the
    cells that ran are replayed in a fresh worker, which transforms them within each cell's
    time limit. The grader spends seconds of CPU, the submission gets its honest part within
    its budget. Before issue 12: 70 s of the grader's CPU, 213 s in all, and 0 points."""
    folder = tmp_path / "class"
    folder.mkdir()
    name = "adv58_cell_replay_cost.ipynb"
    (folder / name).write_bytes((CORPUS / name).read_bytes())
    results, elapsed, cpu, _ = _grade(folder, tmp_path / "out")
    result = results[name]
    assert cpu < MAX_GRADER_CPU_S, f"the grader spent {cpu:.0f} s of CPU"
    assert elapsed < LIMITS.total_timeout_s + SLACK_S, f"grading took {elapsed:.0f} s"
    assert (result.status, result.score) == ("graded", _honest_points("conv1d", ["convolve1d"], [])) \
        or "could not be graded" in result.message, (result.status, result.score, result.message)
    assert [e.kind for e in result.cell_errors] == ["kernel-died"]


def test_the_grader_decodes_only_the_answers_to_its_own_requests():
    """The client's session decodes a status message or reply only when it answers a request
    the grader sent, and within fixed sizes; everything else a kernel sends (outputs, forged
    replies, oversized headers) is dropped after its header, its content never decoded."""
    grader_side, kernel_side = kernel._BoundedSession(key=b"k"), Session(key=b"k")
    decoded: list[int] = []
    unpack = grader_side.unpack
    grader_side.unpack = lambda data: (decoded.append(len(data)), unpack(data))[1]

    class Stream:
        def send_multipart(self, parts, **kwargs):
            pass

    request = grader_side.send(Stream(), "execute_request", content={"code": "x = 1"})["header"]
    slow = {"pad": [[]] * 200_000}  # 600 KB

    def received(kind, content, parent=request, **header):
        msg = kernel_side.msg(kind, content=content, parent={"header": parent})
        msg["header"].update(header)
        decoded.clear()
        return grader_side.deserialize(kernel_side.serialize(msg)[1:])

    assert received("status", {"execution_state": "idle"})["content"] == {"execution_state": "idle"}
    assert received("execute_reply", {"status": "ok"})["content"] == {"status": "ok"}
    for ignored in (received("stream", slow), received("display_data", slow),
                    received("execute_reply", slow, parent={"msg_id": "not-asked"}),
                    received("status", {"execution_state": "idle"}, parent={"msg_id": ["x"]}),
                    received("status", {"execution_state": "idle"}, padding="x" * 2**15)):
        assert ignored["msg_type"] == "convgrade_ignored" and ignored["content"] == {}
        assert max(decoded, default=0) <= kernel.MAX_HEADER_PART, decoded
    too_large = received("execute_reply", {"status": "ok", **slow})
    assert too_large["content"]["ename"] == "ReplyTooLarge"
    assert max(decoded) <= kernel.MAX_HEADER_PART
