"""Building the C++ side for the tests: the library with its ctest suite, a CMake-only install,
and the example program against that install and against the installed wheel.

Each project is configured and built once per test session (session-scoped fixtures). The
library build lives under ``build/pytest-native`` in the source tree so that a second session only
recompiles what changed.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NATIVE_DIR = ROOT / "build" / "pytest-native"


def _tool(module_name, attribute, executable):
    """The pip-installed tool (from the test extra) if importable, else the one on PATH."""
    try:
        module = __import__(module_name)
        candidate = Path(getattr(module, attribute)) / executable
        if candidate.is_file():
            return str(candidate)
    except (ImportError, AttributeError):
        pass
    found = shutil.which(executable)
    if found is None:
        pytest.fail(
            f"{executable} is needed to build the C++ tests; install the test extra "
            "(pip install '.[test]')."
        )
    return found


def eigen_prefixes():
    """Prefixes holding Eigen's CMake package from the cmeel-eigen wheel, along sys.path."""
    return [
        str(Path(p) / "cmeel.prefix")
        for p in sys.path
        if (Path(p or ".") / "cmeel.prefix").is_dir()
    ]


class Tools:
    def __init__(self):
        self.cmake = _tool("cmake", "CMAKE_BIN_DIR", "cmake")
        self.ctest = str(Path(self.cmake).with_name("ctest"))
        self.ninja = _tool("ninja", "BIN_DIR", "ninja")
        self.jobs = str(os.cpu_count() or 2)

    def run(self, *args, cwd=None):
        """Runs a command; on failure the test fails with its output."""
        proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.fail(
                f"command failed ({proc.returncode}): {' '.join(map(str, args))}\n"
                f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
            )
        return proc

    def configure(self, source, build, *defines):
        return self.run(
            self.cmake,
            "-S",
            source,
            "-B",
            build,
            "-G",
            "Ninja",
            f"-DCMAKE_MAKE_PROGRAM={self.ninja}",
            "-DCMAKE_BUILD_TYPE=Release",
            *defines,
        )

    def build(self, build):
        return self.run(self.cmake, "--build", build, "--parallel", self.jobs)


def _cached_configure(tools, build_dir, *defines):
    """Configure into a cached folder; a cache CMake refuses (another CMake or generator, a moved
    tree) is started over once."""
    args = [
        tools.cmake,
        "-S",
        ROOT,
        "-B",
        build_dir,
        "-G",
        "Ninja",
        f"-DCMAKE_MAKE_PROGRAM={tools.ninja}",
        "-DCMAKE_BUILD_TYPE=Release",
        *defines,
    ]
    if build_dir.exists():
        proc = subprocess.run([str(a) for a in args], capture_output=True, text=True)
        if proc.returncode == 0:
            return
        shutil.rmtree(build_dir)
    tools.run(*args)


@pytest.fixture(scope="session")
def cmake_tools():
    return Tools()


@pytest.fixture(scope="session")
def native_build(cmake_tools):
    """The library and its C++ tests built without Python, then installed with CMake alone.

    Returns a dict with the build folder and the install prefix.
    """
    build_dir = NATIVE_DIR / "build"
    prefix = NATIVE_DIR / "prefix"
    prefix_path = ";".join(eigen_prefixes())
    # Warnings are errors here: the test command is where a new warning must fail.
    _cached_configure(
        cmake_tools,
        build_dir,
        "-DGAUSSMIX_BUILD_TESTS=ON",
        "-DGAUSSMIX_BUILD_PYTHON=OFF",
        "-DGAUSSMIX_INSTALL=ON",
        "-DGAUSSMIX_WERROR=ON",
        f"-DCMAKE_PREFIX_PATH={prefix_path}",
    )
    cmake_tools.build(build_dir)
    if prefix.exists():
        shutil.rmtree(prefix)
    cmake_tools.run(cmake_tools.cmake, "--install", build_dir, "--prefix", prefix)
    return {"build": build_dir, "prefix": prefix}


def build_example(tools, build_dir, prefix_path):
    """Configures and builds cpp/examples against the gaussmix found on prefix_path."""
    if build_dir.exists():
        shutil.rmtree(build_dir)
    tools.configure(ROOT / "cpp" / "examples", build_dir, f"-DCMAKE_PREFIX_PATH={prefix_path}")
    tools.build(build_dir)
    cli = build_dir / "gaussmix_cli"
    assert cli.is_file()
    return cli


@pytest.fixture(scope="session")
def cli_from_cmake_install(cmake_tools, native_build):
    """gaussmix_cli built against the CMake-only install. Only its prefix is given: the
    package's config must find the Eigen the library was built with on its own."""
    prefix_path = str(native_build["prefix"])
    return build_example(cmake_tools, NATIVE_DIR / "example-cmake-install", prefix_path)


@pytest.fixture(scope="session")
def cli_from_wheel(cmake_tools, tmp_path_factory):
    """gaussmix_cli built against the library inside the installed gaussmix package.

    Only the folder that ``python -m gaussmix --cmake-dir`` prints is given to CMake: the
    package's config must find Eigen (cmeel-eigen beside it) on its own.
    """
    proc = subprocess.run(
        [sys.executable, "-m", "gaussmix", "--cmake-dir"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        assert "carries no C++ library" in proc.stderr
        pytest.skip(
            "gaussmix is imported from the source tree, which carries no installed C++ "
            "library; these cases run against an installed wheel (pip install '.[test]')"
        )
    cmake_dir = proc.stdout.strip()
    import gaussmix

    assert cmake_dir == gaussmix.get_cmake_dir()
    return build_example(cmake_tools, tmp_path_factory.mktemp("example-wheel"), cmake_dir)


def run_cli(cli, *args, check=True):
    proc = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(
            f"gaussmix_cli {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}"
        )
    return proc


def parse_show(text):
    """The output of `gaussmix_cli show` as a dict of strings and float arrays."""
    out = {}
    for line in text.strip().splitlines():
        key, _, value = line.partition(" ")
        if "," in value or key in ("weights", "means", "covariances", "precisions_cholesky"):
            out[key] = [float(x) for x in value.split(",")]
        else:
            out[key] = value
    return out
