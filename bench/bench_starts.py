"""The starts: what the hierarchical start costs, and what the varied restarts of n_init > 1
cost against the k-means restarts of the same number.

On configs B and D (bench/_data.py), 2 threads:

- the hierarchical start alone (scaled SVD, the merge tree of a 2000-row subsample, the cut);
- the default fit (n_init=1: the k-means start, unchanged by the varied restarts);
- n_init=10 with the varied restarts (hc, then k-means on standardised and scaled-SVD
  coordinates in turn) against n_init=10 k-means starts all on standardised coordinates (the
  restarts before), each run repeated, interleaved, medians kept.

    python bench/bench_starts.py            # the table of bench/README.md
    python bench/bench_starts.py --quick    # small sizes (the smoke test)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
try:  # an installed package (or one on PYTHONPATH) first
    import gaussmix
except ImportError:  # else the developer build next to the sources
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import gaussmix

import gaussmix._gaussian_mixture as estimator  # noqa: E402
from gaussmix import _core, _hierarchical  # noqa: E402

sys.path.insert(0, HERE)
from _data import CONFIGS, QUICK_DIVISOR, make_data  # noqa: E402


def hc_start(X, k, threads):
    _hierarchical._TREES.clear()  # time the tree, not the cache
    return _hierarchical.initial_stats(X, np.empty(0), k, _core.CovarianceType.full, threads)


def fit(X, k, n_init, threads, varied=True):
    """One fit; varied=False makes every restart the k-means start on standardised data."""
    _hierarchical._TREES.clear()  # each fit makes its tree, as a first fit of the data does
    saved = estimator.GaussianMixture._start_method
    if not varied:
        estimator.GaussianMixture._start_method = lambda self, init: self.init_params
    try:
        gm = gaussmix.GaussianMixture(k, n_init=n_init, random_state=0, n_threads=threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm.fit(X)
        return gm.lower_bound_
    finally:
        estimator.GaussianMixture._start_method = saved


def timed(f, *args, **kwargs):
    t = time.perf_counter()
    out = f(*args, **kwargs)
    return time.perf_counter() - t, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--configs", default="BD")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    for name in args.configs:
        m, n, k, _ = CONFIGS[name]
        if args.quick:
            m //= QUICK_DIVISOR
        X = make_data(m, n, k, seed=0)
        times = {key: [] for key in ("hc", "default", "varied", "kmeans")}
        bounds = {}
        for _ in range(repeats):
            times["hc"].append(timed(hc_start, X, k, args.threads)[0])
            times["default"].append(timed(fit, X, k, 1, args.threads)[0])
            t, bounds["varied"] = timed(fit, X, k, 10, args.threads)
            times["varied"].append(t)
            t, bounds["kmeans"] = timed(fit, X, k, 10, args.threads, varied=False)
            times["kmeans"].append(t)
        med = {key: statistics.median(v) for key, v in times.items()}
        print(f"config {name} ({m} x {n}, k = {k}), {args.threads} threads, median seconds:")
        print(f"  hierarchical start (2000 rows)   {med['hc']:.3f}")
        print(f"  default fit (n_init=1)           {med['default']:.3f}")
        print(
            f"  n_init=10, varied restarts       {med['varied']:.3f}  "
            f"lower bound {bounds['varied']:.6f}"
        )
        print(
            f"  n_init=10, k-means restarts      {med['kmeans']:.3f}  "
            f"lower bound {bounds['kmeans']:.6f}"
        )
        print(f"  varied / k-means                 {med['varied'] / med['kmeans']:.2f}x")


if __name__ == "__main__":
    main()
