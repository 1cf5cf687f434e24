"""Model selection over all fourteen mclust models and k = 1..9 on 100,000 x 8 rows, default
restarts, 2 threads: gaussmix.select_model's time and choice, and R's Mclust() on the same data
side by side when Rscript with the mclust package is installed (Debian: r-base-core,
r-cran-mclust).

    python bench/bench_select.py             # the figures of bench/README.md
    python bench/bench_select.py --quick     # 5,000 rows, k = 1..3, no R
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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

sys.path.insert(0, HERE)
from _data import make_data  # noqa: E402

R_SCRIPT = """
suppressPackageStartupMessages(library(mclust))
X <- as.matrix(read.csv(commandArgs(TRUE)[1], header = FALSE))
t <- system.time(fit <- Mclust(X, G = 1:as.integer(commandArgs(TRUE)[2]), verbose = FALSE))
cat(t[["elapsed"]], fit$modelName, fit$G, fit$bic, "\\n")
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    rows, k_max = (5_000, 3) if args.quick else (100_000, 9)
    X = make_data(rows, 8, 4, seed=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = gaussmix.select_model(
            X, n_components=range(1, k_max + 1), covariance_types="all", random_state=0, n_jobs=2
        )
    seconds = time.perf_counter() - t0
    best = result.best_params_
    bic = float(result.table["bic"][result.best_index_])
    print(
        f"gaussmix.select_model: {seconds:.1f} s for {len(result.table)} fits "
        f"({rows} x 8); best {best['covariance_type']} k={best['n_components']}, "
        f"BIC {bic:.1f} (scikit-learn's sign)"
    )
    if args.quick or shutil.which("Rscript") is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.csv")
        np.savetxt(data, X, delimiter=",", fmt="%.17g")
        script = os.path.join(tmp, "select.R")
        with open(script, "w") as f:
            f.write(R_SCRIPT)
        proc = subprocess.run(["Rscript", script, data, str(k_max)], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"R's Mclust did not run: {proc.stderr.strip()[:300]}")
        return
    elapsed, model, k, mclust_bic = proc.stdout.split()
    print(
        f"R mclust Mclust():      {float(elapsed):.1f} s; best {model} k={k}, "
        f"BIC {-float(mclust_bic):.1f} in the same sign; gaussmix {float(elapsed) / seconds:.0f}x faster"
    )


if __name__ == "__main__":
    main()
