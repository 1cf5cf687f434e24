"""Dask arrays: EM over row chunks where only the sufficient statistics travel.

Each EM iteration is one Dask computation: ``accumulate`` on every row chunk (on the workers,
the GIL released), a pairwise tree of ``SufficientStats.merge`` in a fixed order, and
``maximize`` on the client. The data and the responsibilities never leave the workers; what
comes back is the merged statistics, O(k n^2) numbers. The computations run on whatever
scheduler is active: a ``distributed.Client``'s cluster, or Dask's local threaded scheduler.

Dask is imported only when a Dask array is given, so gaussmix runs without it.
"""

from __future__ import annotations

import sys

import numpy as np

from . import _core
from . import _validation as v
from ._missing import check_observed_values

# Where a validation message says the bad values are.
_BAD_CHUNK = "chunk {index} (rows {start} to {stop})"


def is_dask_array(X):
    """Whether X is a dask.array.Array (without importing Dask when it is not loaded)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - only without the extra
        raise ImportError(
            "Dask arrays need Dask: pip install 'gaussmix[dask]' (dask[array] and distributed)."
        ) from None
    return dask, da


# Results merged by one task: a wide fan-in keeps the reduction to few tasks and few levels,
# each of which costs a scheduler round trip on a cluster.
_SPLIT_EVERY = 8


def _combine_all(combine, *parts):
    out = parts[0]
    for part in parts[1:]:
        out = combine(out, part)
    return out


def tree_reduce(items, combine, split_every=_SPLIT_EVERY):
    """Delayed reduction of `items` in a fixed order, groups of `split_every` merged left to
    right by one task each, so the rounding of the result does not depend on which worker
    finishes first."""
    dask, _ = _dask()
    merge = dask.delayed(_combine_all, pure=True)
    while len(items) > 1:
        groups = [items[i : i + split_every] for i in range(0, len(items), split_every)]
        items = [merge(combine, *group) if len(group) > 1 else group[0] for group in groups]
    return items[0]


def _add(a, b):
    return a + b


def _merge_summaries(a, b):
    out = {key: a[key] + b[key] for key in ("rows", "weight", "positive", "observed_rows")}
    out["has_nan"] = a["has_nan"] or b["has_nan"]
    out["max_weight"] = max(a["max_weight"], b["max_weight"])
    out["min_weight"] = min(a["min_weight"], b["min_weight"])
    # Per-feature observed weight, mean and scatter merged as in Chan et al.'s pairwise update.
    wa, wb = a["obs_weight"], b["obs_weight"]
    total = wa + wb
    safe = np.where(total > 0, total, 1.0)
    delta = b["obs_mean"] - a["obs_mean"]
    out["obs_weight"] = total
    out["obs_mean"] = a["obs_mean"] + delta * wb / safe
    out["obs_scatter"] = a["obs_scatter"] + b["obs_scatter"] + delta**2 * wa * wb / safe
    out["obs_count"] = a["obs_count"] + b["obs_count"]
    return out


# Rows summarised at a time, so that the temporaries of a large chunk stay a few MB.
_SUMMARY_ROWS = 65536


def _chunk_summary(x, w, allow_nan, index, start):
    """Validates one chunk (the in-memory messages, naming the chunk) and summarises it."""
    x = np.asarray(x)
    parts = [
        _block_summary(
            x[a : a + _SUMMARY_ROWS],
            None if w is None else np.asarray(w)[a : a + _SUMMARY_ROWS],
            allow_nan,
            index,
            start,
            start + x.shape[0],
        )
        for a in range(0, max(x.shape[0], 1), _SUMMARY_ROWS)
    ]
    return _combine_all(_merge_summaries, *parts)


def _block_summary(x, w, allow_nan, index, start, stop):
    where = _BAD_CHUNK.format(index=index, start=start, stop=stop)
    try:
        if allow_nan:
            check_observed_values(x, "X")
        else:
            v.check_range(x, "X")
        if w is not None:
            w = np.asarray(w, dtype=np.float64)
            if not np.isfinite(w).all():
                raise ValueError("sample_weight contains NaN or infinity.")
            if (w < 0).any():
                raise ValueError("sample_weight must be non-negative; negative weights were given.")
    except ValueError as exc:
        raise ValueError(f"{exc} (in {where})") from None
    ones = np.ones(x.shape[0]) if w is None else w
    observed = ~np.isnan(x) if allow_nan else np.ones(x.shape, dtype=bool)
    obs_w = observed * ones[:, np.newaxis]
    obs_weight = obs_w.sum(axis=0)
    safe = np.where(obs_weight > 0, obs_weight, 1.0)
    filled = np.where(observed, x, 0.0).astype(np.float64)
    obs_mean = (obs_w * filled).sum(axis=0) / safe
    obs_scatter = (obs_w * np.square(np.where(observed, filled - obs_mean, 0.0))).sum(axis=0)
    return {
        "rows": x.shape[0],
        "weight": float(ones.sum()),
        "positive": int(np.count_nonzero(ones > 0)),
        "max_weight": float(ones.max()) if ones.size else 0.0,
        "min_weight": float(ones.min()) if ones.size else np.inf,
        "observed_rows": int(np.count_nonzero(observed.any(axis=1))),
        "has_nan": bool(allow_nan and not observed.all()),
        "obs_weight": obs_weight,
        "obs_mean": obs_mean,
        "obs_scatter": obs_scatter,
        "obs_count": observed.sum(axis=0),
    }


def _as_chunk(x, dtype):
    return np.ascontiguousarray(x, dtype=dtype)


def _weights(w, scale):
    if w is None:
        return np.empty(0)
    w = np.ascontiguousarray(w, dtype=np.float64)
    return w if scale == 0 else np.ldexp(w, -scale)


def _accumulate(x, w, index, mixture, n_threads, missing):
    return _core.accumulate(x, w, mixture, _core.PassOptions(n_threads, missing))


def query_output(out, output):
    """The core's (m, k) or (m, 1) query result in the shape the estimator returns."""
    if output == "predict":
        return out[:, 0].astype(np.int64)
    return out if output == "predict_proba" else out[:, 0]


def _query_block(x, mixture, output, n_threads, missing, dtype):
    out = _core.log_prob(_as_chunk(x, dtype), mixture, output, n_threads, missing)
    return query_output(out, output)


class DaskData:
    """A Dask array of whole rows with its sample weights, validated by one pass over it.

    The pass checks every chunk as the in-memory fit checks X (NaN, infinity, magnitudes,
    weights) and sums what the fit needs from the data as a whole: rows, weights, and each
    feature's observed mean and variance.
    """

    def __init__(self, X, sample_weight, *, allow_nan, n_components, has_prior, n_threads):
        dask, da = _dask()
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2D Dask array (n_samples, n_features), got {X.ndim} dimension(s)."
            )
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must contain real numbers, got a Dask array of dtype {X.dtype}.")
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()  # e.g. from a dataframe: one pass to count rows
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})  # whole rows in every chunk
        self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.X = X
        n_samples, n_features = X.shape
        if n_features < 1:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        if n_samples < 2:
            raise ValueError(
                f"Found array with {n_samples} sample(s) (shape={X.shape}) while a minimum of 2 "
                "is required."
            )
        if n_samples < n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {n_components}, n_samples = {n_samples}"
            )
        self.weighted = sample_weight is not None
        if self.weighted:
            if np.isscalar(sample_weight):
                sample_weight = da.full(n_samples, float(sample_weight), chunks=(X.chunks[0],))
            elif not is_dask_array(sample_weight):
                sample_weight = da.from_array(np.asarray(sample_weight), chunks=(X.chunks[0],))
            if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
                raise ValueError(
                    f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},): "
                    "one weight per sample."
                )
            if sample_weight.dtype.kind not in "biuf":
                raise ValueError(f"sample_weight must be numeric, got dtype {sample_weight.dtype}.")
            sample_weight = sample_weight.rechunk((X.chunks[0],))
        self.x_blocks = list(X.to_delayed().ravel())
        self.w_blocks = (
            list(sample_weight.to_delayed().ravel())
            if self.weighted
            else [None] * len(self.x_blocks)
        )
        self.starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
        self.n_threads = n_threads
        summarize = dask.delayed(_chunk_summary, pure=True)
        tasks = [
            summarize(xb, wb, allow_nan, i, int(self.starts[i]))
            for i, (xb, wb) in enumerate(zip(self.x_blocks, self.w_blocks))
        ]
        (s,) = dask.compute(tree_reduce(tasks, _merge_summaries))
        self.summary = s
        if not s["weight"] > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one sample needs positive weight."
            )
        empty = np.flatnonzero(s["obs_count"] == 0)
        if empty.size:
            raise ValueError(
                f"Input X has no observed value in feature(s) {empty.tolist()}: every row is "
                "NaN there, so nothing can be learnt about it. Drop the column(s)."
            )
        if s["has_nan"] and s["observed_rows"] < n_components:
            raise ValueError(
                f"Input X has {s['observed_rows']} row(s) with any observed value, fewer than "
                f"n_components = {n_components}."
            )
        self.has_nan = s["has_nan"]
        # The in-memory fit's rescaling of extreme weights (see scale_sample_weight).
        self.weight_scale = 0
        if self.weighted:
            self.weight_scale = int(np.frexp(s["max_weight"])[1])
            if abs(self.weight_scale) <= v._SAFE_WEIGHT_EXPONENT:
                self.weight_scale = 0
            elif has_prior:
                v.scale_sample_weight(np.array([s["max_weight"]]), True)  # raises its message
        self.mean = s["obs_mean"]
        self.mean_variance = float(np.mean(s["obs_scatter"] / s["obs_weight"]))
        self.n_samples, self.n_features = n_samples, n_features

    @property
    def shape(self):
        return (self.n_samples, self.n_features)

    # ------------------------------------------------------------ chunk tasks

    def map_chunks(self, func, *args):
        """Delayed func(x, w, index, *args) per chunk: x C-contiguous in the fit's dtype, w the
        chunk's float64 weights with the fit's rescaling (empty without weights), index the
        chunk's number. A Mixture argument is shipped once per computation, not per task."""
        dask, _ = _dask()
        call = dask.delayed(_with_chunk, pure=True)
        args = [dask.delayed(a) if isinstance(a, _core.Mixture) else a for a in args]
        return [
            call(func, xb, wb, self.dtype, self.weight_scale, i, *args)
            for i, (xb, wb) in enumerate(zip(self.x_blocks, self.w_blocks))
        ]

    def reduce(self, func, *args, combine=_add):
        """Computes func per chunk and merges the results in a fixed order (tree_reduce)."""
        dask, _ = _dask()
        (out,) = dask.compute(tree_reduce(self.map_chunks(func, *args), combine))
        return out

    def accumulate(self, mixture, missing):
        """One E-step over every chunk: the merged SufficientStats."""
        return self.reduce(_accumulate, mixture, self.n_threads, missing)


def _with_chunk(func, x, w, dtype, scale, index, *args):
    return func(_as_chunk(x, dtype), _weights(w, scale), index, *args)


def run_em(data, mixture, *, tol, reg_covar, max_iter, prior, missing, start_bound, callback):
    """EM on a DaskData: the loop of the core's run_em (same lower bound, same stopping rule),
    one Dask computation per iteration. Returns (mixture, n_iter, converged, bound, bounds,
    unsettled), unsettled = (how many M-steps' inner iterations stopped at their cap, whether
    the last one's did)."""
    lower_bound = start_bound
    bounds = []
    converged = False
    n_iter = 0
    unsettled, last_capped = 0, False
    for n_iter in range(1, max_iter + 1):
        previous = lower_bound
        stats = data.accumulate(mixture, missing)
        if not stats.weight_sum > 0:
            raise ValueError("the total sample weight must be positive")
        log_prior = _core.log_prior(mixture, prior) if prior is not None else 0.0
        # previous: the iterative M-steps start from the E-step's parameters, as in the core.
        mixture, capped = _core.maximize_reporting(stats, reg_covar, prior, previous=mixture)
        unsettled += int(capped)
        last_capped = capped
        lower_bound = (stats.log_likelihood + log_prior) / stats.weight_sum
        bounds.append(lower_bound)
        change = lower_bound - previous
        if callback is not None:
            callback(n_iter, lower_bound, change)
        if abs(change) < tol:
            converged = True
            break
    return mixture, n_iter, converged, lower_bound, bounds, (unsettled, last_capped)


def query(X, mixture, output, n_threads, missing):
    """A lazy Dask array of one per-row query, one task per chunk."""
    _, da = _dask()
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    if output == "predict_proba":
        return X.map_blocks(
            _query_block,
            mixture,
            output,
            n_threads,
            missing,
            dtype,
            chunks=(X.chunks[0], (mixture.n_components,)),
            dtype=dtype,
        )
    return X.map_blocks(
        _query_block,
        mixture,
        output,
        n_threads,
        missing,
        dtype,
        drop_axis=1,
        dtype=np.int64 if output == "predict" else dtype,
    )
