"""EM behaviour of the estimator: monotone lower bound, restarts, warm start, initialisations."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import GaussianMixture
from gaussmix._sklearn_compat import ConvergenceWarning

from conftest import COVARIANCE_TYPES, initial_parameters, make_mixture_data

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_lower_bound_never_decreases(covariance_type, init_params):
    X = make_mixture_data(n_samples=900, n_features=4, n_components=4, seed=3)
    gm = GaussianMixture(
        4,
        covariance_type=covariance_type,
        init_params=init_params,
        tol=1e-10,
        max_iter=300,
        random_state=1,
    ).fit(X)
    bounds = np.asarray(gm.lower_bounds_)
    assert len(bounds) == gm.n_iter_ >= 2
    # EM never lowers the likelihood; allow only floating-point noise.
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert gm.lower_bound_ == bounds[-1]


@pytest.mark.parametrize("init_params", INIT_PARAMS)
def test_every_initialisation_recovers_separated_clusters(init_params):
    rng = np.random.RandomState(0)
    centers = np.array([[0, 0], [12, 0], [0, 12]])
    X = np.vstack([c + rng.randn(200, 2) for c in centers])
    truth = np.repeat([0, 1, 2], 200)
    gm = GaussianMixture(3, init_params=init_params, n_init=3, random_state=0).fit(X)
    labels = gm.predict(X)
    # Same partition up to a relabelling.
    for t in range(3):
        assert len(np.unique(labels[truth == t])) == 1
    assert len(np.unique(labels)) == 3
    assert_allclose(np.sort(gm.weights_), [1 / 3] * 3, atol=0.01)
    assert gm.converged_


def test_restarts_keep_the_best_lower_bound():
    X = make_mixture_data(n_samples=600, n_features=2, n_components=5, seed=5)
    single = GaussianMixture(5, init_params="random_from_data", random_state=0).fit(X)
    several = GaussianMixture(5, init_params="random_from_data", n_init=6, random_state=0).fit(X)
    # The first restart draws the same initialisation as the single fit.
    assert several.lower_bound_ >= single.lower_bound_
    assert_allclose(several.score(X), several.lower_bound_, rtol=1e-2)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_warm_start_continues_where_it_stopped(blobs, covariance_type):
    init = initial_parameters(blobs, 3, covariance_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = GaussianMixture(3, covariance_type=covariance_type, tol=0, max_iter=10, **init).fit(
            blobs
        )
        warm = GaussianMixture(
            3, covariance_type=covariance_type, tol=0, max_iter=5, warm_start=True, **init
        )
        warm.fit(blobs)
        first_bound = warm.lower_bound_
        warm.fit(blobs)
    assert warm.n_iter_ == 5
    assert warm.lower_bound_ >= first_bound
    for name in ("weights_", "means_", "covariances_"):
        assert_allclose(getattr(warm, name), getattr(once, name), rtol=1e-10, atol=1e-12)
    assert_allclose(warm.lower_bound_, once.lower_bound_, rtol=1e-12)


def test_convergence_warning_when_max_iter_is_reached(blobs):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        gm = GaussianMixture(3, max_iter=2, tol=0, random_state=0).fit(blobs)
    assert not gm.converged_ and gm.n_iter_ == 2


def test_converges_without_warning(blobs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gm = GaussianMixture(3, random_state=0).fit(blobs)
    assert gm.converged_ and gm.n_iter_ < 100


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_predict_matches_fit_then_predict(blobs, covariance_type):
    a = GaussianMixture(3, covariance_type=covariance_type, random_state=2, max_iter=3, tol=0)
    b = GaussianMixture(3, covariance_type=covariance_type, random_state=2, max_iter=3, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = a.fit_predict(blobs)
        assert_array_equal(labels, b.fit(blobs).predict(blobs))
    assert labels.dtype == np.int64


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_attribute_shapes_and_identities(blobs, covariance_type):
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(blobs)
    k, n = 3, blobs.shape[1]
    shapes = {"full": (k, n, n), "tied": (n, n), "diag": (k, n), "spherical": (k,)}
    assert gm.means_.shape == (k, n) and gm.weights_.shape == (k,)
    for name in ("covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(gm, name).shape == shapes[covariance_type]
    assert_allclose(gm.weights_.sum(), 1.0)
    if covariance_type in ("full", "tied"):
        cov = gm.covariances_.reshape(-1, n, n)
        prec = gm.precisions_.reshape(-1, n, n)
        chol = gm.precisions_cholesky_.reshape(-1, n, n)
        for c, p, u in zip(cov, prec, chol):
            assert_allclose(c @ p, np.eye(n), atol=1e-9)
            assert_allclose(u @ u.T, p, rtol=1e-10)
            assert_allclose(np.tril(u, -1), 0)  # upper triangular, as in scikit-learn
    else:
        assert_allclose(gm.covariances_ * gm.precisions_, 1.0)
    assert gm.n_features_in_ == n


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_is_grouped_and_follows_the_model(covariance_type):
    X = make_mixture_data(n_samples=3000, n_features=2, n_components=3, seed=2)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    Xs, ys = gm.sample(20000)
    assert Xs.shape == (20000, 2) and ys.shape == (20000,)
    assert np.all(np.diff(ys) >= 0)
    assert_allclose(np.bincount(ys, minlength=3) / 20000, gm.weights_, atol=0.02)
    for c in range(3):
        assert_allclose(Xs[ys == c].mean(axis=0), gm.means_[c], atol=0.1 * np.sqrt(X.var(0).max()))
    with pytest.raises(ValueError, match="n_samples"):
        gm.sample(0)


def test_verbose_reports_progress(blobs, capsys):
    GaussianMixture(3, verbose=2, verbose_interval=1, random_state=0).fit(blobs)
    out = capsys.readouterr().out
    assert "Initialization 0" in out
    assert "Iteration 1" in out and "ll change" in out
    assert "converged" in out


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_float32_data_give_float32_outputs_and_float64_attributes(blobs, covariance_type):
    # The per-row outputs keep the data's float32, as in scikit-learn 1.7 and later (half the
    # memory of a large predict_proba); the attributes stay float64 (see the README's dtypes).
    X32 = blobs.astype(np.float32)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X32)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(gm, name).dtype == np.float64, name
    assert gm.score_samples(X32).dtype == np.float32
    assert gm.predict_proba(X32).dtype == np.float32
    assert gm.predict(X32).dtype == np.int64
    assert isinstance(gm.score(X32), float) and isinstance(gm.bic(X32), float)
    X64 = blobs.astype(np.float64)
    assert gm.score_samples(X64).dtype == np.float64 and gm.predict_proba(X64).dtype == np.float64
    assert_allclose(
        gm.score_samples(X32), gm.score_samples(X32.astype(np.float64)), rtol=1e-5, atol=1e-4
    )
    assert np.array_equal(gm.fit_predict(X32), gm.predict(X32))
