"""Does every exercise folder keep the contract: metadata, statement, stub, reference, suite?"""

from __future__ import annotations

import ast
import importlib.util
import inspect

import pytest

from grader import exercises, suites
from tests.conftest import ROOT, SLUGS


def load_module(path):
    spec = importlib.util.spec_from_file_location(f"stub_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_is_the_five_slugs_in_order():
    """The order of exercises.md, from each exercise's `order`."""
    assert SLUGS == ("conv1d", "conv_forward", "conv_backward", "conv_strided_dilated", "pooling")


@pytest.mark.parametrize("slug", SLUGS)
def test_folder_has_its_files(slug):
    folder = ROOT / "exercises" / slug
    assert {"exercise.toml", "README.md", f"{slug}.py"} <= {p.name for p in folder.iterdir()}
    assert (ROOT / "solutions" / f"{slug}.py").is_file()
    assert (ROOT / "grader" / "suites" / f"{slug}.py").is_file()


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_matches_reference_signatures(slug):
    """Does each stub function have the reference's signature, a docstring and a bare raise?"""
    exercise = exercises.resolve(slug)
    stub = load_module(exercise.stub)
    reference = suites.get(slug).reference
    for name in exercise.functions:
        stub_fn, ref_fn = getattr(stub, name), getattr(reference, name)
        stub_params = [(p.name, p.default) for p in inspect.signature(stub_fn).parameters.values()]
        ref_params = [(p.name, p.default) for p in inspect.signature(ref_fn).parameters.values()]
        assert stub_params == ref_params
        assert stub_fn.__doc__ and "(" in stub_fn.__doc__, "docstring must state shapes"
        with pytest.raises(NotImplementedError):
            stub_fn(*[None] * len(stub_params))


@pytest.mark.parametrize("slug", SLUGS)
def test_stub_bodies_hold_no_code(slug):
    tree = ast.parse((ROOT / "exercises" / slug / f"{slug}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            assert len(body) == 1 and isinstance(body[0], ast.Raise)


def test_unknown_metadata_key_is_rejected(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "exercise.toml").write_text(
        'title = "t"\nfunctions = ["f"]\ncolour = "red"\n[points]\ncore = 100\n')
    with pytest.raises(exercises.ExerciseError, match="colour"):
        exercises.load(folder)
