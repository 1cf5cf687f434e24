"""Bit-for-bit fingerprints of the compiled core, to prove a refactor changes no result.

``dump`` runs the core's passes (accumulate, the four per-row queries, the initialisation
moments, maximize) on a fixed grid of shapes, covariance types, precisions, offsets, sample
weights and thread counts, and the M-steps of all fourteen structures (maximum likelihood, and
MAP with the log-prior where a structure takes a prior), and saves every array to an .npz file. ``compare`` reports each
array of one dump that is not bit-identical in the other (with its largest relative
difference), so a kernel change can be checked against the build before it:

    python tools/core_fingerprint.py dump before.npz --core /path/to/old/_core.so
    python tools/core_fingerprint.py dump after.npz        # the gaussmix on sys.path
    python tools/core_fingerprint.py compare before.npz after.npz
"""

import argparse
import importlib.util
import sys

import numpy as np

TYPES = ("full", "tied", "diag", "spherical")
# mclust's constrained models: their own M-steps on the full model's statistics.
MCLUST_TYPES = ("EII", "EEI", "EVI", "EEV", "EVV", "VEI", "VEE", "VEV", "EVE", "VVE")
# The prior scale's form where it is not a matrix (a structure without a prior refuses any).
SCALE_FORMS = {"spherical": "scalar", "EII": "scalar"} | dict.fromkeys(
    ("diag", "EEI", "EVI", "VEI"), "diagonal"
)
# (rows, features, components): few-feature loops, fused kernels at and past register widths,
# the fused diag queries on both sides of 16 components, pruned queries from 32 features.
SHAPES = [
    (700, 1, 3),
    (900, 2, 5),
    (1100, 3, 4),
    (1500, 4, 17),
    (1300, 5, 3),
    (2100, 8, 16),
    (1700, 16, 9),
    (900, 17, 2),
    (1200, 33, 6),
    (1500, 40, 16),
    (1100, 64, 12),
    (600, 96, 5),
    (5000, 6, 40),
]


def load_core(path):
    if path is None:
        from gaussmix import _core

        return _core
    spec = importlib.util.spec_from_file_location("_core", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mixture_for(core, X, k, covariance_type, rng):
    """A rough mixture about the data: k random rows as means, scaled data covariances."""
    m, n = X.shape
    means = X[rng.choice(m, k, replace=False)].astype(np.float64)
    weights = rng.uniform(0.5, 1.5, k)
    weights /= weights.sum()
    cov = np.cov(X.T.astype(np.float64)).reshape(n, n) + 0.1 * np.eye(n)
    scales = rng.uniform(0.3, 1.0, k)
    if covariance_type == "full":
        storage = np.vstack([cov * s for s in scales])
    elif covariance_type == "tied":
        storage = cov * scales[0]
    elif covariance_type == "diag":
        storage = np.outer(scales, np.diag(cov))
    else:
        storage = (scales * np.mean(np.diag(cov))).reshape(k, 1)
    kind = getattr(core.CovarianceType, covariance_type)
    return core.Mixture.from_covariances(kind, weights, means, np.ascontiguousarray(storage))


def prior_for(core, covariance_type, n, rng):
    A = rng.normal(size=(n, n))
    matrix = A @ A.T + n * np.eye(n)
    form = SCALE_FORMS.get(covariance_type, "matrix")
    scale = {
        "matrix": matrix,
        "diagonal": np.diag(matrix)[None, :],
        "scalar": np.array([[np.trace(matrix) / n]]),
    }[form]
    return core.Prior(
        weight_concentration=1.5,
        mean=rng.normal(size=n),
        mean_precision=0.3,
        degrees_of_freedom=n + 1.5 if form == "matrix" else 2.5,
        scale=np.ascontiguousarray(scale),
    )


def dump_m_steps(core, X, w, resp, tag, out):
    """Every structure's M-step on the same responsibilities: maximum likelihood, then MAP."""
    n = X.shape[1]
    for cov_type in TYPES + MCLUST_TYPES:
        kind = getattr(core.CovarianceType, cov_type)
        st = core.moments_from_responsibilities(X, w, resp, kind, core.PassOptions(1))
        prior = prior_for(core, cov_type, n, np.random.RandomState(n))
        for how, arguments in (("ml", ()), ("map", (prior,))):
            t = f"{cov_type}/{tag}/mstep/{how}"
            try:
                new = core.maximize(st, 1e-6, *arguments)
            except ValueError as exc:  # a degenerate M-step or a refused prior is a result too
                out[f"{t}/error"] = np.array(str(exc))
                continue
            out[f"{t}/means"] = np.array(new.means)
            out[f"{t}/cov"] = np.array(new.covariances)
            if arguments:
                out[f"{t}/log_prior"] = np.array([core.log_prior(new, prior)])


def data_for(m, n, k, seed, offset):
    rng = np.random.RandomState(seed)
    centres = rng.uniform(-6, 6, size=(k, n)) + offset
    labels = rng.randint(k, size=m)
    A = rng.normal(size=(n, n)) * 0.5
    return centres[labels] + rng.normal(size=(m, n)) @ A


def cases():
    for m, n, k in SHAPES:
        for offset in (0.0, 1e4):
            for weighted in (False, True):
                if offset and weighted:
                    continue
                yield m, n, k, offset, weighted


def dump(core, path):
    out = {}
    for m, n, k, offset, weighted in cases():
        X64 = data_for(m, n, k, seed=m + n + k, offset=offset)
        rng = np.random.RandomState(n * 100 + k)
        w = rng.uniform(0, 3, m) if weighted else np.empty(0)
        if weighted:
            w[::7] = 0.0
        labels = rng.randint(k, size=m).astype(np.int64)
        resp = rng.uniform(size=(m, k))
        if not offset:
            dump_m_steps(core, X64, w, resp, f"m{m}n{n}k{k}/w{int(weighted)}", out)
        for dtype in (np.float64, np.float32):
            X = np.ascontiguousarray(X64, dtype=dtype)
            for cov_type in TYPES:
                tag = (
                    f"{cov_type}/{np.dtype(dtype).name}/m{m}n{n}k{k}/off{offset:g}/w{int(weighted)}"
                )
                mix = mixture_for(core, X64, k, cov_type, np.random.RandomState(k))
                kind = getattr(core.CovarianceType, cov_type)
                for threads in (1, 2, 3):
                    opts = core.PassOptions(threads)
                    st = core.accumulate(X, w, mix, opts)
                    t = f"{tag}/t{threads}"
                    for field in ("n_k", "s1", "s2", "shift"):
                        out[f"{t}/acc/{field}"] = np.array(getattr(st, field))
                    out[f"{t}/acc/ll"] = np.array([st.log_likelihood, st.weight_sum])
                    if threads == 1:
                        try:
                            new = core.maximize(st, 1e-6)
                        except ValueError as exc:  # a degenerate M-step is a result too
                            out[f"{t}/max/error"] = np.array(str(exc))
                        else:
                            out[f"{t}/max/means"] = np.array(new.means)
                            out[f"{t}/max/cov"] = np.array(new.covariances)
                            out[f"{t}/max/pc"] = np.array(new.precisions_cholesky)
                    for what in ("weighted_log_prob", "predict_proba", "score_samples", "predict"):
                        out[f"{t}/q/{what}"] = np.array(core.log_prob(X, mix, what, threads))
                    if threads != 2:
                        continue
                    if cov_type == "full":  # k-means does not depend on the type
                        km = core.kmeans(X, w, k, 7, n_threads=threads)
                        out[f"{t}/kmeans/centers"] = np.array(km.centers)
                        out[f"{t}/kmeans/labels"] = np.array(km.labels)
                        out[f"{t}/kmeans/inertia"] = np.array([km.inertia, km.n_iter])
                    for name, st in (
                        ("labels", core.moments_from_labels(X, w, labels, k, kind, opts)),
                        ("resp", core.moments_from_responsibilities(X, w, resp, kind, opts)),
                    ):
                        for field in ("n_k", "s1", "s2", "shift"):
                            value = np.array(getattr(st, field))
                            if field == "s2" and cov_type in ("full", "tied"):
                                # Only the lower triangles are the statistics' contract.
                                value = np.stack([np.tril(b) for b in value.reshape(-1, n, n)])
                            out[f"{t}/{name}/{field}"] = value
    np.savez_compressed(path, **out)
    print(f"{len(out)} arrays written to {path}")


def compare(a_path, b_path, show):
    a, b = np.load(a_path), np.load(b_path)
    keys = sorted(set(a.files) | set(b.files))
    differ = []
    for key in keys:
        if key not in a.files or key not in b.files:
            differ.append((key, "missing in " + ("first" if key not in a.files else "second")))
            continue
        x, y = a[key], b[key]
        if x.shape != y.shape:
            differ.append((key, f"shape {x.shape} vs {y.shape}"))
        elif x.dtype.kind not in "fc":
            if not np.array_equal(x, y):
                differ.append((key, f"{x} vs {y}"))
        elif not np.array_equal(x, y, equal_nan=True):
            scale = np.maximum(np.abs(x), np.abs(y))
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.where(scale > 0, np.abs(x - y) / scale, 0.0)
            differ.append((key, f"max rel diff {np.nanmax(rel):.3g}"))
    print(f"{len(keys)} arrays compared, {len(differ)} differ")
    for key, why in differ[:show]:
        print(f"  {key}: {why}")
    return 1 if differ else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("path")
    d.add_argument("--core", help="path of a compiled _core module to load instead of gaussmix's")
    c = sub.add_parser("compare")
    c.add_argument("first")
    c.add_argument("second")
    c.add_argument("--show", type=int, default=40)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(load_core(args.core), args.path)
        return 0
    return compare(args.first, args.second, args.show)


if __name__ == "__main__":
    sys.exit(main())
