"""The specialised kernels of the fused pass (few features, the fused full-covariance kernels,
diag/spherical by products) against each other, against float64, far from the origin, at extreme
scales, and across thread counts."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import GaussianMixture, _core

# (n_features, n_components): few features, one group, several groups of components.
SHAPES = [(2, 3), (8, 4), (40, 14)]


def separated_clusters(n_features, n_components, n_per=400, offset=0.0, seed=0, spread=1.0):
    """Well-separated clusters (centres ~30 spreads apart) with correlated shapes."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=30.0 * spread, size=(n_components, n_features))
    parts = []
    for c in range(n_components):
        shape = (np.eye(n_features) + 0.3 * rng.normal(size=(n_features, n_features))) * spread
        parts.append(centres[c] + rng.normal(size=(n_per, n_features)) @ shape)
    X = np.vstack(parts) + offset
    return X, centres + offset


def fit_from(X, means, covariance_type, reg_covar=1e-6, n_threads=None, max_iter=8):
    n_components, n_features = means.shape
    spread = X.std(axis=0).mean()
    precisions = {
        "full": np.repeat(np.eye(n_features)[None] / spread**2, n_components, axis=0),
        "tied": np.eye(n_features) / spread**2,
        "diag": np.full((n_components, n_features), 1.0 / spread**2),
        "spherical": np.full(n_components, 1.0 / spread**2),
    }[covariance_type]
    gm = GaussianMixture(
        n_components,
        covariance_type=covariance_type,
        tol=0,
        max_iter=max_iter,
        reg_covar=reg_covar,
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=means,
        precisions_init=precisions,
        n_threads=n_threads,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gm.fit(X)


@pytest.mark.parametrize("offset", [1e4, 1e5, 1e6])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("shape", SHAPES[:2])
def test_float32_far_from_origin_matches_float64(shape, covariance_type, offset):
    n_features, n_components = shape
    X, centres = separated_clusters(n_features, n_components, offset=offset, seed=1)
    X32 = X.astype(np.float32)
    # The float64 fit sees the same (float32-rounded) values, so only the arithmetic differs.
    X64 = X32.astype(np.float64)
    start = centres + 2.0
    a = fit_from(X32, start, covariance_type)
    b = fit_from(X64, start, covariance_type)
    spread = 1.0
    assert_allclose(a.weights_, b.weights_, rtol=1e-4)
    assert np.max(np.abs(a.means_ - b.means_)) <= 1e-4 * spread
    assert_allclose(a.covariances_, b.covariances_, rtol=1e-4, atol=1e-4 * spread**2)
    assert a.lower_bound_ == pytest.approx(b.lower_bound_, rel=1e-4)


@pytest.mark.parametrize("scale", [1e-150, 1e150])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
@pytest.mark.parametrize("shape", SHAPES[:2])
def test_extreme_scales_give_the_scaled_fit(shape, covariance_type, scale):
    n_features, n_components = shape
    X, centres = separated_clusters(n_features, n_components, n_per=200, seed=2)
    ref = fit_from(X, centres + 1.0, covariance_type, reg_covar=0.0)
    got = fit_from(X * scale, (centres + 1.0) * scale, covariance_type, reg_covar=0.0)
    assert_allclose(got.means_ / scale, ref.means_, rtol=1e-9, atol=1e-9)
    assert_allclose(got.covariances_ / scale**2, ref.covariances_, rtol=1e-8)
    assert_allclose(got.weights_, ref.weights_, rtol=1e-10)
    n = X.shape[1]
    # The per-sample log-likelihood moves by -n log(scale).
    assert got.lower_bound_ == pytest.approx(ref.lower_bound_ - n * np.log(scale), rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("shape", SHAPES)
def test_every_path_is_thread_count_independent(shape, covariance_type, dtype):
    n_features, n_components = shape
    n_per = max(1500, 60000 // n_components // max(1, n_features // 8))
    X, centres = separated_clusters(n_features, n_components, n_per=n_per, seed=3, spread=3.0)
    X = X.astype(dtype)
    # Overlapping start so that responsibilities are genuinely soft.
    start = centres * 0.05
    # reg_covar keeps a component that starts with few samples in 40 dimensions regular in float.
    fits = [
        fit_from(X, start, covariance_type, reg_covar=1e-2, n_threads=t, max_iter=3)
        for t in (1, 2, 3)
    ]
    for other in fits[1:]:
        assert_array_equal(other.means_, fits[0].means_)
        assert_array_equal(other.covariances_, fits[0].covariances_)
        assert other.lower_bound_ == fits[0].lower_bound_
    probs = [f.predict_proba(X[:300]) for f in fits]
    assert_array_equal(probs[0], probs[1])


# Every compiled few-feature size (1 to 4), and more than 16 components (the responsibility sums
# without a compiled row length); 301 rows per component leave a partial group of rows. From 5
# features on the fused kernels run in chunks of whole, half and quarter registers and single
# components: (8, 4), (22, 9), (32, 12), and (16, 37), which takes every chunk width in float32
# and float64 alike. The moment tiles come in panels of up to 6 features and 4 rows: (33, 5) and
# (40, 14) leave partial panels and tiles. (100, 17) reads each whole register's factors in several slices (more than 256 KiB
# of them), in both precisions.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "shape", SHAPES + [(1, 2), (3, 18), (4, 5), (22, 9), (16, 37), (32, 12), (33, 5), (100, 17)]
)
def test_group_products_agree_with_direct_formula(shape, dtype):
    """The E-step and the moment sums of each path against a plain numpy pass."""
    n_features, n_components = shape
    X, centres = separated_clusters(n_features, n_components, n_per=301, seed=4, spread=2.0)
    gm = fit_from(X, centres * 0.5, "full", max_iter=2)
    mix = gm._mixture()
    # The reference sees the very values the pass sees; float32 rounds its sums to about 1e-7.
    X = X.astype(dtype).astype(np.float64)
    stats = _core.accumulate(X.astype(dtype), np.empty(0), mix, _core.PassOptions(2))
    rtol = 1e-8 if dtype == np.float64 else 1e-5
    # Reference responsibilities and moments in float64 numpy.
    logp = np.empty((len(X), n_components))
    for c in range(n_components):
        U = gm.precisions_cholesky_[c]
        y = (X - gm.means_[c]) @ U
        logp[:, c] = (
            np.log(gm.weights_[c])
            + np.log(np.diag(U)).sum()
            - 0.5 * n_features * np.log(2 * np.pi)
            - 0.5 * (y**2).sum(axis=1)
        )
    top = logp.max(axis=1, keepdims=True)
    resp = np.exp(logp - top)
    lse = np.log(resp.sum(axis=1)) + top[:, 0]
    resp /= resp.sum(axis=1, keepdims=True)
    assert stats.log_likelihood == pytest.approx(
        lse.sum(), rel=1e-10 if dtype == np.float64 else 1e-6
    )
    assert_allclose(
        stats.n_k, resp.sum(axis=0), rtol=rtol * 10, atol=1e-9 if dtype == np.float64 else 1e-3
    )
    shift = np.asarray(stats.shift)
    s2 = np.asarray(stats.s2)
    for c in range(n_components):
        d = X - shift[c]
        # float32: slack relative to the sums' scale (|d| summed), where rounding happens.
        scale1 = resp[:, c] @ np.abs(d)
        atol = 1e-7 * len(X) if dtype == np.float64 else rtol * scale1.max()
        assert_allclose(stats.s1[c], resp[:, c] @ d, rtol=rtol, atol=atol)
        ref = (d * resp[:, c : c + 1]).T @ d
        got = s2[c * n_features : (c + 1) * n_features]
        lower = np.tril_indices(n_features)
        atol = 1e-7 * len(X) if dtype == np.float64 else rtol * np.abs(ref).max()
        assert_allclose(got[lower], ref[lower], rtol=rtol, atol=atol)


# Diag and spherical queries with up to 16 components take a fused per-row loop whose sums are
# padded to 8 or 16 columns; more components take the products. Row counts that are not a
# multiple of 4 leave a partial group of rows.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
@pytest.mark.parametrize("n_components", [1, 5, 8, 9, 16, 17])
def test_diag_queries_agree_with_direct_formula(n_components, covariance_type, dtype):
    n_features = 6
    X, centres = separated_clusters(n_features, n_components, n_per=120, seed=5, spread=2.0)
    gm = fit_from(X, centres * 0.9, covariance_type, max_iter=2)
    Xq = (X[::7][:303] + 0.5).astype(dtype)
    means = gm.means_
    prec_chol = gm.precisions_cholesky_
    if covariance_type == "spherical":
        prec_chol = np.repeat(prec_chol[:, None], n_features, axis=1)
    Xd = Xq.astype(np.float64)
    ref = (
        np.log(gm.weights_)
        + np.log(prec_chol).sum(axis=1)
        - 0.5 * n_features * np.log(2 * np.pi)
        - 0.5 * (((Xd[:, None, :] - means[None]) * prec_chol[None]) ** 2).sum(axis=2)
    )
    got = _core.log_prob(Xq, gm._mixture(), "weighted_log_prob", 2)
    tol = dict(rtol=1e-10, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-3)
    assert_allclose(got, ref, **tol)
    top = ref.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(ref - top).sum(axis=1))
    assert_allclose(gm.score_samples(Xq), lse, **tol)
    if dtype == np.float64:
        assert_array_equal(gm.predict(Xq), ref.argmax(axis=1))


# score_samples exponentiates only the terms within e^-40 (float: e^-20) of a row's largest; the
# rest cannot move the sum. Rows here sweep the gaps between components from exact ties through
# the cut to far beyond it, for every covariance type and on both sides of 16 components.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("n_components", [5, 20])
def test_score_samples_keeps_every_term_that_counts(n_components, covariance_type, dtype):
    n_features = 3
    means = np.zeros((n_components, n_features))
    means[:, 0] = 3.0 * np.arange(n_components)
    storage = {
        "full": np.tile(np.eye(n_features), (n_components, 1)),
        "tied": np.eye(n_features),
        "diag": np.ones((n_components, n_features)),
        "spherical": np.ones((n_components, 1)),
    }
    mixture = _core.Mixture.from_covariances(
        getattr(_core.CovarianceType, covariance_type),
        np.full(n_components, 1 / n_components),
        means,
        storage[covariance_type],
    )
    # Along the axis of the means: midpoints (two equal largest terms), then a fine sweep.
    x = np.concatenate(
        [
            1.5 + 3.0 * np.arange(n_components - 1),
            np.linspace(-12.0, 3.0 * n_components + 12.0, 2001),
        ]
    )
    X = np.zeros((len(x), n_features))
    X[:, 0] = x
    X[:, 1] = 0.25
    X = X.astype(dtype)
    terms = _core.log_prob(X, mixture, "weighted_log_prob", 2)
    top = terms.max(axis=1)
    reference = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
    got = _core.log_prob(X, mixture, "score_samples", 2)[:, 0]
    tol = dict(rtol=1e-14, atol=1e-13) if dtype == np.float64 else dict(rtol=1e-6, atol=1e-5)
    assert_allclose(got, reference, **tol)
    # The sweep crosses the cut: some rows' second term lies within it and others beyond.
    second = np.sort(terms - top[:, None], axis=1)[:, -2]
    assert (second > -40).any() and (second < -40).any()


# Labels take the first largest log-density by a vectorised maximum and a lane mask (diag and
# spherical mixtures of up to 16 components straight from the fused loop's registers, padding
# lanes included). Components come in identical pairs, so that many rows have exact ties, which
# must go to the lower index (a pair's values may also differ in the last bit: the coefficients
# of some components are computed in vector lanes, others after them in scalar code); past 64
# components the mask is taken 64 lanes at a time.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("n_pairs", [1, 3, 4, 5, 8, 9, 36])
def test_labels_are_the_first_largest_log_density(n_pairs, covariance_type, dtype):
    n_features = 3
    rng = np.random.RandomState(n_pairs)
    centres = rng.normal(scale=4.0, size=(n_pairs, n_features))
    means = np.repeat(centres, 2, axis=0)
    n_components = len(means)
    spreads = np.repeat(rng.uniform(0.5, 2.0, size=n_pairs), 2)
    storage = {
        "full": np.vstack([s * np.eye(n_features) for s in spreads]),
        "tied": np.eye(n_features),
        "diag": np.repeat(spreads[:, None], n_features, axis=1),
        "spherical": spreads[:, None],
    }[covariance_type]
    mixture = _core.Mixture.from_covariances(
        getattr(_core.CovarianceType, covariance_type),
        np.full(n_components, 1 / n_components),
        means,
        storage,
    )
    X = centres[rng.randint(n_pairs, size=997)] + rng.normal(scale=2.0, size=(997, n_features))
    X = X.astype(dtype)
    terms = _core.log_prob(X, mixture, "weighted_log_prob", 2)
    labels = _core.log_prob(X, mixture, "predict", 2)[:, 0].astype(np.int64)
    assert_array_equal(labels, terms.argmax(axis=1))  # numpy's argmax: the first of equals
    top = terms.max(axis=1, keepdims=True)
    assert ((terms == top).sum(axis=1) > 1).mean() > 0.3  # the ties are really there
    assert len(set(labels)) >= n_pairs  # and the labels come from many lanes
