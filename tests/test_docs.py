"""The documentation: every public function, class and method has a numpydoc docstring with an
example, every example runs (doctest), and the Sphinx site builds without a warning."""

import doctest
import inspect
import os
import subprocess
import sys

import pytest

import gaussmix
from gaussmix import plot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWN_CLASSES = (
    gaussmix.GaussianMixture,
    gaussmix.GaussianMixtureImputer,
    gaussmix.ModelSelectionResult,
    gaussmix.GaussianPrior,
)


def public_objects():
    objects = {name: getattr(gaussmix, name) for name in gaussmix.__all__ if name != "__version__"}
    objects.update({f"plot.{name}": getattr(plot, name) for name in plot.__all__})
    for cls in OWN_CLASSES:
        for name, member in vars(cls).items():
            # scikit-learn adds set_*_request methods to every estimator class; they are its own.
            if name.startswith("_") or (name.startswith("set_") and name.endswith("_request")):
                continue
            member = getattr(cls, name)
            if callable(member) or isinstance(vars(cls)[name], property):
                objects[f"{cls.__name__}.{name}"] = member
    return sorted(objects.items())


PUBLIC = public_objects()


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_numpydoc_docstring_with_an_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name} has no docstring"
    if isinstance(obj, property) or name.endswith("best_params_"):
        return  # attributes are described, not exemplified
    assert "Examples\n--------" in doc, f"{name} has no Examples section"
    assert ">>>" in doc


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_examples_run(name, obj):
    target = obj.fget if isinstance(obj, property) else obj
    tests = doctest.DocTestFinder(recurse=False).find(target, name, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"an example of {name} failed (see the output above)"


@pytest.mark.slow
def test_sphinx_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("numpydoc")
    env = dict(os.environ, MPLBACKEND="Agg")
    package_root = os.path.dirname(os.path.dirname(gaussmix.__file__))
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            os.path.join(ROOT, "docs"),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    html = tmp_path / "html"
    assert (html / "index.html").exists()
    assert (html / "api.html").read_text().count("gaussmix.GaussianMixture") > 0
    gallery = html / "auto_examples"
    assert any(p.suffix == ".png" for p in (html / "_images").iterdir()), "the gallery drew nothing"
    assert (gallery / "index.html").exists()


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_api_is_type_hinted(name, obj):
    """Every parameter and return of the public Python API is annotated (mypy checks them in
    tests/test_lint.py); the compiled SufficientStats is typed by _core.pyi instead."""
    if isinstance(obj, property) or name == "SufficientStats" or name.startswith("SufficientStats"):
        return
    sig = inspect.signature(obj)
    missing = [
        p.name
        for p in sig.parameters.values()
        if p.name not in ("self", "cls")
        and p.kind is not inspect.Parameter.VAR_KEYWORD
        and p.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"{name}: parameters without a type hint: {missing}"
    if not inspect.isclass(obj):
        assert sig.return_annotation is not inspect.Signature.empty, f"{name} has no return type"
