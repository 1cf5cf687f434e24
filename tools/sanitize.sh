#!/usr/bin/env bash
# Builds the core and the Python extension with AddressSanitizer + UndefinedBehaviorSanitizer in
# a build folder of its own and runs the Python test suite against that build; any sanitizer
# report fails the run.
#
#   tools/sanitize.sh [extra pytest arguments]
#
# Environment: PYTHON (default python3), GAUSSMIX_SANITIZE_DIR (default build/sanitize).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${GAUSSMIX_SANITIZE_DIR:-$root/build/sanitize}"
python="${PYTHON:-python3}"
cxx="${CXX:-g++}"
pkg="$build/site/gaussmix"
mkdir -p "$pkg"

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
# -O1 -g1: fast to compile, still line numbers in reports. Only the extension is built.
cmake -S "$root" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DCMAKE_CXX_COMPILER="$cxx" \
  -DGAUSSMIX_SANITIZE=ON -DGAUSSMIX_WERROR=ON -DGAUSSMIX_BUILD_PYTHON=ON -DGAUSSMIX_BUILD_TESTS=ON \
  -DGAUSSMIX_BUILD_EXAMPLES=OFF -DGAUSSMIX_INSTALL=OFF -DGAUSSMIX_NATIVE=OFF \
  -DGAUSSMIX_PYTHON_OUTPUT_DIR="$pkg" -DPython_EXECUTABLE="$(command -v "$python")" \
  -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)"
cmake --build "$build" --target _core gaussmix_tests

# The C++ unit tests first, instrumented the same way (no preload needed: the test program is
# itself built with the sanitizers).
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" ctest --test-dir "$build" --output-on-failure

# The package's Python files beside the instrumented module, so this build and no other is
# imported (PYTHONPATH comes before an installed gaussmix).
rm -f "$pkg"/*.py
cp "$root"/python/gaussmix/*.py "$pkg"/

# CPython itself is not instrumented: its runtime must be loaded first for ASan to intercept
# malloc, and libstdc++ with it so that exceptions thrown through the extension are seen.
# CPython keeps objects alive at exit on purpose, hence no leak detection.
asan="$("$cxx" -print-file-name=libasan.so)"
stdcxx="$("$cxx" -print-file-name=libstdc++.so)"
export LD_PRELOAD="$asan $stdcxx"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:exitcode=99:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98"
export PYTHONPATH="$build/site"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
cd "$root"
# The RSS test is deselected: ASan's quarantine holds freed memory on purpose, so resident
# memory grows under it by design. The native-build tests (C++ tests, CMake package, example
# program) are left out: they build uninstrumented programs, and the C++ tests ran above.
GAUSSMIX_EXPECTED="$pkg" "$python" - <<'PY'
import os, sys
import gaussmix
core = os.path.realpath(gaussmix._core.__file__)
expected = os.path.realpath(os.environ["GAUSSMIX_EXPECTED"])
print("sanitized module:", core)
sys.exit(0 if os.path.dirname(core) == expected else f"imported {core}, not the sanitized build")
PY
# The LocalCluster tests are left out too: a Dask worker process started under the ASan preload
# exits during its first gaussmix task without a sanitizer report, and its nanny cannot restart
# it, so those tests would wait forever. The same core functions run under ASan in the
# threaded-scheduler variants of the same tests.
# The full grid of mclust's reference fits (hundreds of fits to tol 1e-8 with ten restarts) is
# left out as well: its core cases (every model on iris, k <= 3) reach every code path it does.
# So are the benchmark scripts' smoke tests (test_bench.py, 100 s here): they check the scripts'
# arguments and output, and the core functions they call run under ASan in the other tests.
exec "$python" -m pytest -q -p no:cacheprovider -m "not distributed_cluster and not reference_grid" \
  --deselect tests/test_memory.py::test_repeated_fit_predict_does_not_grow_rss \
  --ignore tests/test_cpp.py --ignore tests/test_cmake_package.py --ignore tests/test_bench.py \
  --deselect tests/test_io.py::test_python_to_cpp --deselect tests/test_io.py::test_cpp_to_python "$@"
