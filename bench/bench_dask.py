"""Dask: what an EM iteration costs on Dask's threaded scheduler and on a LocalCluster, against
the in-memory fit and scikit-learn, and the memory a fit from a .npy memory map adds.

1. Per EM iteration on config D (1M x 8, k = 8, full) in 8 row chunks, from the same initial
   parameters (tol=0, a fixed number of iterations): gaussmix in memory (2 threads), gaussmix
   on a Dask array under the threaded scheduler, under a distributed.LocalCluster of 2 process
   workers with 1 thread each (the chunks persisted on the workers, as a cluster holds its
   data), and scikit-learn in memory. The variants are interleaved; medians are kept.
   Also the bytes one iteration sends: the pickled mixture to each chunk's task, the pickled
   statistics back from each.
2. A fit of a .npy file opened as a memory map (2 GB; --quick: 40 MB) on the threaded
   scheduler: the growth of the process's anonymous resident memory (RssAnon: the file's
   pages are the page cache's, not the process's), sampled every 10 ms during the fit.

    python bench/bench_dask.py                   # the figures of bench/README.md
    python bench/bench_dask.py --quick --json    # small sizes, machine-readable
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import tempfile
import threading
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
import dask  # noqa: E402
import dask.array as da  # noqa: E402
import distributed  # noqa: E402

from gaussmix import _dask  # noqa: E402

from _data import CONFIGS, QUICK_DIVISOR, REG_COVAR, initial_parameters, make_data  # noqa: E402


def _start(X, k):
    weights, means, covs = initial_parameters(X, k, "full", seed=0)
    precisions = np.linalg.inv(covs)
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def _per_iteration(fit, iters):
    t0 = time.perf_counter()
    fit(iters)
    return (time.perf_counter() - t0) / iters


def em_costs(args):
    m, n, k, cov_type = CONFIGS["D"]
    if args.quick:
        m //= QUICK_DIVISOR
    X = make_data(m, n, k, seed=0)
    start = _start(X, k)
    chunks = (m // args.chunks, n)
    kw = dict(covariance_type=cov_type, tol=0.0, reg_covar=REG_COVAR, **start)
    mixture = gaussmix.GaussianMixture(k, max_iter=0, **kw).fit(X)._mixture()

    def in_memory(iters):
        gaussmix.GaussianMixture(k, max_iter=iters, n_threads=2, **kw).fit(X)

    threaded_data = _dask.DaskData(
        da.from_array(X, chunks=chunks),
        None,
        allow_nan=False,
        n_components=k,
        has_prior=False,
        n_threads=1,
    )

    def dask_em(data):
        def run(iters):
            _dask.run_em(
                data,
                mixture,
                tol=0.0,
                reg_covar=REG_COVAR,
                max_iter=iters,
                prior=None,
                missing=False,
                start_bound=-np.inf,
                callback=None,
            )

        return run

    def sklearn(iters):
        from sklearn.mixture import GaussianMixture

        GaussianMixture(k, max_iter=iters, **kw).fit(X)

    times = {"in_memory": [], "threaded": [], "cluster": [], "sklearn": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            Xc = client.persist(da.from_array(X, chunks=chunks))
            distributed.wait(Xc)
            cluster_data = _dask.DaskData(
                Xc, None, allow_nan=False, n_components=k, has_prior=False, n_threads=1
            )
            threaded = dask_em(threaded_data)
            on_cluster = dask_em(cluster_data)
            for _ in range(args.repeats):
                times["in_memory"].append(_per_iteration(in_memory, args.iters))
                with dask.config.set(scheduler="threads"):
                    times["threaded"].append(_per_iteration(threaded, args.iters))
                with client.as_current(), dask.config.set(scheduler=client.get):
                    times["cluster"].append(_per_iteration(on_cluster, args.iters))
                times["sklearn"].append(_per_iteration(sklearn, max(1, args.iters // 2)))
    stats = gaussmix._core.accumulate(X[:10], np.empty(0), mixture, gaussmix._core.PassOptions(1))
    n_chunks = len(threaded_data.x_blocks)
    sent = n_chunks * (len(pickle.dumps(mixture)) + len(pickle.dumps(stats)))
    med = {key: statistics.median(v) for key, v in times.items()}
    return {
        "config": "D",
        "rows": m,
        "chunks": n_chunks,
        **{f"{key}_s_per_iter": value for key, value in med.items()},
        "threaded_over_in_memory": med["threaded"] / med["in_memory"],
        "cluster_over_in_memory": med["cluster"] / med["in_memory"],
        "sklearn_over_threaded": med["sklearn"] / med["threaded"],
        "sklearn_over_cluster": med["sklearn"] / med["cluster"],
        "bytes_per_iteration": sent,
    }


def _rss_anon():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


def memmap_memory(args):
    n, k = 16, 4
    total_bytes = 40e6 if args.quick else 2e9
    m = int(total_bytes // (8 * n))
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        path = os.path.join(tmp, "data.npy")
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(m, n))
        rng = np.random.default_rng(0)
        step = 1_000_000
        centres = rng.normal(scale=5.0, size=(k, n))
        for a in range(0, m, step):
            b = min(m, a + step)
            out[a:b] = centres[rng.integers(0, k, size=b - a)] + rng.normal(size=(b - a, n))
        out.flush()
        del out
        X = np.load(path, mmap_mode="r")
        Xd = da.from_array(X, chunks=(min(m, 500_000), n))
        baseline = _rss_anon()
        peak = [baseline]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], _rss_anon())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        t0 = time.perf_counter()
        with dask.config.set(scheduler="threads"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = gaussmix.GaussianMixture(k, max_iter=5, random_state=0).fit(Xd)
        elapsed = time.perf_counter() - t0
        done.set()
        sampler.join()
        del X, Xd
    return {
        "file_bytes": m * n * 8,
        "rows": m,
        "fit_s": elapsed,
        "n_iter": int(gm.n_iter_),
        "added_anon_rss_bytes": peak[0] - baseline,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    p.add_argument("--repeats", type=int, default=3, help="timings per variant; the median is kept")
    p.add_argument("--iters", type=int, default=6, help="EM iterations per timing")
    p.add_argument("--chunks", type=int, default=8, help="row chunks of config D")
    p.add_argument("--tmpdir", default=None, help="where the memory-mapped file is written")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    result = {"em": em_costs(args), "memmap": memmap_memory(args)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    em = result["em"]
    print(f"config D, {em['rows']} rows in {em['chunks']} chunks, seconds per EM iteration:")
    for key in ("in_memory", "threaded", "cluster", "sklearn"):
        print(f"  {key:10s} {em[key + '_s_per_iter']:.4f}")
    print(
        f"  threaded / in-memory {em['threaded_over_in_memory']:.2f}x, cluster / in-memory "
        f"{em['cluster_over_in_memory']:.2f}x; scikit-learn / threaded "
        f"{em['sklearn_over_threaded']:.1f}x, / cluster {em['sklearn_over_cluster']:.1f}x"
    )
    print(f"  bytes sent per iteration: {em['bytes_per_iteration']}")
    mm = result["memmap"]
    print(
        f"memory map of {mm['file_bytes'] / 1e9:.2f} GB: fit in {mm['fit_s']:.1f} s "
        f"({mm['n_iter']} iterations), anonymous memory added {mm['added_anon_rss_bytes'] / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
