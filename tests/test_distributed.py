"""Batch grading on a Dask cluster: same gradebook as local grading, and no submission lost.

A `LocalCluster` with two worker processes stands in for a real cluster: the tasks cross a
process boundary exactly as they would cross machines (pickled arguments, a document back).
"""

from __future__ import annotations

import importlib.util
import json
import operator
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

import grader
from grader import batch, exercises
from grader.cli import cli
from tests.conftest import ROOT

needs_dask = pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                                reason="dask.distributed is not installed: pip install 'convgrade[dask]'")



def notebook(path: Path, slug: str, *cells: str) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["convgrade"] = {"exercise": slug}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """A small class: correct and buggy `.py` files, notebooks, and ones that cannot be graded."""
    root = tmp_path_factory.mktemp("class")
    conv_forward = (ROOT / "solutions" / "conv_forward.py").read_text()
    buggy = ROOT / "tests" / "submissions" / "buggy"
    notebook(root / "ana.ipynb", "conv_forward", "import numpy as np", conv_forward)
    notebook(root / "ben.ipynb", "conv_forward", conv_forward, "raise RuntimeError('my own bug')")
    (root / "cy.ipynb").write_text("{ this is not json")
    (root / "dee.py").write_text((ROOT / "solutions" / "conv1d.py").read_text())
    (root / "eve.py").write_text((buggy / "conv1d" / "kernel-flipped.py").read_text())
    (root / "sub").mkdir()
    (root / "sub" / "fay.py").write_text((buggy / "conv_forward" / "stride-ignored.py").read_text())
    (root / "gus_conv1d.py").write_text("def conv1d(x, w:\n    return x\n")  # cannot be imported
    (root / "hal.py").write_text("print('no exercise here')\n")
    return root


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes with one thread each, as two small machines would be."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local, \
            distributed.Client(local, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield local, client


def _without_timings(doc: dict) -> dict:
    """A result document without what depends on timing: its duration and the speed comparison
    (ratios, milliseconds, verdicts, the `python-loops` note, which function is the slowest).
    Which functions were timed stays: that depends only on which ones passed."""
    functions = [{k: v for k, v in f.items() if k != "speed"} for f in doc.get("functions", [])]
    return {**{k: v for k, v in doc.items() if k not in ("duration_s", "performance", "performances")},
            "timed": [p["function"] for p in doc.get("performances", [])], "functions": functions}


@pytest.mark.slow
@needs_dask
def test_cluster_gradebook_equals_local_gradebook(klass, cluster, tmp_path):
    """Graded through the cluster, the class gets the same gradebook, byte for byte."""
    local_cluster, client = cluster
    seen: list[str] = []
    here = batch.grade_batch([klass], tmp_path / "here", jobs=2)
    there = batch.grade_batch([klass], tmp_path / "there", jobs=2, scheduler=local_cluster.scheduler_address,
                              progress=lambda g: seen.append(g.submission.name))
    assert sorted(seen) == sorted(g.submission.name for g in here)  # progress once per submission
    assert [g.submission.name for g in there] == [g.submission.name for g in here]
    assert (tmp_path / "there" / "grades.csv").read_bytes() == (tmp_path / "here" / "grades.csv").read_bytes()
    gradebooks = [json.loads((tmp_path / side / "results.json").read_text()) for side in ("here", "there")]
    assert [_without_timings(d) for d in gradebooks[1]] == [_without_timings(d) for d in gradebooks[0]]
    for g in here:
        name = f"submissions/{g.submission.key}/result.json"
        ours, theirs = (json.loads((tmp_path / side / name).read_text()) for side in ("here", "there"))
        assert _without_timings(theirs) == _without_timings(ours), name
    by_name = {g.submission.name: g.result for g in there}
    assert by_name["ana.ipynb"].score == 100 and by_name["dee.py"].score == 100
    assert any("my own bug" in c.message for c in by_name["ben.ipynb"].cell_errors)
    assert "JSON" in by_name["cy.ipynb"].message
    assert "could not be imported" in by_name["gus_conv1d.py"].message
    assert {t.diagnosis.slug for t in by_name["eve.py"].tests if t.diagnosis} == {"kernel-flipped"}
    assert {p.relative_to(tmp_path / "there") for p in (tmp_path / "there").rglob("*")} == \
        {p.relative_to(tmp_path / "here") for p in (tmp_path / "here").rglob("*")}

    # A rerun through the cluster skips everything, as a local rerun does.
    again = batch.grade_batch([klass], tmp_path / "there", jobs=2, scheduler=local_cluster.scheduler_address)
    assert all(g.reused for g in again if g.result.status == "graded")


@pytest.mark.slow
@needs_dask
@pytest.mark.parametrize("allowed_failures", [None, 0], ids=["retried", "recorded"])
def test_a_worker_killed_mid_batch_loses_no_submission(cluster, tmp_path, allowed_failures):
    """Kill a worker process while it grades: every submission still ends with a result. By
    default the task runs again on another worker; when the scheduler allows no more worker
    deaths, the submission says why it could not be graded, and a rerun grades it."""
    local_cluster, client = cluster
    client.wait_for_workers(2, timeout=60)
    src = tmp_path / "in"
    src.mkdir()
    reference = (ROOT / "solutions" / "conv1d.py").read_text()
    for name in ("slow1.py", "slow2.py"):  # several seconds in the learner's own code
        (src / name).write_text(reference + "\nimport time\ntime.sleep(5)\n")
    (src / "quick.py").write_text(reference)
    out, address = tmp_path / "out", local_cluster.scheduler_address
    box: dict[str, list[batch.Graded]] = {}
    thread = threading.Thread(target=lambda: box.update(
        graded=batch.grade_batch([src], out, jobs=1, scheduler=address)))
    scheduler, default = local_cluster.scheduler, local_cluster.scheduler.allowed_failures
    scheduler.allowed_failures = default if allowed_failures is None else allowed_failures
    try:
        thread.start()
        busy: list[str] = []
        deadline = time.monotonic() + 30
        while len(busy) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            busy = [w for w, keys in client.processing().items() if keys]
        assert len(busy) == 2, "the two slow submissions never ran side by side"
        time.sleep(1.5)  # well inside the learner's sleep
        victim = busy[0]
        os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
        thread.join(timeout=120)
    finally:
        scheduler.allowed_failures = default
    assert not thread.is_alive()
    graded = {g.submission.name: g.result for g in box["graded"]}
    assert set(graded) == {"slow1.py", "slow2.py", "quick.py"}
    lost = {n for n, r in graded.items() if r.status == "error"}
    assert all(graded[n].score == 100 for n in set(graded) - lost)
    if allowed_failures is None:
        assert not lost, {n: graded[n].message for n in lost}
        return
    assert lost, "the killed worker's submission was graded anyway"
    for name in lost:
        assert graded[name].message.startswith("a Dask worker died while grading it")
    client.wait_for_workers(2, timeout=60)
    again = {g.submission.name: g for g in batch.grade_batch([src], out, jobs=1, scheduler=address)}
    assert all(g.result.score == 100 for g in again.values())
    assert {n for n, g in again.items() if not g.reused} == lost


@needs_dask
def test_a_task_that_keeps_failing_comes_back_with_its_reason(cluster):
    """A task that raises (after its retries) or whose workers all die is a reason, not a hole."""
    from grader.distributed import Cluster

    local_cluster, client = cluster
    client.wait_for_workers(2, timeout=60)
    scheduler = local_cluster.scheduler
    allowed = scheduler.allowed_failures
    scheduler.allowed_failures = 0  # the first worker death is final, so that this test is quick
    try:
        with Cluster(local_cluster.scheduler_address) as on_cluster:
            out = list(on_cluster.grade(operator.truediv, [("ok", (1, 2)), ("zero", (1, 0))], retries=1))
            out += on_cluster.grade(os._exit, [("exit", (1,))])
    finally:
        scheduler.allowed_failures = allowed
    results = {tag: (doc, reason) for tag, doc, reason in out}
    assert results["ok"] == (0.5, "")
    assert results["zero"][0] is None
    assert results["zero"][1] == "its Dask task failed 2 times: ZeroDivisionError: division by zero"
    assert results["exit"][0] is None
    assert results["exit"][1].startswith("a Dask worker died while grading it (KilledWorker; the last was tcp://")


def test_lost_grading_is_recorded_and_retried_by_a_rerun(klass, tmp_path):
    """A submission whose task failed for good says why, and is not saved as done."""
    sub = next(s for s in batch.find([klass]) if s.name == "dee.py")
    catalogue = exercises.discover()
    job = batch.prepare(sub, None, catalogue, tmp_path)
    assert isinstance(job, batch.Job)
    graded = batch.not_graded(job, "4 Dask workers died while grading it", tmp_path)
    assert graded.result.status == "error"
    assert graded.result.message == "4 Dask workers died while grading it"
    assert isinstance(batch.prepare(sub, None, catalogue, tmp_path), batch.Job)  # not reused


@needs_dask
def test_cli_grades_on_the_cluster(klass, cluster, tmp_path):
    local_cluster, _ = cluster
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["grade", str(klass / "sub"), "--out", str(out),
                                      "--scheduler", local_cluster.scheduler_address])
    assert result.exit_code == 0, result.output
    assert "fay.py" in (out / "grades.csv").read_text()


@needs_dask
def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    from grader.distributed import Cluster, ClusterError

    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        Cluster("tcp://127.0.0.1:9", timeout_s=1)


def test_without_dask_the_option_says_what_to_install(klass, tmp_path, monkeypatch):
    # As if Dask were not installed: importing grader.distributed fails.
    monkeypatch.delattr(grader, "distributed", raising=False)
    monkeypatch.setitem(sys.modules, "grader.distributed", None)
    out = tmp_path / "out"
    with pytest.raises(batch.BatchError, match=r"pip install 'convgrade\[dask\]'"):
        batch.grade_batch([klass], out, jobs=1, scheduler="tcp://127.0.0.1:8786")
    assert not out.exists(), "a batch that cannot start must not touch the outputs"
    result = CliRunner().invoke(cli, ["grade", str(klass), "--out", str(out),
                                      "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("grader: error: grading on a Dask cluster")


def test_local_grading_never_imports_dask(tmp_path):
    (tmp_path / "dee.py").write_text((ROOT / "solutions" / "conv1d.py").read_text())
    code = ("import sys\nfrom pathlib import Path\nfrom grader import batch, cli\n"
            f"batch.grade_batch([Path({str(tmp_path / 'dee.py')!r})], Path({str(tmp_path / 'out')!r}), 1)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
