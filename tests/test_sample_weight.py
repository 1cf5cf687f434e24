"""Sample weights: integer weights repeat rows, zero weights drop them, every init path honours them."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gaussmix import GaussianMixture

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.RandomState(7)
    parts = [
        rng.normal(size=(60, 3)) @ rng.normal(size=(3, 3)) * 0.5 + centre
        for centre in ([0, 0, 0], [6, 1, -2], [-4, 5, 3])
    ]
    X = np.vstack(parts)
    counts = rng.randint(1, 4, size=X.shape[0])
    return X, counts


def fitted_params(gm):
    return [gm.weights_, gm.means_, gm.covariances_, gm.precisions_cholesky_]


def assert_same_fit(a, b, rtol=1e-8, atol=1e-10):
    for x, y in zip(fitted_params(a), fitted_params(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++"])
def test_integer_weights_equal_repeated_rows(blobs, covariance_type, init_params):
    X, counts = blobs
    X_rep = np.repeat(X, counts, axis=0)
    kw = dict(covariance_type=covariance_type, init_params=init_params, random_state=3, tol=1e-8)
    # max_iter=0 returns the initial parameters: the weighted initialisation sees the same data.
    init_w = GaussianMixture(3, max_iter=0, **kw).fit(X, sample_weight=counts)
    init_r = GaussianMixture(3, max_iter=0, **kw).fit(X_rep)
    for x, y in zip(fitted_params(init_w), fitted_params(init_r)):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-10)
    assert_same_fit(
        GaussianMixture(3, **kw).fit(X, sample_weight=counts), GaussianMixture(3, **kw).fit(X_rep)
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_weights_equal_repeated_rows_from_given_start(blobs, covariance_type):
    X, counts = blobs
    # A rough start (random responsibilities, no EM) leaves EM plenty of iterations to agree on.
    start = GaussianMixture(
        3, covariance_type=covariance_type, init_params="random", random_state=0, max_iter=0
    ).fit(X)
    kw = dict(
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        tol=1e-8,
    )
    assert_same_fit(
        GaussianMixture(3, **kw).fit(X, sample_weight=counts),
        GaussianMixture(3, **kw).fit(np.repeat(X, counts, axis=0)),
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_zero_weight_equals_dropped_row(blobs, covariance_type):
    X, _ = blobs
    w = np.ones(X.shape[0])
    dropped = np.arange(5, X.shape[0], 7)
    w[dropped] = 0.0
    # Zero-weight rows far away would dominate the fit if they counted.
    X = X.copy()
    X[dropped] += 50.0
    kw = dict(covariance_type=covariance_type, random_state=11, tol=1e-8)
    assert_same_fit(
        GaussianMixture(3, **kw).fit(X, sample_weight=w),
        GaussianMixture(3, **kw).fit(X[w > 0]),
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
@pytest.mark.parametrize("value", [1.0, 3.5])
def test_uniform_weights_equal_no_weights(blobs, covariance_type, init_params, value):
    X, _ = blobs
    kw = dict(
        covariance_type=covariance_type,
        init_params=init_params,
        random_state=5,
        tol=1e-6,
        max_iter=500,
    )
    w = np.full(X.shape[0], value)
    assert_same_fit(
        GaussianMixture(3, **kw).fit(X, sample_weight=w), GaussianMixture(3, **kw).fit(X), rtol=1e-7
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_uniform_weights_match_scikit_learn(blobs, covariance_type):
    X, _ = blobs
    start = SkGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    kw = dict(
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        tol=1e-10,
        max_iter=50,
    )
    ours = GaussianMixture(3, **kw).fit(X, sample_weight=np.full(X.shape[0], 2.0))
    ref = SkGaussianMixture(3, **kw).fit(X)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-9)


def test_kmeans_initialisation_follows_the_weights():
    # Two tight groups of rows; the weights make a third, light group irrelevant to k-means.
    rng = np.random.RandomState(0)
    X = np.vstack(
        [rng.normal(0, 0.1, (20, 2)), rng.normal(5, 0.1, (20, 2)), rng.normal(20, 0.1, (20, 2))]
    )
    w = np.r_[np.ones(40), np.zeros(20)]
    gm = GaussianMixture(2, max_iter=0, random_state=0).fit(X, sample_weight=w)
    centres = np.sort(gm.means_[:, 0])
    np.testing.assert_allclose(centres, [X[:20, 0].mean(), X[20:40, 0].mean()], rtol=1e-12)


def test_random_from_data_never_seeds_on_zero_weight_rows():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(40, 2))
    w = np.zeros(40)
    w[[3, 17, 29, 31]] = [1.0, 2.0, 0.5, 4.0]
    for seed in range(20):
        gm = GaussianMixture(3, init_params="random_from_data", max_iter=0, random_state=seed)
        gm.fit(X, sample_weight=w)
        # Each initial mean is a seed row: it must be one of the weighted rows.
        dist = np.abs(gm.means_[:, None, :] - X[None, w > 0, :]).sum(axis=2).min(axis=1)
        np.testing.assert_allclose(dist, 0.0, atol=1e-12)


def test_random_from_data_needs_enough_weighted_rows():
    X = np.random.RandomState(0).normal(size=(10, 2))
    w = np.r_[1.0, 2.0, np.zeros(8)]
    with pytest.raises(ValueError, match="positive weight"):
        GaussianMixture(3, init_params="random_from_data").fit(X, sample_weight=w)


def test_score_and_fit_predict_with_weights(blobs):
    X, counts = blobs
    gm = GaussianMixture(3, random_state=0).fit(X, sample_weight=counts)
    expected = np.average(gm.score_samples(X), weights=counts)
    assert gm.score(X, sample_weight=counts) == pytest.approx(expected, rel=1e-12)
    assert gm.score(X, sample_weight=counts) == pytest.approx(
        gm.score(np.repeat(X, counts, axis=0)), rel=1e-12
    )
    labels = GaussianMixture(3, random_state=0).fit_predict(X, sample_weight=counts)
    np.testing.assert_array_equal(labels, gm.predict(X))


def test_weights_are_not_modified(blobs):
    X, counts = blobs
    w = counts.astype(np.float64)
    before = w.copy()
    GaussianMixture(3, random_state=0, init_params="random_from_data").fit(X, sample_weight=w)
    np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda m: -np.ones(m), "non-negative"),
        (lambda m: np.r_[np.nan, np.ones(m - 1)], "NaN"),
        (lambda m: np.r_[np.inf, np.ones(m - 1)], "infinity"),
        (lambda m: np.ones(m - 1), "one weight per sample"),
        (lambda m: np.zeros(m), "sums to zero"),
        (lambda m: np.ones((m, 1)), "1D"),
        (lambda m: np.array(["a"] * m), "numeric"),
    ],
    ids=["negative", "nan", "inf", "wrong-length", "all-zero", "2d", "strings"],
)
def test_bad_weights_raise(blobs, bad, message):
    X, _ = blobs
    w = bad(X.shape[0])
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2).fit(X, sample_weight=w)
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2).fit_predict(X, sample_weight=w)
    gm = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match=message):
        gm.score(X, sample_weight=w)
