"""Missing values: what an EM iteration on incomplete data costs, and what the imputation gains.

1. Per EM iteration, from the same initial parameters (tol=0, fixed iterations): gaussmix on
   the complete data, gaussmix on the same data with a fraction of the cells hidden (NaN,
   missing completely at random), and the plain NumPy reference of incomplete-data EM in
   tests/missing_reference.py on a row subsample (both timed on that subsample, so the ratio
   compares like with like). Timings interleave the variants and keep medians.
2. Imputation error (RMSE on the hidden cells) of GaussianMixtureImputer against
   scikit-learn's SimpleImputer(mean) and IterativeImputer, on mixture draws and on the wine
   and diabetes data sets (standardised), 20% of the cells hidden.

    python bench/bench_missing.py                    # configs D and E, table
    python bench/bench_missing.py --quick --json     # small sizes, machine-readable
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
try:  # an installed package (or one on PYTHONPATH) first
    from gaussmix import GaussianMixtureImputer, _core
except ImportError:  # else the developer build next to the sources
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from gaussmix import GaussianMixtureImputer, _core

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from missing_reference import em_step  # noqa: E402

from _data import CONFIGS, QUICK_DIVISOR, REG_COVAR, initial_parameters, make_data  # noqa: E402

# Rows of the subsample the NumPy reference and gaussmix are both timed on, per config.
REFERENCE_ROWS = {"B": 20_000, "D": 100_000, "E": 2_000}


def core_mixture(cov_type, weights, means, covs):
    n = means.shape[1]
    return _core.Mixture.from_covariances(
        getattr(_core.CovarianceType, cov_type),
        weights,
        means,
        np.ascontiguousarray(covs.reshape(-1, n)),
    )


def hide_cells(X, fraction, seed):
    mask = np.random.default_rng(seed).random(X.shape) < fraction
    X_missing = X.copy()
    X_missing[mask] = np.nan
    return X_missing, mask


def timed(fn):
    gc.collect()
    time.sleep(0.25)  # let the BLAS threads of the previous call stop spinning
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def em_iteration_costs(name, args):
    m, n, k, cov_type = CONFIGS[name]
    if args.quick:
        m = max(m // QUICK_DIVISOR, 8 * k * n)
    X = make_data(m, n, k, args.seed)
    weights, means, covs = initial_parameters(X, k, cov_type, args.seed)
    mixture = core_mixture(cov_type, weights, means, covs)
    X_missing, mask = hide_cells(X, args.fraction, args.seed + 7)
    w = np.empty(0)

    def em(data, missing, iters):
        return _core.run_em(
            data, w, mixture, 0.0, REG_COVAR, iters, args.threads, -np.inf, None, None, missing
        )

    complete, incomplete = [], []
    for _ in range(args.repeats):  # interleaved
        complete.append(timed(lambda: em(X, False, args.iters)) / args.iters)
        incomplete.append(timed(lambda: em(X_missing, True, args.iters)) / args.iters)
    rows = min(REFERENCE_ROWS.get(name, 10_000), m)
    if args.quick:
        rows = min(rows, 500)
    sub = X_missing[:rows]
    full_covs = np.repeat(covs[None], k, axis=0) if covs.ndim == 2 else covs
    ours_sub, reference = [], []
    for _ in range(max(1, args.repeats // 2)):
        ours_sub.append(timed(lambda: em(sub, True, 1)))
        reference.append(
            timed(lambda: em_step(sub, weights, means, full_covs, cov_type, REG_COVAR))
        )
    patterns = len(np.unique(np.isnan(X_missing), axis=0))
    return {
        "config": name,
        "m": m,
        "n": n,
        "k": k,
        "covariance_type": cov_type,
        "missing_fraction": float(mask.mean()),
        "rows_with_missing": float(np.isnan(X_missing).any(axis=1).mean()),
        "patterns": patterns,
        "complete_s_per_iter": statistics.median(complete),
        "incomplete_s_per_iter": statistics.median(incomplete),
        "incomplete_over_complete": statistics.median(incomplete) / statistics.median(complete),
        "reference_rows": rows,
        "reference_s_per_iter": statistics.median(reference),
        "gaussmix_s_per_iter_on_those_rows": statistics.median(ours_sub),
        "reference_over_gaussmix": statistics.median(reference) / statistics.median(ours_sub),
    }


def imputation_errors(args):
    from sklearn.datasets import load_diabetes, load_wine
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, SimpleImputer
    from sklearn.preprocessing import StandardScaler

    rng = np.random.RandomState(args.seed)
    k, n, m = 4, 6, 400 if args.quick else 2000
    centres = rng.normal(scale=3, size=(k, n))
    labels = rng.randint(k, size=m)
    shapes = rng.normal(size=(k, n, n)) * 0.5 + np.eye(n) * 0.3
    mixture = centres[labels] + np.einsum("ij,ijl->il", rng.normal(size=(m, n)), shapes[labels])
    sets = [
        ("mixture draws (k=4)", mixture, 4),
        ("wine", StandardScaler().fit_transform(load_wine().data), 1),
        ("diabetes", StandardScaler().fit_transform(load_diabetes().data), 1),
    ]
    out = []
    for label, X, n_components in sets:
        X_missing, mask = hide_cells(X, 0.2, args.seed + 1)

        def rmse(filled, X=X, mask=mask):
            return float(np.sqrt(np.mean((X[mask] - filled[mask]) ** 2)))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            iterative = IterativeImputer(random_state=0, max_iter=30).fit_transform(X_missing)
        ours = GaussianMixtureImputer(n_components, n_init=3, max_iter=300, random_state=0)
        out.append(
            {
                "data": label,
                "shape": list(X.shape),
                "n_components": n_components,
                "simple_mean": rmse(SimpleImputer().fit_transform(X_missing)),
                "iterative": rmse(iterative),
                "gaussmix": rmse(ours.fit_transform(X_missing)),
            }
        )
    return out


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--configs", default="DE", help="configs to time, e.g. BDE")
    p.add_argument(
        "--fraction", type=float, default=0.1, help="share of cells hidden (default 0.1)"
    )
    p.add_argument("--iters", type=int, default=3, help="EM iterations per timing")
    p.add_argument("--repeats", type=int, default=3, help="timings per variant; the median is kept")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--quick", action="store_true", help=f"m divided by {QUICK_DIVISOR}: a smoke test"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    unknown = set(args.configs) - set(CONFIGS)
    if unknown:
        p.error(f"unknown configs {sorted(unknown)}; choose from {''.join(CONFIGS)}")
    if not 0.0 < args.fraction < 1.0:
        p.error("--fraction must lie between 0 and 1")
    result = {
        "em": [em_iteration_costs(name, args) for name in args.configs],
        "imputation": imputation_errors(args),
        "threads": args.threads,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        "| config | missing cells | rows with NaN | patterns | complete s/iter | incomplete s/iter "
        "| ratio | NumPy reference / gaussmix (rows) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in result["em"]:
        print(
            f"| {r['config']} ({r['m']:,} x {r['n']}, k={r['k']}) | {r['missing_fraction']:.1%} "
            f"| {r['rows_with_missing']:.1%} | {r['patterns']:,} | {r['complete_s_per_iter']:.4f} "
            f"| {r['incomplete_s_per_iter']:.4f} | {r['incomplete_over_complete']:.2f}x "
            f"| {r['reference_over_gaussmix']:.0f}x ({r['reference_rows']:,}) |"
        )
    print()
    print("| data | shape | SimpleImputer(mean) | IterativeImputer | GaussianMixtureImputer (k) |")
    print("|---|---|---|---|---|")
    for r in result["imputation"]:
        print(
            f"| {r['data']} | {r['shape'][0]} x {r['shape'][1]} | {r['simple_mean']:.3f} "
            f"| {r['iterative']:.3f} | {r['gaussmix']:.3f} ({r['n_components']}) |"
        )


if __name__ == "__main__":
    main()
