"""Before/after benchmark of two builds of the compiled core, in one process, interleaved.

A kernel change is judged against the build before it on the same data, the same start and
the same minutes of a noisy shared machine: each round times one EM pass (accumulate, then
maximize) of every core in turn, rounds alternate which core goes first, and the medians are
compared. (Two builds of one pybind11 module cannot share a process, so each core lives in a
worker process of its own; only one of them runs at a time.) Shapes are the configs A-E of bench_em.py or any m,n,k,type given with --shape.

    python bench/bench_core_ab.py --before old/_core.so --after new/_core.so --configs ABCDE
    python bench/bench_core_ab.py --before old.so --after new.so --shape 50000,40,16,full \\
        --dtype float64 --threads 1 --rounds 9
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def load_core(path):
    spec = importlib.util.spec_from_file_location("_core", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def core_mixture(core, cov_type, weights, means, covs):
    n = means.shape[1]
    storage = {
        "full": lambda c: c.reshape(-1, n),
        "tied": lambda c: c,
        "diag": lambda c: c,
        "spherical": lambda c: c.reshape(-1, 1),
    }[cov_type](covs)
    return core.Mixture.from_covariances(
        getattr(core.CovarianceType, cov_type), weights, means, np.ascontiguousarray(storage)
    )


def worker(path, connection):
    """Loads one core; for each (shape, dtype, threads) it is sent, builds the data and answers
    every "time" with the seconds of one EM pass."""
    core = load_core(path)
    sys.path.insert(0, HERE)
    from _data import initial_parameters, make_data

    X = mixture = None
    what = "em"
    while True:
        message = connection.recv()
        if message is None:
            return
        if message[0] == "setup":
            _, m, n, k, cov_type, dtype, threads, what = message
            X64 = make_data(m, n, k, seed=0)
            X = np.ascontiguousarray(X64, dtype=dtype)
            mixture = core_mixture(core, cov_type, *initial_parameters(X64, k, cov_type, seed=0))
            one_pass(core, X, mixture, threads, what)  # warm-up: pages touched
            connection.send("ready")
        else:
            connection.send(one_pass(core, X, mixture, threads, what))


def one_pass(core, X, mixture, threads, what="em"):
    """Seconds of one EM pass (accumulate, then maximize) or of one query pass."""
    start = time.perf_counter()
    if what == "em":
        stats = core.accumulate(X, np.empty(0), mixture, core.PassOptions(threads))
        core.maximize(stats, 1e-6)
    else:
        core.log_prob(X, mixture, what, threads)
    return time.perf_counter() - start


def bench_shape(workers, m, n, k, cov_type, dtype, threads, rounds, what):
    for w in workers:
        w.send(("setup", m, n, k, cov_type, dtype, threads, what))
        w.recv()
    times = [[] for _ in workers]
    for r in range(rounds):
        order = range(len(workers)) if r % 2 == 0 else reversed(range(len(workers)))
        for i in order:
            workers[i].send(("time",))
            times[i].append(workers[i].recv())
    return [statistics.median(t) for t in times]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="path of the first compiled _core module")
    p.add_argument("--after", required=True, help="path of the second")
    p.add_argument("--configs", default="", help="bench_em.py configs, e.g. ABCDE")
    p.add_argument("--shape", action="append", default=[], help="m,n,k,covariance_type")
    p.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument(
        "--what",
        default="em",
        choices=["em", "predict", "score_samples", "predict_proba"],
        help="an EM pass (accumulate + maximize) or one of the per-row queries",
    )
    args = p.parse_args(argv)
    sys.path.insert(0, HERE)
    from _data import CONFIGS as configs

    context = multiprocessing.get_context("spawn")
    workers, processes = [], []
    for path in (args.before, args.after):
        parent, child = context.Pipe()
        process = context.Process(target=worker, args=(path, child), daemon=True)
        process.start()
        workers.append(parent)
        processes.append(process)
    shapes = [(name, *configs[name]) for name in args.configs]
    for text in args.shape:
        m, n, k, cov_type = text.split(",")
        shapes.append((f"{m}x{n} k={k}", int(m), int(n), int(k), cov_type))
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    print(f"{args.what}, {args.threads} thread(s), median of {args.rounds}")
    print(
        f"{'shape':<18} {'cov':<9} {'dtype':<8} {'before s':>9} {'after s':>9} {'after/before':>12}"
    )
    for name, m, n, k, cov_type in shapes:
        for dtype in dtypes:
            before, after = bench_shape(
                workers, m, n, k, cov_type, np.dtype(dtype), args.threads, args.rounds, args.what
            )
            print(
                f"{name:<18} {cov_type:<9} {dtype:<8} {before:9.4f} {after:9.4f} "
                f"{after / before:12.3f}",
                flush=True,
            )
    for w, process in zip(workers, processes):
        w.send(None)
        process.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
