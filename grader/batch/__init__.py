"""Batch grading for instructors: find submissions, grade them in parallel, write every output.

One broken submission never stops the batch: whatever happens to it becomes its result (status
"error" with a reason). Each submission's outputs are written atomically as soon as it is graded,
and a rerun skips submissions whose content and exercise are unchanged, so an interrupted batch
simply resumes. The class summary and the gradebook are rewritten from all results at the end.

Each submission goes through three steps: `prepare` (here: find its exercise, read its bytes,
reuse an earlier result), `grade_document` (anywhere: a pure function of the exercise, the name
and the bytes, returning the result document as plain data) and `finish` (here: write its
outputs). Local batches run the middle step in threads; `--scheduler` runs it on a Dask cluster
(`grader.distributed`, imported only then).

The package follows the flow: `discovery` (which files, which exercise) -> `rerun` (prepare:
reuse or a job) -> `drivers` (grade here or on a cluster) -> `exports` (reports, gradebook)
with `storage` (atomic writes, documents read back) underneath.
"""

from grader.batch.discovery import SUFFIXES, Graded, Submission, find, infer_exercise, report_key
from grader.batch.drivers import BatchError, finish, grade_batch, grade_document, not_graded
from grader.batch.exports import gradebook_csv, gradescope, write_submission, write_summary
from grader.batch.rerun import Job, prepare
from grader.batch.storage import result_from_json, write_atomic

__all__ = [
    "BatchError", "Graded", "Job", "SUFFIXES", "Submission", "find", "finish", "grade_batch",
    "grade_document", "gradebook_csv", "gradescope", "infer_exercise", "not_graded", "prepare",
    "report_key", "result_from_json", "write_atomic", "write_submission", "write_summary",
]
