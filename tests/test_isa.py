"""Choice of the compiled core in dispatch builds (GAUSSMIX_DISPATCH=ON).

The selection logic is tested here on synthetic CPU feature sets. CI builds the ordinary
single-core extension, so a real dispatch build is exercised only when GAUSSMIX_TEST_DISPATCH=1
and the per-level modules have been built (see bench/README.md); that test reports a skip
otherwise.
"""

import importlib
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from gaussmix import _core, _isa

V3 = _isa.REQUIRED["x86_64_v3"]
V4 = _isa.REQUIRED["x86_64_v4"]


def test_levels_from_features():
    assert _isa.choose_level(frozenset({"sse2", "fpu"})) == "x86_64"
    assert _isa.choose_level(V3) == "x86_64_v3"
    assert _isa.choose_level(V4 | {"avx512vnni"}) == "x86_64_v4"
    # AVX-512F alone (e.g. without BW/VL, as on the first Xeon Phi) is not level 4.
    assert _isa.choose_level(V3 | {"avx512f", "avx512cd"}) == "x86_64_v3"
    # One missing v3 feature (FMA) drops to the baseline.
    assert _isa.choose_level(V3 - {"fma"}) == "x86_64"


def test_only_built_levels_are_chosen():
    assert _isa.choose_level(V4, available=("x86_64", "x86_64_v3")) == "x86_64_v3"
    assert _isa.choose_level(V4, available=("x86_64",)) == "x86_64"
    with pytest.raises(ImportError, match="no compiled gaussmix core"):
        _isa.choose_level(frozenset(), available=("x86_64_v3",))


def test_forced_level():
    assert _isa.choose_level(V4, forced="x86_64") == "x86_64"
    with pytest.raises(ImportError, match="lacks avx512"):
        _isa.choose_level(V3, forced="x86_64_v4")
    with pytest.raises(ImportError, match="not one of"):
        _isa.choose_level(V4, forced="avx9000")
    with pytest.raises(ImportError, match="no such core"):
        _isa.choose_level(V4, available=("x86_64",), forced="x86_64_v3")


def test_cpu_flags_parsing(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 fma\n\n"
        "processor\t: 1\nflags\t\t: fpu sse2 avx2 fma\n"
    )
    assert _isa.cpu_flags(str(info)) == frozenset({"fpu", "sse2", "avx2", "fma"})
    assert _isa.cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_compiled_core_shadows_the_stand_in():
    # In an ordinary build the extension module wins over the _core.py stand-in.
    if getattr(_core, "isa_level", None) is None:
        assert not _core.__file__.endswith(".py")
    else:
        assert _core.isa_level in _isa.LEVELS


def test_real_cpu_gets_a_level():
    assert _isa.choose_level(_isa.cpu_flags()) in _isa.LEVELS


@pytest.mark.skipif(
    os.environ.get("GAUSSMIX_TEST_DISPATCH") != "1",
    reason="dispatch build not requested (GAUSSMIX_TEST_DISPATCH=1)",
)
def test_every_runnable_level_gives_the_same_fit():
    levels = [
        lv
        for lv in _isa.LEVELS
        if importlib.util.find_spec(f"gaussmix._core_{lv}") is not None
        and _isa.REQUIRED[lv] <= _isa.cpu_flags()
    ]
    assert levels, "GAUSSMIX_TEST_DISPATCH=1 but no _core_<level> module was built"
    code = (
        "import numpy as np, gaussmix\n"
        "from gaussmix import _core\n"
        "X = np.random.RandomState(0).normal(size=(3000, 6)); X[:1500] += 5\n"
        "gm = gaussmix.GaussianMixture(3, random_state=0).fit(X)\n"
        "print(_core.isa_level, repr(gm.lower_bound_))\n"
    )
    bounds = {}
    for level in levels:
        env = dict(os.environ, GAUSSMIX_ISA=level)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout.split()
        assert out[0] == level
        bounds[level] = float(out[1])
    values = np.array(list(bounds.values()))
    # Different instruction sets round differently (FMA); the fits agree to rounding.
    np.testing.assert_allclose(values, values[0], rtol=1e-9)
