"""Initialisation on Dask arrays, as passes over the chunks (the data stay on the workers).

What each ``init_params`` costs, in passes over the data (each one Dask computation):

- ``'random_from_data'``: k rows drawn (uniformly, with the in-memory fit's random stream, so
  the same seeds; or with probability proportional to the weight, by the exponential keys of
  Efraimidis & Spirakis: one pass), then the k rows fetched: 1 pass (2 with weights).
- ``'k-means++'``: exact D^2 sampling, one pass per seed: k passes. The in-memory seeding also
  tries 2 + log k candidates per seed; here each seed is one draw.
- ``'kmeans'``: k-means|| seeding (Bahmani et al. 2012: 5 rounds, each drawing every row
  independently with probability min(1, 2k w d^2 / cost), 2 passes a round), the candidates
  weighted by the rows closest to them (1 pass) and reduced to k by the in-memory weighted
  k-means on the client; then Lloyd iterations, one pass each (at most 300, stopping when the
  centres move less than 1e-4 times the mean feature variance, as in memory), then 2 passes
  for the initial moments. An empty cluster moves to the row farthest from its centre.
- ``'random'``: random responsibilities drawn per chunk (a seed per chunk), 2 passes (the group
  means, then the moments about them).
- ``'hc'``: at most 2000 rows fetched to the client (all rows, or a uniform draw: the in-memory
  one without weights; with weights, among the rows of positive weight by uniform keys, one
  pass), agglomerated there as in memory: 1 pass (2 with weights).

With missing values every pass works on the chunk completed by the features' observed means,
as the in-memory fit does. All draws come from ``random_state``: the same seed gives the same
start for the same chunking.
"""

from __future__ import annotations

import numpy as np

from . import _core
from . import _hierarchical as hierarchical
from ._layout import layout

_INT32_MAX = np.iinfo(np.int32).max
_KMEANS_PARALLEL_ROUNDS = 5
_LLOYD_MAX_ITER = 300
_LLOYD_TOL = 1e-4


def _filled(x, means):
    """The chunk with each NaN replaced by its feature's observed mean (x's dtype); None for
    means (complete data) returns the chunk as it is, without looking for NaN."""
    if means is None:
        return x
    holes = np.isnan(x)
    if not holes.any():
        return x
    return np.ascontiguousarray(np.where(holes, means.astype(x.dtype), x))


def _rng(seed, *path):
    return np.random.default_rng([int(seed), *map(int, path)])


# ---------------------------------------------------------------- chunk tasks


def _closest(x, w, centers, origin):
    """Squared distance of every row to its closest centre (w only for the assignment's sums)."""
    if centers is None:
        return None
    return _core.assign_to_centers(x, w, centers, origin, 1).sq_distances


def _draw_in_chunk(x, w, index, means, centers, origin, seed, step):
    """(potential, row): the chunk's sum of w * d^2 (w alone without centres) and one of its rows
    drawn with probability proportional to that share, or None when the chunk has none."""
    x = _filled(x, means)
    share = np.ones(x.shape[0]) if w.size == 0 else w.copy()
    d = _closest(x, w, centers, origin)
    if d is not None:
        share *= d
    total = float(share.sum())
    if not total > 0:
        return (0.0, None)
    u = _rng(seed, step, index).uniform() * total
    i = min(int(np.searchsorted(np.cumsum(share), u, side="right")), x.shape[0] - 1)
    return (total, x[i].astype(np.float64))


def _pick_draw(draws, rng):
    """One row among the chunks' draws, each chunk with probability proportional to its potential."""
    potentials = np.array([p for p, _ in draws])
    if not potentials.sum() > 0:
        return None
    chosen = int(rng.choice(len(draws), p=potentials / potentials.sum()))
    return draws[chosen][1]


def _oversample(x, w, index, means, centers, origin, factor, seed, step):
    """Rows drawn independently with probability min(1, factor * w * d^2) (k-means||)."""
    x = _filled(x, means)
    d = _closest(x, w, centers, origin)
    p = np.minimum(1.0, factor * d * (1.0 if w.size == 0 else w))
    keep = _rng(seed, step, index).uniform(size=x.shape[0]) < p
    return x[keep].astype(np.float64)


def _assign(x, w, index, means, centers, origin):
    """Lloyd's sums for one chunk, with its weighted row farthest from its centre."""
    x = _filled(x, means)
    a = _core.assign_to_centers(x, w, centers, origin, 1)
    far = None
    if x.shape[0]:
        d = a.sq_distances * ((np.ones(x.shape[0]) if w.size == 0 else w) > 0)
        i = int(np.argmax(d))
        far = (float(d[i]), x[i].astype(np.float64))
    return {
        "sums": np.array(a.sums),
        "counts": np.array(a.counts),
        "inertia": a.inertia,
        "far": far,
    }


def _merge_assign(a, b):
    far = (
        a["far"]
        if b["far"] is None or (a["far"] is not None and a["far"][0] >= b["far"][0])
        else b["far"]
    )
    return {
        "sums": a["sums"] + b["sums"],
        "counts": a["counts"] + b["counts"],
        "inertia": a["inertia"] + b["inertia"],
        "far": far,
    }


def _label_moments(x, w, index, means, centers, origin, cov_type, shift):
    x = _filled(x, means)
    labels = _core.assign_to_centers(x, w, centers, origin, 1).labels
    k = centers.shape[0]
    return _core.moments_from_labels_about(x, w, labels, k, cov_type, shift, _core.PassOptions(1))


def _random_resp(rows, k, seed, index):
    resp = _rng(seed, index).uniform(size=(rows, k))
    return resp / resp.sum(axis=1)[:, np.newaxis]


def _resp_moments(x, w, index, means, k, seed, cov_type, shift):
    x = _filled(x, means)
    resp = _random_resp(x.shape[0], k, seed, index)
    return _core.moments_from_responsibilities_about(
        x, w, resp, cov_type, shift, _core.PassOptions(1)
    )


def _exp_keys(x, w, index, seed, k):
    """The chunk's k largest keys log(u) / w (Efraimidis & Spirakis) with their global indices."""
    u = _rng(seed, index).uniform(size=x.shape[0])
    with np.errstate(divide="ignore"):
        keys = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    top = np.argsort(-keys, kind="stable")[:k]
    return keys[top], top


def _positive_keys(x, w, index, seed, k):
    """The chunk's k largest uniform keys among its rows of positive weight, with their global
    indices and weights: the top keys over all chunks are a uniform draw of those rows."""
    u = _rng(seed, index).uniform(size=x.shape[0])
    keys = np.where(w > 0, u, -np.inf)
    top = np.argsort(-keys, kind="stable")[:k]
    return keys[top], top, w[top]


def _data_moments_chunk(x, w, index, means, has_nan):
    x = _filled(x, means if has_nan else None)
    labels = np.zeros(x.shape[0], dtype=np.int64)
    return _core.moments_from_labels_about(
        x, w, labels, 1, _core.CovarianceType.full, means[np.newaxis, :], _core.PassOptions(1)
    )


# ---------------------------------------------------------------- client side


def _fill_means(data):
    return data.mean if data.has_nan else None


def _seed_rows(data, k, random_state):
    """k seed rows for 'random_from_data'."""
    s = data.summary
    if not data.weighted or s["min_weight"] == s["max_weight"]:
        indices = random_state.choice(data.n_samples, size=k, replace=False)
    else:
        if s["positive"] < k:
            raise ValueError(
                f"init_params='random_from_data' needs at least n_components = {k} samples "
                f"with positive weight, got {s['positive']}."
            )
        seed = random_state.randint(_INT32_MAX)
        parts = _gather(data, _exp_keys, seed, k)
        keys = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] + data.starts[i] for i, p in enumerate(parts)])
        indices = rows[np.argsort(-keys, kind="stable")[:k]]
    order = np.argsort(indices)
    fetched = np.asarray(data.X[np.sort(indices)].compute(), dtype=np.float64)
    rows = np.empty_like(fetched)
    rows[order] = fetched
    if data.has_nan:
        rows = np.where(np.isnan(rows), data.mean, rows)
    return rows


def _hierarchical_rows(data):
    """The rows the hierarchical start agglomerates, and their weights (empty unweighted): as
    in memory, all rows with positive weight or a uniform draw of HC_ROWS of them (from the
    fixed seed). Unweighted, the draw is the in-memory one; weighted, it is made by keys per
    chunk (one pass)."""
    if not data.weighted:
        indices = hierarchical.subsample(data.n_samples)
        w_rows = np.empty(0)
    else:
        seed = hierarchical.SUBSAMPLE_SEED
        parts = _gather(data, _positive_keys, seed, hierarchical.HC_ROWS)
        keys = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] + data.starts[i] for i, p in enumerate(parts)])
        weights = np.concatenate([p[2] for p in parts])
        top = np.argsort(-keys, kind="stable")[: hierarchical.HC_ROWS]
        top = top[keys[top] > -np.inf]
        top = top[np.argsort(rows[top])]
        indices = rows[top]
        w_rows = np.ascontiguousarray(weights[top], dtype=np.float64)
    fetched = np.asarray(data.X[indices].compute(), dtype=np.float64)
    if data.has_nan:
        fetched = np.where(np.isnan(fetched), data.mean, fetched)
    return np.ascontiguousarray(fetched), w_rows


def _gather(data, func, *args):
    """func per chunk, the results as a list in chunk order."""
    import dask

    (out,) = dask.compute(data.map_chunks(func, *args))
    return list(out)


def _kmeans_plusplus_rows(data, k, seed):
    """k seeds by exact D^2 sampling, one pass each."""
    rng = _rng(seed, 0)
    means = _fill_means(data)
    origin = data.mean
    centers = None
    chosen = []
    for step in range(k):
        draws = _gather(data, _draw_in_chunk, means, centers, origin, seed, step)
        row = _pick_draw(draws, rng)
        if row is None:  # every row sits on a seed: a row drawn by weight alone
            row = _pick_draw(_gather(data, _draw_in_chunk, means, None, origin, seed, step), rng)
        chosen.append(row)
        centers = np.array(chosen)
    return centers


def _kmeans_parallel_seeds(data, k, seed):
    """k-means|| candidates, weighted, reduced to k centres on the client."""
    rng = _rng(seed, 0)
    means = _fill_means(data)
    origin = data.mean
    first = _pick_draw(_gather(data, _draw_in_chunk, means, None, origin, seed, 0), rng)
    candidates = first[np.newaxis, :]
    for r in range(_KMEANS_PARALLEL_ROUNDS):
        cost = data.reduce(_assign, means, candidates, origin, combine=_merge_assign)["inertia"]
        if not cost > 0:
            break
        drawn = _gather(data, _oversample, means, candidates, origin, 2.0 * k / cost, seed, r + 1)
        candidates = np.concatenate([candidates, *drawn])
    counts = data.reduce(_assign, means, candidates, origin, combine=_merge_assign)["counts"]
    if np.count_nonzero(counts) < k:
        return _kmeans_plusplus_rows(data, k, seed)
    km = _core.kmeans(
        np.ascontiguousarray(candidates), np.ascontiguousarray(counts), k, int(seed), n_threads=1
    )
    return np.array(km.centers)


def _lloyd(data, centers):
    """Lloyd iterations on the chunks; returns the final centres and their assignment sums."""
    means = _fill_means(data)
    origin = data.mean
    tol = _LLOYD_TOL * data.mean_variance
    for _ in range(_LLOYD_MAX_ITER):
        a = data.reduce(_assign, means, centers, origin, combine=_merge_assign)
        updated = centers.copy()
        filled = a["counts"] > 0
        updated[filled] = a["sums"][filled] / a["counts"][filled, np.newaxis] + origin
        empty = np.flatnonzero(~filled)
        if empty.size and a["far"] is not None:
            updated[empty[0]] = a["far"][1]
        shift = float(np.square(updated - centers).sum())
        centers = updated
        if shift <= tol:
            break
    return centers, data.reduce(_assign, means, centers, origin, combine=_merge_assign)


def _shift_of(structure, means, counts):
    if not structure.shared:
        return np.ascontiguousarray(means)
    total = counts.sum()
    centre = means.T @ counts / total if total > 0 else means[0]
    return np.ascontiguousarray(np.tile(centre, (means.shape[0], 1)))


def initial_stats(data, init_params, k, covariance_type, random_state):
    """The initial moments (SufficientStats) of one start on a DaskData."""
    structure = layout(covariance_type)
    cov_type = structure.core_type
    means = _fill_means(data)
    options = _core.PassOptions(1)
    if init_params in ("random_from_data", "k-means++"):
        if init_params == "random_from_data":
            rows = _seed_rows(data, k, random_state)
        else:
            if data.summary["positive"] < k:
                raise ValueError(
                    f"k-means++ needs at least k = {k} samples with positive weight, "
                    f"got {data.summary['positive']}"
                )
            rows = _kmeans_plusplus_rows(data, k, random_state.randint(_INT32_MAX))
        return _core.moments_from_labels(
            np.ascontiguousarray(rows),
            np.empty(0),
            np.arange(k, dtype=np.int64),
            k,
            cov_type,
            options,
        )
    if init_params == "hc":
        rows, w_rows = _hierarchical_rows(data)
        labels = hierarchical.labels(rows, w_rows, k, data.n_threads)
        return _core.moments_from_labels(rows, w_rows, labels, k, cov_type, options)
    if init_params == "kmeans":
        if data.summary["positive"] < k:
            raise ValueError(
                f"k-means++ needs at least k = {k} samples with positive weight, "
                f"got {data.summary['positive']}"
            )
        seed = random_state.randint(_INT32_MAX)
        centers, a = _lloyd(data, _kmeans_parallel_seeds(data, k, seed))
        group_means = centers.copy()
        filled = a["counts"] > 0
        group_means[filled] = a["sums"][filled] / a["counts"][filled, np.newaxis] + data.mean
        shift = _shift_of(structure, group_means, a["counts"])
        return data.reduce(_label_moments, means, centers, data.mean, cov_type, shift)
    if init_params != "random":
        raise ValueError(f"unknown init_params {init_params!r} for a Dask array")
    # 'random': the group means from a first pass, then the moments about them.
    seed = random_state.randint(_INT32_MAX)
    ref = np.ascontiguousarray(np.tile(data.mean, (k, 1)))
    first = data.reduce(_resp_moments, means, k, seed, _core.CovarianceType.spherical, ref)
    n_k = np.array(first.n_k)
    group_means = np.array(first.shift).copy()
    positive = n_k > 0
    group_means[positive] += np.array(first.s1)[positive] / n_k[positive, np.newaxis]
    shift = _shift_of(structure, group_means, n_k)
    return data.reduce(_resp_moments, means, k, seed, cov_type, shift)


def data_moments(data):
    """The prior's data mean and covariance (see _priors._data_moments), from one pass."""
    mean = np.ascontiguousarray(data.mean, dtype=np.float64)
    stats = data.reduce(_data_moments_chunk, mean, data.has_nan)
    cov = np.array(stats.s2)
    cov = np.tril(cov) + np.tril(cov, -1).T
    s1 = np.array(stats.s1)[0]
    cov = (cov - np.outer(s1, s1) / stats.weight_sum) / stats.weight_sum
    if data.has_nan:
        s = data.summary
        observed_var = s["obs_scatter"] / np.maximum(s["obs_weight"], np.finfo(np.float64).tiny)
        np.fill_diagonal(cov, np.maximum(observed_var, np.diag(cov)))
    return mean, cov
