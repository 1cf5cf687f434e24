"""mclust's constrained models: the cost of an EM iteration of each against the full model's.

Config D (1M x 8, k = 8) from the same start (k-means responsibilities' M-step for each model),
tol=0 and a fixed number of iterations, 2 threads; the models are interleaved and medians kept.
The pass over the data is the full model's for every constrained model (they gather the same
scatter matrices); only the M-step differs, so the ratios measure the M-step's share.

    python bench/bench_mclust.py                  # the table of bench/README.md
    python bench/bench_mclust.py --prior          # MAP iterations, the models that take a prior
    python bench/bench_mclust.py --quick --json   # small sizes, machine-readable
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
try:  # an installed package (or one on PYTHONPATH) first
    import gaussmix
except ImportError:  # else the developer build next to the sources
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import gaussmix

sys.path.insert(0, HERE)
from _data import CONFIGS, QUICK_DIVISOR, REG_COVAR, make_data  # noqa: E402

_core = gaussmix._core
resolve_prior = gaussmix._priors.resolve_prior

MODELS = ("full", "EII", "EEI", "EVI", "EEV", "EVV", "VEI", "VEE", "VEV", "EVE", "VVE")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--prior", action="store_true", help="MAP EM under the default prior (its six models)"
    )
    args = p.parse_args(argv)
    m, n, k, _ = CONFIGS["D"]
    if args.quick:
        m //= QUICK_DIVISOR
    X = make_data(m, n, k, seed=0)
    labels = _core.kmeans(X, np.empty(0), k, 0, n_threads=args.threads).labels
    models = [m for m in MODELS if gaussmix._layout.layout(m).prior] if args.prior else MODELS
    starts, priors = {}, {}
    for model in models:
        kind = gaussmix._layout.layout(model).core_type
        stats = _core.moments_from_labels(X, np.empty(0), labels, k, kind, _core.PassOptions(2))
        priors[model] = None
        if args.prior:
            _, priors[model] = resolve_prior("default", X, np.empty(0), model, k)
        starts[model] = _core.maximize(stats, REG_COVAR, priors[model])
    times = {model: [] for model in models}
    for _ in range(args.repeats):
        for model in models:
            t0 = time.perf_counter()
            _core.run_em(
                X,
                np.empty(0),
                starts[model],
                0.0,
                REG_COVAR,
                args.iters,
                args.threads,
                -np.inf,
                None,
                priors[model],
            )
            times[model].append((time.perf_counter() - t0) / args.iters)
    full = statistics.median(times["full"])
    rows = [
        {
            "model": model,
            "s_per_iter": statistics.median(times[model]),
            "over_full": statistics.median(times[model]) / full,
        }
        for model in models
    ]
    if args.json:
        print(json.dumps({"config": "D", "rows": m, "prior": args.prior, "models": rows}, indent=2))
        return
    how = "MAP EM iteration (default prior)" if args.prior else "EM iteration"
    print(f"config D ({m} x {n}, k = {k}), {args.threads} threads, seconds per {how}:")
    for row in rows:
        print(f"  {row['model']:5s} {row['s_per_iter']:.4f}  {row['over_full']:.2f}x full")


if __name__ == "__main__":
    main()
