"""Smoke test of the benchmark script: it runs, its JSON has the documented fields, and both
libraries reach the same lower bound from the same start (no timing assertions)."""

import json
import math
import os
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("threadpoolctl")

# Slow: see conftest.py (`pytest -m "not slow"` skips them in the inner loop).
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "bench", "bench_em.py")

TIMED = [
    "gaussmix_s_per_iter",
    "sklearn_s_per_iter",
    "speedup",
    "gaussmix_x_floor",
    "sklearn_x_floor",
    "gaussmix_1thread_s_per_iter",
    "threads_gain",
    "gaussmix_f32_s_per_iter",
    "float32_gain",
    "predict_speedup",
    "score_samples_speedup",
]


def test_quick_json():
    out = subprocess.run(
        [
            sys.executable,
            SCRIPT,
            "--quick",
            "--json",
            "--repeats",
            "1",
            "--configs",
            "ACD",
            "--fit-configs",
            "D",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    report = json.loads(out)
    meta, rows = report["meta"], report["results"]
    assert meta["quick"] is True
    assert meta["gemm_gflops"]["float64"] > 0 and meta["gemm_gflops"]["float32"] > 0
    steal = meta["steal_fraction"]
    if os.path.exists("/proc/stat"):
        assert 0.0 <= steal <= 1.0
    else:
        assert steal is None
    assert [r["config"] for r in rows] == ["A", "C", "D"]
    for row in rows:
        for key in TIMED:
            assert math.isfinite(row[key]) and row[key] > 0, key
        assert row["gaussmix_mem_mb"] >= 0 and row["sklearn_mem_mb"] >= 0
        # Same start, same iterations: the same answer.
        assert row["same_lower_bound"], (row["lower_bound_gaussmix"], row["lower_bound_sklearn"])
        assert math.isclose(row["lower_bound_gaussmix"], row["lower_bound_sklearn"], rel_tol=1e-6)
        assert row["thread_count_identical"]
        assert row["float32_max_rel_diff"] < 1e-3
    fit = rows[-1]
    assert (
        fit["fit_gaussmix_s"] > 0 and fit["fit_sklearn_s"] > 0 and fit["fit_gaussmix_n_iter"] >= 1
    )
    assert "fit_gaussmix_s" not in rows[0]


def test_rejects_unknown_config():
    proc = subprocess.run(
        [sys.executable, SCRIPT, "--configs", "Z"], capture_output=True, text=True
    )
    assert proc.returncode != 0 and "unknown configs" in proc.stderr


def test_missing_values_benchmark_runs():
    script = os.path.join(ROOT, "bench", "bench_missing.py")
    out = subprocess.run(
        [sys.executable, script, "--quick", "--json", "--repeats", "1", "--iters", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(out.stdout)
    assert [row["config"] for row in result["em"]] == ["D", "E"]
    for row in result["em"]:
        assert 0.05 < row["missing_fraction"] < 0.15
        assert row["incomplete_s_per_iter"] > 0 and row["reference_s_per_iter"] > 0
    for row in result["imputation"]:
        assert row["gaussmix"] < row["simple_mean"]


@pytest.mark.distributed_cluster
def test_dask_benchmark_runs():
    script = os.path.join(ROOT, "bench", "bench_dask.py")
    out = subprocess.run(
        [sys.executable, script, "--quick", "--json", "--repeats", "1", "--iters", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(out.stdout)
    em = result["em"]
    assert em["chunks"] == 8 and em["bytes_per_iteration"] > 0
    for key in ("in_memory", "threaded", "cluster", "sklearn"):
        assert em[f"{key}_s_per_iter"] > 0
    assert result["memmap"]["n_iter"] >= 1


def test_mclust_benchmark_runs():
    script = os.path.join(ROOT, "bench", "bench_mclust.py")
    out = subprocess.run(
        [sys.executable, script, "--quick", "--json", "--repeats", "1", "--iters", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    rows = json.loads(out.stdout)["models"]
    assert [r["model"] for r in rows][0] == "full" and len(rows) == 11
    assert all(r["s_per_iter"] > 0 for r in rows)
    out = subprocess.run(
        [sys.executable, script, "--quick", "--json", "--repeats", "1", "--iters", "1", "--prior"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(out.stdout)
    assert result["prior"] is True
    models = [r["model"] for r in result["models"]]
    assert models == ["full", "EII", "EEI", "EVI", "EEV", "VEI", "VEV"]


def test_starts_benchmark_runs():
    script = os.path.join(ROOT, "bench", "bench_starts.py")
    out = subprocess.run(
        [sys.executable, script, "--quick", "--configs", "D"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert "hierarchical start (2000 rows)" in out.stdout
    assert "varied / k-means" in out.stdout
