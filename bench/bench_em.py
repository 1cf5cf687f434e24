"""Side-by-side EM benchmark: gaussmix against scikit-learn (and OpenCV/mlpack when importable).

Every library starts from the same initial parameters and runs a fixed number of EM iterations
with tol=0 in the same process, so seconds per iteration compare like with like. The machine's
matrix-product rate is measured in the same run to express each time as a multiple of the FLOP
floor. See bench/README.md for the columns.

    python bench/bench_em.py                 # configs A-E, table
    python bench/bench_em.py --quick --json  # small sizes, machine-readable
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import threading
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
try:  # an installed package (or one on PYTHONPATH) first
    from gaussmix import GaussianMixture, _core
except ImportError:  # else the developer build next to the sources
    for name in [m for m in sys.modules if m == "gaussmix" or m.startswith("gaussmix.")]:
        del sys.modules[name]
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
    from gaussmix import GaussianMixture, _core

from _data import CONFIGS, QUICK_DIVISOR, REG_COVAR, initial_parameters, make_data  # noqa: E402

# ---------------------------------------------------------------------------------- data & start


def core_mixture(cov_type, weights, means, covs):
    n = means.shape[1]
    storage = covs.reshape(-1, n) if cov_type in ("full", "tied", "diag") else covs.reshape(-1, 1)
    return _core.Mixture.from_covariances(
        getattr(_core.CovarianceType, cov_type), weights, means, np.ascontiguousarray(storage)
    )


# ---------------------------------------------------------------------------------- measuring


class PeakRSS:
    """Peak resident memory added inside a `with` block, in MB.

    Linux resets the process high-water mark when 5 is written to /proc/self/clear_refs; where
    that is not possible a sampling thread (1 ms) takes its place.
    """

    def __init__(self):
        self.added_mb = float("nan")

    @staticmethod
    def _status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024.0
        raise OSError(field)

    def __enter__(self):
        gc.collect()
        self._exact = False
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self._exact = True
        except OSError:
            pass
        self.before = self._status("VmRSS")
        self._peak = self.before
        self._stop = threading.Event()
        if not self._exact:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self._peak = max(self._peak, self._status("VmRSS"))
            time.sleep(0.001)

    def __exit__(self, *exc):
        if self._exact:
            peak = self._status("VmHWM")
        else:
            self._stop.set()
            self._thread.join()
            peak = self._peak
        self.added_mb = max(0.0, peak - self.before)
        return False


# Pause before each timing: after a BLAS call OpenBLAS keeps its worker threads spinning for about
# 0.1 s, and on 2 cores they take the CPU from whatever runs next (a 2 ms query measured 7 ms
# right after scikit-learn's). Both libraries get the same pause.
SETTLE_S = 0.25


class StolenTime:
    """Share of the machine's CPU time the hypervisor gave to other guests while a `with` block
    ran: the steal column of Linux's /proc/stat. On a shared virtual machine the timings of a run
    with more than a few percent are disturbed, both libraries' alike. None where /proc/stat or
    its steal column is missing."""

    @staticmethod
    def _counters():
        try:
            with open("/proc/stat") as f:
                fields = f.readline().split()
        except OSError:
            return None
        if len(fields) < 9 or fields[0] != "cpu":
            return None
        # user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is
        # already counted in user and nice.
        ticks = [int(v) for v in fields[1:9]]
        return ticks[7], sum(ticks)

    def __enter__(self):
        self.start = self._counters()
        self.fraction = None
        return self

    def __exit__(self, *exc):
        end = self._counters()
        if self.start is not None and end is not None and end[1] > self.start[1]:
            self.fraction = (end[0] - self.start[0]) / (end[1] - self.start[1])


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        gc.collect()
        time.sleep(SETTLE_S)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def thread_limit(threads):
    """Limits BLAS/OpenMP pools of numpy and scikit-learn to `threads`."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def gemm_rate(dtype, threads, repeats, size=1536):
    """Best-of-`repeats` numpy matmul rate in GFLOP/s with `threads` BLAS threads."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(size, size)).astype(dtype)
    b = rng.normal(size=(size, size)).astype(dtype)
    best = float("inf")
    with thread_limit(threads):
        a @ b
        for _ in range(max(3, repeats)):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 / best / 1e9


def floor_flops(m, n, k, cov_type):
    """Flops of the unavoidable products of one EM iteration (see bench/README.md)."""
    if cov_type in ("full", "tied"):
        return 4.0 * m * k * n * n
    # diag/spherical: E-step X^2 P^T and X (mu P)^T, M-step R^T X and R^T X^2: four m k n products.
    return 8.0 * m * k * n


# ---------------------------------------------------------------------------------- the libraries


def run_gaussmix(X, mixture, iters, threads):
    w = np.empty(0)
    return _core.run_em(X, w, mixture, 0.0, REG_COVAR, iters, threads, -np.inf)


def sklearn_model(cov_type, weights, means, covs):
    from sklearn.mixture import GaussianMixture as SkGM
    from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

    gm = SkGM(n_components=len(weights), covariance_type=cov_type, reg_covar=REG_COVAR)
    gm.weights_ = weights.copy()
    gm.means_ = means.copy()
    gm.covariances_ = covs.copy()
    gm.precisions_cholesky_ = _compute_precision_cholesky(covs, cov_type)
    return gm


def run_sklearn(X, start, cov_type, iters):
    """scikit-learn's own fit loop body (E-step, M-step) from the given start; returns the
    lower bound of the last iteration, as gaussmix reports it."""
    gm = sklearn_model(cov_type, *start)
    bound = None
    for _ in range(iters):
        bound, log_resp = gm._e_step(X)
        gm._m_step(X, log_resp)
    return float(bound), gm


def run_opencv(X, start, cov_type, iters):
    import cv2

    weights, means, covs = start
    em = cv2.ml.EM_create()
    em.setClustersNumber(len(weights))
    em.setCovarianceMatrixType(
        cv2.ml.EM_COV_MAT_GENERIC if cov_type == "full" else cv2.ml.EM_COV_MAT_DIAGONAL
    )
    em.setTermCriteria((cv2.TERM_CRITERIA_COUNT, iters, 0.0))
    cov_list = [np.diag(c) if cov_type == "diag" else c for c in covs]
    em.trainE(X, means, cov_list, weights)


def try_import(name):
    try:
        return __import__(name)
    except Exception:
        return None


# ---------------------------------------------------------------------------------- one config


def bench_config(name, m, n, k, cov_type, args, rates):
    X = make_data(m, n, k, seed=args.seed + ord(name))
    X32 = X.astype(np.float32)
    start = initial_parameters(X, k, cov_type, args.seed)
    mix = core_mixture(cov_type, *start)
    it, reps, thr = args.iters, args.repeats, args.threads
    row = {"config": name, "m": m, "n": n, "k": k, "covariance_type": cov_type, "iters": it}

    # gaussmix, float64, the benchmark's thread count; warm-up first (page faults, OpenMP pool).
    run_gaussmix(X, mix, 1, thr)
    row["gaussmix_s_per_iter"] = median_time(lambda: run_gaussmix(X, mix, it, thr), reps) / it
    with PeakRSS() as mem:
        res64 = run_gaussmix(X, mix, it, thr)
    row["gaussmix_mem_mb"] = mem.added_mb
    row["gaussmix_1thread_s_per_iter"] = median_time(lambda: run_gaussmix(X, mix, it, 1), reps) / it
    row["threads_gain"] = row["gaussmix_1thread_s_per_iter"] / row["gaussmix_s_per_iter"]
    res1 = run_gaussmix(X, mix, it, 1)
    row["thread_count_identical"] = bool(
        np.array_equal(np.asarray(res1.mixture.means), np.asarray(res64.mixture.means))
        and res1.lower_bound == res64.lower_bound
    )

    run_gaussmix(X32, mix, 1, thr)
    row["gaussmix_f32_s_per_iter"] = median_time(lambda: run_gaussmix(X32, mix, it, thr), reps) / it
    row["float32_gain"] = row["gaussmix_s_per_iter"] / row["gaussmix_f32_s_per_iter"]
    res32 = run_gaussmix(X32, mix, it, thr)
    row["float32_max_rel_diff"] = float(
        max(
            _rel(res32.mixture.means, res64.mixture.means),
            _rel(res32.mixture.covariances, res64.mixture.covariances),
            _rel(res32.mixture.weights, res64.mixture.weights),
        )
    )

    # scikit-learn, same start, same iterations, BLAS limited to the same threads.
    with thread_limit(thr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row["sklearn_s_per_iter"] = (
            median_time(lambda: run_sklearn(X, start, cov_type, it), reps) / it
        )
        with PeakRSS() as mem:
            sk_bound, sk_model = run_sklearn(X, start, cov_type, it)
        row["sklearn_mem_mb"] = mem.added_mb
    row["speedup"] = row["sklearn_s_per_iter"] / row["gaussmix_s_per_iter"]
    row["lower_bound_gaussmix"] = float(res64.lower_bound)
    row["lower_bound_sklearn"] = sk_bound
    row["same_lower_bound"] = bool(abs(sk_bound - res64.lower_bound) <= 1e-6 * abs(sk_bound) + 1e-9)

    flops = floor_flops(m, n, k, cov_type)
    row["floor_s_per_iter"] = flops / (rates["float64"] * 1e9)
    row["gaussmix_x_floor"] = row["gaussmix_s_per_iter"] / row["floor_s_per_iter"]
    row["sklearn_x_floor"] = row["sklearn_s_per_iter"] / row["floor_s_per_iter"]
    row["gaussmix_f32_x_floor"] = row["gaussmix_f32_s_per_iter"] / (
        flops / (rates["float32"] * 1e9)
    )

    # Queries on the fitted parameters of the same run. A query takes milliseconds, where one
    # burst of load on a shared machine moves a median of 3, so at least 7 timings each.
    ours = _fitted_estimator(res64.mixture, cov_type, k, thr)
    query_reps = max(reps, 7)
    with thread_limit(thr):
        for method in ("predict", "score_samples"):
            t_gm = median_time(lambda method=method: getattr(ours, method)(X), query_reps)
            t_sk = median_time(lambda method=method: getattr(sk_model, method)(X), query_reps)
            row[f"{method}_gaussmix_s"] = t_gm
            row[f"{method}_sklearn_s"] = t_sk
            row[f"{method}_speedup"] = t_sk / t_gm

    if name in args.fit_configs:
        _bench_default_fit(row, X, k, cov_type, args)

    if args.peers:
        _bench_peers(row, X, start, cov_type, args)
    return row


def _bench_default_fit(row, X, k, cov_type, args):
    """Default-settings fit end to end (k-means initialisation included), each library's own.

    Each fit is timed `--repeats` times and the median kept, like the per-iteration timings; the
    memory a fit adds is taken from the first (cold) fit of each library.
    """
    from sklearn.mixture import GaussianMixture as SkGM

    thr = args.threads
    ours = GaussianMixture(
        n_components=k, covariance_type=cov_type, random_state=args.seed, n_threads=thr
    )
    theirs = SkGM(n_components=k, covariance_type=cov_type, random_state=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with PeakRSS() as mem:
            ours.fit(X)
        row["fit_gaussmix_mem_mb"] = mem.added_mb
        with thread_limit(thr), PeakRSS() as mem:
            theirs.fit(X)
        row["fit_sklearn_mem_mb"] = mem.added_mb
        row["fit_gaussmix_s"] = median_time(lambda: ours.fit(X), args.repeats)
        with thread_limit(thr):
            row["fit_sklearn_s"] = median_time(lambda: theirs.fit(X), args.repeats)
    row["fit_gaussmix_n_iter"] = int(ours.n_iter_)
    row["fit_sklearn_n_iter"] = int(theirs.n_iter_)
    row["fit_speedup"] = row["fit_sklearn_s"] / row["fit_gaussmix_s"]


def _bench_peers(row, X, start, cov_type, args):
    it = args.iters
    if try_import("cv2") is not None and cov_type in ("full", "diag"):
        row["opencv_s_per_iter"] = (
            median_time(lambda: run_opencv(X, start, cov_type, it), args.repeats) / it
        )
    else:
        row["opencv_s_per_iter"] = None


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def _fitted_estimator(mixture, cov_type, k, threads):
    est = GaussianMixture(n_components=k, covariance_type=cov_type, n_threads=threads)
    est._set_mixture(mixture)
    est.n_features_in_ = mixture.n_features
    return est


# ---------------------------------------------------------------------------------- output

COLUMNS = [
    ("cfg", "config", "{}"),
    ("cov", "covariance_type", "{}"),
    ("gm s/it", "gaussmix_s_per_iter", "{:.4f}"),
    ("sk s/it", "sklearn_s_per_iter", "{:.4f}"),
    ("speed-up", "speedup", "{:.1f}x"),
    ("gm xfloor", "gaussmix_x_floor", "{:.1f}"),
    ("sk xfloor", "sklearn_x_floor", "{:.0f}"),
    ("gm MB", "gaussmix_mem_mb", "{:.1f}"),
    ("sk MB", "sklearn_mem_mb", "{:.0f}"),
    ("2thr/1thr", "threads_gain", "{:.2f}x"),
    ("f32 gain", "float32_gain", "{:.2f}x"),
    ("f32 rel", "float32_max_rel_diff", "{:.0e}"),
    ("predict", "predict_speedup", "{:.1f}x"),
    ("score", "score_samples_speedup", "{:.1f}x"),
    ("fit gm s", "fit_gaussmix_s", "{:.2f}"),
    ("fit sk s", "fit_sklearn_s", "{:.2f}"),
    ("fit x", "fit_speedup", "{:.1f}x"),
    ("fit MB gm/sk", None, None),
    ("same LB", "same_lower_bound", "{}"),
]


def format_table(rows):
    def cell(row, key, fmt, head):
        if key is None:
            if "fit_gaussmix_mem_mb" not in row:
                return "-"
            return f"{row['fit_gaussmix_mem_mb']:.0f}/{row['fit_sklearn_mem_mb']:.0f}"
        value = row.get(key)
        return "-" if value is None else fmt.format(value)

    table = [[h for h, _, _ in COLUMNS]]
    for row in rows:
        table.append([cell(row, key, fmt, h) for h, key, fmt in COLUMNS])
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--configs", default="ABCDE", help="which configs to run, e.g. BDE")
    p.add_argument(
        "--iters", type=int, default=None, help="EM iterations per timing (default 5, quick 2)"
    )
    p.add_argument(
        "--repeats", type=int, default=3, help="timings per measurement; the median is kept"
    )
    p.add_argument("--threads", type=int, default=2, help="threads for gaussmix and BLAS")
    p.add_argument(
        "--fit-configs",
        default="BD",
        help="configs that also time a default fit end to end ('' for none)",
    )
    p.add_argument(
        "--quick", action="store_true", help=f"m divided by {QUICK_DIVISOR}: a smoke test"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    unknown = set(args.configs) - set(CONFIGS)
    if unknown:
        p.error(f"unknown configs {sorted(unknown)}; choose from {''.join(CONFIGS)}")
    if args.iters is None:
        args.iters = 2 if args.quick else 5
    if args.iters < 1 or args.repeats < 1 or args.threads < 1:
        p.error("--iters, --repeats and --threads must be at least 1")
    if args.quick:  # a smoke test: its timings are not read, so no pauses either
        global SETTLE_S
        SETTLE_S = 0.0

    notes = []
    args.peers = []
    if try_import("cv2") is None:
        notes.append("OpenCV (cv2) not importable: skipped")
    else:
        args.peers.append("opencv")
    if try_import("mlpack") is None:
        notes.append("mlpack not importable: skipped")
    else:
        notes.append(
            "mlpack importable, but its Python binding cannot start EM from given "
            "parameters: not timed"
        )

    with StolenTime() as stolen:
        rates = {
            "float64": gemm_rate(np.float64, args.threads, args.repeats),
            "float32": gemm_rate(np.float32, args.threads, args.repeats),
        }
        rows = []
        for name in args.configs:
            m, n, k, cov = CONFIGS[name]
            if args.quick:
                # Enough rows per component and feature that no covariance is singular.
                m = max(m // QUICK_DIVISOR, 8 * k * n)
            rows.append(bench_config(name, m, n, k, cov, args, rates))
            if not args.json:
                print(f"# {name} done", file=sys.stderr, flush=True)

    import sklearn

    meta = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpu_count": os.cpu_count(),
        "threads": args.threads,
        "iters": args.iters,
        "repeats": args.repeats,
        "quick": args.quick,
        "gemm_gflops": rates,
        "steal_fraction": stolen.fraction,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "command": "python bench/bench_em.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "notes": notes,
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": rows}, indent=2))
        return
    print(
        f"# {meta['date_utc']} UTC, {meta['cpu_count']} CPUs, {args.threads} threads, "
        f"{args.iters} iterations x median of {args.repeats}, scikit-learn {sklearn.__version__}"
    )
    print(
        f"# GEMM rate: float64 {rates['float64']:.1f} GFLOP/s, float32 {rates['float32']:.1f} GFLOP/s"
    )
    if stolen.fraction is not None:
        print(
            f"# CPU time stolen by the hypervisor during the run: {100 * stolen.fraction:.1f}%"
            + (
                " (disturbed: compare ratios within this run only)"
                if stolen.fraction > 0.03
                else ""
            )
        )
    print(format_table(rows))
    for note in notes:
        print(f"# {note}")
    for row in rows:
        if row.get("opencv_s_per_iter"):
            print(f"# {row['config']}: OpenCV EM {row['opencv_s_per_iter']:.4f} s/iter")


if __name__ == "__main__":
    main()
