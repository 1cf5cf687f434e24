"""Missing values: EM for incomplete data against a NumPy reference written from the formulas,
the marginal queries against SciPy, imputation against its closed form, and the bad inputs."""

import numpy as np
import pytest
from missing_reference import log_likelihood
from missing_reference import run_em as reference_em
from scipy.stats import multivariate_normal

from gaussmix import GaussianMixture, _core
from gaussmix._layout import layout

TYPES = ["full", "tied", "diag", "spherical"]


def mixture_data(seed=0, m=400, n=4, k=3):
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=4.0, size=(k, n))
    labels = rng.randint(k, size=m)
    A = rng.normal(size=(k, n, n)) * 0.4 + np.eye(n)
    X = centres[labels] + np.einsum("ij,ijl->il", rng.normal(size=(m, n)), A[labels])
    return X, labels


def knock_out(X, fraction, seed=1, blocks=False):
    """A copy of X with cells missing completely at random, or whole feature blocks per row."""
    rng = np.random.RandomState(seed)
    X = X.copy()
    if blocks:
        n = X.shape[1]
        half = n // 2
        rows = rng.rand(len(X)) < fraction
        first = rng.rand(len(X)) < 0.5
        X[np.ix_(rows & first, np.arange(half))] = np.nan
        X[np.ix_(rows & ~first, np.arange(half, n))] = np.nan
    else:
        X[rng.rand(*X.shape) < fraction] = np.nan
    return X


def start_mixture(X, covariance_type, k, seed=0):
    """Initial parameters from rows of the completed data, and their full (k, n, n) form."""
    n = X.shape[1]
    rng = np.random.RandomState(seed)
    filled = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    means = filled[rng.choice(len(X), k, replace=False)]
    spread = np.cov(filled, rowvar=False)
    full = np.repeat(spread[None], k, axis=0)
    if covariance_type in ("diag", "spherical"):
        full = np.array([np.diag(np.diag(c)) for c in full])
    if covariance_type == "spherical":
        full = np.array([np.trace(c) / n * np.eye(n) for c in full])
    weights = np.full(k, 1.0 / k)
    structure = layout(covariance_type)
    storage = structure.storage_of_full(full)
    mixture = _core.Mixture.from_covariances(structure.core_type, weights, means, storage)
    return mixture, weights, means, full


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize(
    "fraction,blocks", [(0.05, False), (0.2, False), (0.4, False), (0.3, True)]
)
def test_em_matches_numpy_reference(covariance_type, fraction, blocks):
    X, _ = mixture_data()
    X = knock_out(X, fraction, blocks=blocks)
    k, n_iter, reg = 3, 8, 1e-6
    mixture, weights, means, full = start_mixture(X, covariance_type, k)
    result = _core.run_em(X, np.empty(0), mixture, 0.0, reg, n_iter, 1, -np.inf, None, None, True)
    ref_w, ref_mu, ref_cov, history = reference_em(
        X, weights, means, full, covariance_type, reg, n_iter
    )
    structure = layout(covariance_type)
    got_cov = structure.full_matrices(
        structure.to_public(result.mixture.covariances, X.shape[1]), k, X.shape[1]
    )
    np.testing.assert_allclose(result.mixture.weights, ref_w, rtol=1e-8)
    np.testing.assert_allclose(result.mixture.means, ref_mu, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got_cov, ref_cov, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(np.array(result.lower_bounds) * len(X), history, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_weights_and_float32_match_reference(covariance_type):
    X, _ = mixture_data(seed=3, m=300)
    X = knock_out(X, 0.15, seed=4)
    w = np.random.RandomState(5).uniform(0.2, 3.0, size=len(X))
    mixture, weights, means, full = start_mixture(X, covariance_type, 3, seed=2)
    result = _core.run_em(X, w, mixture, 0.0, 1e-6, 5, 0, -np.inf, None, None, True)
    ref_w, ref_mu, ref_cov, _ = reference_em(X, weights, means, full, covariance_type, 1e-6, 5, w)
    np.testing.assert_allclose(result.mixture.weights, ref_w, rtol=1e-8)
    np.testing.assert_allclose(result.mixture.means, ref_mu, rtol=1e-8, atol=1e-10)
    # float32 data: the same EM to float32's precision.
    r32 = _core.run_em(X.astype(np.float32), w, mixture, 0.0, 1e-6, 5, 0, -np.inf, None, None, True)
    np.testing.assert_allclose(r32.mixture.means, ref_mu, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_observed_likelihood_never_decreases(covariance_type):
    X, _ = mixture_data(seed=7, m=500, n=5, k=4)
    X = knock_out(X, 0.3, seed=8)
    gm = GaussianMixture(
        4,
        covariance_type=covariance_type,
        missing="marginalize",
        tol=0,
        max_iter=60,
        random_state=0,
    )
    with pytest.warns(Warning):  # tol=0 never converges
        gm.fit(X)
    bounds = np.array(gm.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    # The bound is the observed-data log-likelihood per sample, as score() computes it
    # (under the parameters before the last M-step, so compare one more pass).
    ll, _ = log_likelihood(
        X,
        gm.weights_,
        gm.means_,
        layout(covariance_type).full_matrices(gm.covariances_, 4, X.shape[1]),
    )
    np.testing.assert_allclose(gm.score(X), ll / len(X), rtol=1e-10)
    assert gm.score(X) >= bounds[-1] - 1e-12


@pytest.mark.parametrize("covariance_type", TYPES)
def test_queries_use_the_marginal_of_the_observed_features(covariance_type):
    X, _ = mixture_data(seed=11, m=300)
    X = knock_out(X, 0.25, seed=12)
    X[0] = np.nan  # nothing observed
    gm = GaussianMixture(3, covariance_type=covariance_type, missing="marginalize", random_state=0)
    gm.fit(X)
    full = layout(covariance_type).full_matrices(gm.covariances_, 3, X.shape[1])
    expected = np.zeros(len(X))
    for i, row in enumerate(X):
        o = ~np.isnan(row)
        if not o.any():
            continue
        dens = [
            gm.weights_[c] * multivariate_normal(gm.means_[c][o], full[c][np.ix_(o, o)]).pdf(row[o])
            for c in range(3)
        ]
        expected[i] = np.log(np.sum(dens))
    scores = gm.score_samples(X)
    np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)
    assert scores[0] == pytest.approx(0.0, abs=1e-14)  # log of the weights' sum
    proba = gm.predict_proba(X)
    np.testing.assert_allclose(proba[0], gm.weights_, rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(gm.predict(X), proba.argmax(axis=1))
    n = len(X)
    assert gm.bic(X) == pytest.approx(-2 * scores.sum() + gm._n_parameters() * np.log(n))
    assert gm.aic(X) == pytest.approx(-2 * scores.sum() + 2 * gm._n_parameters())


def test_impute_mean_is_the_closed_form():
    # Two components in two features: x1 missing, x0 observed.
    gm = GaussianMixture(2, covariance_type="full")
    gm.weights_ = np.array([0.3, 0.7])
    gm.means_ = np.array([[0.0, 1.0], [3.0, -2.0]])
    gm.covariances_ = np.array([[[1.0, 0.6], [0.6, 2.0]], [[0.5, -0.2], [-0.2, 1.5]]])
    gm.precisions_cholesky_ = None
    X = np.array([[0.5, np.nan], [2.5, np.nan], [np.nan, np.nan], [1.0, 2.0]])
    before = X.copy()
    filled = gm.impute(X)
    np.testing.assert_array_equal(X, before)  # not touched
    for i in (0, 1):
        x0 = X[i, 0]
        dens = np.array(
            [
                gm.weights_[c]
                * np.exp(-0.5 * (x0 - gm.means_[c, 0]) ** 2 / gm.covariances_[c, 0, 0])
                / np.sqrt(2 * np.pi * gm.covariances_[c, 0, 0])
                for c in range(2)
            ]
        )
        post = dens / dens.sum()
        cond = [
            gm.means_[c, 1]
            + gm.covariances_[c, 1, 0] / gm.covariances_[c, 0, 0] * (x0 - gm.means_[c, 0])
            for c in range(2)
        ]
        assert filled[i, 0] == x0
        assert filled[i, 1] == pytest.approx(post @ cond, rel=1e-12)
    np.testing.assert_allclose(filled[2], gm.weights_ @ gm.means_, rtol=1e-12)
    np.testing.assert_array_equal(filled[3], X[3])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_impute_sample_draws_from_the_conditional(covariance_type):
    gm = GaussianMixture(1, covariance_type=covariance_type, random_state=0)
    rng = np.random.RandomState(0)
    gm.fit(rng.multivariate_normal([1.0, -1.0], [[2.0, 1.2], [1.2, 1.5]], size=2000))
    X = np.tile([[2.0, np.nan]], (20000, 1))
    draws = gm.impute(X, method="sample", random_state=1)
    cov = layout(covariance_type).full_matrices(gm.covariances_, 1, 2)[0]
    mean = gm.means_[0, 1] + cov[1, 0] / cov[0, 0] * (2.0 - gm.means_[0, 0])
    var = cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0]
    assert draws[:, 1].mean() == pytest.approx(mean, abs=4 * np.sqrt(var / 20000))
    assert draws[:, 1].var() == pytest.approx(var, rel=0.05)
    np.testing.assert_array_equal(draws[:, 0], 2.0)
    again = gm.impute(X, method="sample", random_state=1)
    np.testing.assert_array_equal(draws, again)
    other = gm.impute(X, method="sample", random_state=2)
    assert not np.array_equal(draws, other)


def test_impute_sample_picks_components_by_posterior():
    gm = GaussianMixture(2, covariance_type="diag")
    gm.weights_ = np.array([0.5, 0.5])
    gm.means_ = np.array([[0.0, 0.0], [10.0, 100.0]])
    gm.covariances_ = np.ones((2, 2))
    gm.precisions_cholesky_ = np.ones((2, 2))
    X = np.array([[0.0, np.nan]] * 500 + [[10.0, np.nan]] * 500 + [[5.0, np.nan]] * 2000)
    draws = gm.impute(X, method="sample", random_state=0)
    assert np.all(np.abs(draws[:500, 1]) < 6)
    assert np.all(np.abs(draws[500:1000, 1] - 100) < 6)
    far = np.mean(draws[1000:, 1] > 50)  # a tie: half from each
    assert 0.45 < far < 0.55


def test_without_nan_marginalize_gives_the_same_bits():
    X, _ = mixture_data(seed=21, m=2000, n=6, k=4)
    for covariance_type in TYPES:
        args = dict(covariance_type=covariance_type, random_state=3, n_init=2)
        a = GaussianMixture(4, **args).fit(X)
        b = GaussianMixture(4, missing="marginalize", **args).fit(X)
        for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert a.lower_bounds_ == b.lower_bounds_
        np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_bit_identical_across_thread_counts(covariance_type):
    X, _ = mixture_data(seed=31, m=6000, n=7, k=3)
    X = knock_out(X, 0.1, seed=32)
    fits = [
        GaussianMixture(
            3,
            covariance_type=covariance_type,
            missing="marginalize",
            random_state=0,
            n_threads=t,
        ).fit(X)
        for t in (1, 2, 3)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(fits[0].means_, other.means_)
        np.testing.assert_array_equal(fits[0].covariances_, other.covariances_)
        np.testing.assert_array_equal(
            fits[0].impute(X, method="sample", random_state=0),
            other.impute(X, method="sample", random_state=0),
        )


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_init_and_map_prior_work_on_incomplete_data(init_params):
    X, _ = mixture_data(seed=41, m=400)
    X = knock_out(X, 0.2, seed=42)
    for prior in (None, "default"):
        gm = GaussianMixture(
            3,
            init_params=init_params,
            missing="marginalize",
            prior=prior,
            random_state=0,
            max_iter=300,
        ).fit(X)
        assert gm.converged_
        for name in ("weights_", "means_", "covariances_"):
            assert np.isfinite(getattr(gm, name)).all()
        assert np.all(np.diff(gm.lower_bounds_) >= -1e-12 * np.abs(gm.lower_bounds_[-1]))


def test_fit_does_not_touch_the_input():
    X, _ = mixture_data(seed=51, m=200)
    X = knock_out(X, 0.2)
    before = X.copy()
    gm = GaussianMixture(2, missing="marginalize", random_state=0).fit(X)
    gm.predict(X)
    gm.impute(X)
    np.testing.assert_array_equal(X, before)


def test_bad_incomplete_input():
    X, _ = mixture_data(seed=61, m=50)
    gm = GaussianMixture(2, missing="marginalize")
    with pytest.raises(ValueError, match="missing must be one of"):
        GaussianMixture(2, missing="drop").fit(X)
    with_nan = knock_out(X, 0.2)
    with pytest.raises(ValueError, match="contains NaN"):
        GaussianMixture(2).fit(with_nan)
    inf = with_nan.copy()
    inf[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        gm.fit(inf)
    empty_column = with_nan.copy()
    empty_column[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"no observed value in feature\(s\) \[2\]"):
        gm.fit(empty_column)
    mostly_empty = np.full((10, 3), np.nan)
    mostly_empty[0] = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="1 row\\(s\\) with any observed value, fewer than"):
        gm.fit(mostly_empty)
    gm.fit(with_nan)
    with pytest.raises(ValueError, match="infinity"):
        gm.score_samples(inf)
    with pytest.raises(ValueError, match="method must be"):
        gm.impute(with_nan, method="median")
    # A model fitted with missing='error' keeps refusing NaN in its queries.
    plain = GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="contains NaN"):
        plain.predict(with_nan)
    assert np.isfinite(plain.impute(with_nan)).all()


def test_select_model_on_incomplete_data():
    from gaussmix import select_model

    X, _ = mixture_data(seed=71, m=600, n=3, k=3)
    X = knock_out(X, 0.15, seed=72)
    result = select_model(
        X,
        n_components=range(1, 5),
        covariance_types=["full", "diag"],
        missing="marginalize",
        random_state=0,
    )
    best = result.best_estimator_
    assert best.missing == "marginalize"
    assert best.n_components == 3
    assert np.isfinite(best.bic(X))
    with pytest.raises(ValueError, match="contains NaN"):
        select_model(X, n_components=[2], random_state=0)
