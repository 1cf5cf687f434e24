"""The house style, checked where every change passes: ruff (lint and format) on the Python,
mypy on the package (with the compiled module typed by _core.pyi), clang-format on the C++.
The same tools run from .pre-commit-config.yaml before each commit."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_TREES = ["python", "tests", "bench", "tools", "docs"]

# Slow: see conftest.py (`pytest -m "not slow"` skips them in the inner loop).
pytestmark = pytest.mark.slow


def run(*args):
    proc = subprocess.run(
        [str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_lint():
    run(sys.executable, "-m", "ruff", "check", *PYTHON_TREES)


def test_ruff_format():
    run(sys.executable, "-m", "ruff", "format", "--check", *PYTHON_TREES)


def test_mypy():
    run(sys.executable, "-m", "mypy")


def cpp_files():
    return sorted(p for p in (ROOT / "cpp").rglob("*") if p.suffix in (".cpp", ".hpp"))


def test_clang_format():
    tool = shutil.which("clang-format", path=str(Path(sys.executable).parent)) or shutil.which(
        "clang-format"
    )
    if tool is None:
        pytest.fail("clang-format is not installed (it comes with the test extra)")
    run(tool, "--dry-run", "--Werror", *cpp_files())
