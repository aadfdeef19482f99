"""Are the reference solutions model answers? Standalone, short functions, no tuning machinery, a
public output-size helper; and nothing outside solutions/ leans on their helpers."""

from __future__ import annotations

import ast
import importlib

import pytest

from grader import exercises
from tests.conftest import ROOT, SLUGS

MAX_BODY_LINES = 30


def tree(slug: str) -> ast.Module:
    return ast.parse((ROOT / "solutions" / f"{slug}.py").read_text())


def body_lines(function: ast.FunctionDef, source: list[str]) -> int:
    """Lines of the body that hold code: no docstring, no blank or comment-only lines."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    lines = source[body[0].lineno - 1:function.end_lineno] if body else []
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_no_shared_helper_module():
    assert sorted(p.name for p in (ROOT / "solutions").glob("*.py")) == \
        sorted(["__init__.py", *(f"{slug}.py" for slug in SLUGS)])


@pytest.mark.parametrize("slug", SLUGS)
def test_every_function_body_is_at_most_30_lines(slug):
    source = (ROOT / "solutions" / f"{slug}.py").read_text().splitlines()
    functions = [n for n in tree(slug).body if isinstance(n, ast.FunctionDef)]
    assert functions
    long = {f.name: body_lines(f, source) for f in functions
            if body_lines(f, source) > MAX_BODY_LINES}
    assert not long, long


def test_the_line_count_sees_code_and_skips_docstrings_and_comments():
    source = 'def f(x):\n    """Doc.\n\n    More."""\n    # why\n    y = x\n\n    return y\n'
    assert body_lines(ast.parse(source).body[0], source.splitlines()) == 2


@pytest.mark.parametrize("slug", SLUGS)
def test_no_module_level_tuning_constants(slug):
    """Module-level names may be type aliases only: no numbers (buffer sizes, cache budgets)."""
    for node in tree(slug).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            numbers = [c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant)
                       and isinstance(c.value, (int, float)) and not isinstance(c.value, bool)]
            assert not numbers, f"{slug}.py line {node.lineno}: module-level constant {numbers}"


@pytest.mark.parametrize("slug", SLUGS)
def test_standalone_imports_only(slug):
    """numpy and the stdlib's __future__: a learner can read the file top to bottom."""
    for node in ast.walk(tree(slug)):
        if isinstance(node, ast.ImportFrom):
            assert node.module in ("__future__", "numpy.lib.stride_tricks"), node.module
        elif isinstance(node, ast.Import):
            assert [a.name for a in node.names] == ["numpy"]


@pytest.mark.parametrize("slug", SLUGS)
def test_output_size_is_public_and_follows_the_spec_formula(slug):
    output_size = importlib.import_module(f"solutions.{slug}").output_size
    assert output_size(32, 3, 1, 1) == 32
    assert output_size(7, 3, 2) == 3  # floor: the last row is never read
    assert output_size(10, 4, padding=(1, 2)) == 10  # 'same' for an even kernel
    assert output_size(11, 3, dilation=2) == 7
    with pytest.raises(ValueError, match="output size"):
        output_size(2, 3, 2)


def test_variants_use_only_the_functions_a_reference_publishes():
    """A variant wraps the exercise's own functions (and output_size), never a reference's helpers:
    those are free to change shape as the model answers are rewritten."""
    public = {slug: {*exercises.resolve(slug).functions, "output_size"} for slug in SLUGS}
    for path in (ROOT / "grader" / "variants").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "solutions" for a in node.names), path.name
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "solutions":
                slug = node.module.removeprefix("solutions.")
                assert slug in public, (path.name, node.module)
                names = {a.name for a in node.names}
                assert names <= public[slug], (path.name, sorted(names - public[slug]))
