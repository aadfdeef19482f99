"""Mistaken variants, one module per exercise: the reference with one thing done wrong.

Each module has a `VARIANTS` tuple of `grader.cases.Variant`; the slugs come from the mistake
catalog (`grader/mistakes.toml`). The diagnosis engine runs them on a failing case's inputs.
"""
