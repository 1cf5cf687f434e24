"""Choice of the compiled core for this CPU, for builds with GAUSSMIX_DISPATCH=ON.

Such a build ships one extension per x86-64 level (``_core_x86_64``, ``_core_x86_64_v3`` with
AVX2/FMA, ``_core_x86_64_v4`` with AVX-512) instead of one ``_core`` compiled for the build
machine. The level is chosen once, at import, from the features the operating system reports as
usable; ``GAUSSMIX_ISA`` (``x86_64``, ``x86_64_v3``, ``x86_64_v4``) overrides the choice.
"""

from __future__ import annotations

import os

LEVELS = ("x86_64_v4", "x86_64_v3", "x86_64")

# The features each level's compiler flag (-march=x86-64-v3 / -v4) lets the code use, in the
# spelling of /proc/cpuinfo. A CPU must report all of them for the level to run there.
REQUIRED = {
    "x86_64": frozenset(),
    "x86_64_v3": frozenset(
        {
            "avx",
            "avx2",
            "bmi1",
            "bmi2",
            "f16c",
            "fma",
            "movbe",
            "xsave",
            "abm",
            "sse4_1",
            "sse4_2",
            "ssse3",
            "popcnt",
            "cx16",
        }
    ),
}
REQUIRED["x86_64_v4"] = REQUIRED["x86_64_v3"] | {
    "avx512f",
    "avx512bw",
    "avx512cd",
    "avx512dq",
    "avx512vl",
}


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU feature flags the kernel reports (empty where it reports none)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def choose_level(flags, available=LEVELS, forced=None):
    """The best level among `available` whose required features are all in `flags`.

    `forced` (the GAUSSMIX_ISA value) wins when it names an available level that the CPU can
    run; naming one it cannot run raises ImportError rather than crash on an illegal instruction.
    """
    if forced:
        if forced not in REQUIRED:
            raise ImportError(f"GAUSSMIX_ISA={forced!r} is not one of {', '.join(LEVELS)}")
        if forced not in available:
            raise ImportError(f"GAUSSMIX_ISA={forced!r}: this build has no such core")
        if not REQUIRED[forced] <= flags:
            missing = sorted(REQUIRED[forced] - flags)
            raise ImportError(f"GAUSSMIX_ISA={forced!r}: this CPU lacks {', '.join(missing)}")
        return forced
    for level in LEVELS:
        if level in available and REQUIRED[level] <= flags:
            return level
    raise ImportError("no compiled gaussmix core runs on this CPU")


def load_core():
    """Imports and returns the best core module of a dispatch build."""
    import importlib
    import importlib.util

    available = tuple(
        level for level in LEVELS if importlib.util.find_spec(f"gaussmix._core_{level}") is not None
    )
    if not available:
        raise ImportError("gaussmix has neither a _core extension nor per-CPU-level cores")
    level = choose_level(cpu_flags(), available, os.environ.get("GAUSSMIX_ISA") or None)
    module = importlib.import_module(f"gaussmix._core_{level}")
    module.isa_level = level
    return module
