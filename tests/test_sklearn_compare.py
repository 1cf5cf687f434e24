"""gaussmix against scikit-learn from identical initial parameters: same numbers to rtol 1e-6."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gaussmix import GaussianMixture

from conftest import COVARIANCE_TYPES, initial_parameters, make_mixture_data

ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def fit_both(X, n_components, covariance_type, max_iter=25, **extra):
    params = dict(
        n_components=n_components,
        covariance_type=covariance_type,
        tol=0.0,
        max_iter=max_iter,
        **initial_parameters(X, n_components, covariance_type),
        **extra,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never "converges"
        ours = GaussianMixture(**params).fit(X)
        theirs = SkGaussianMixture(**params).fit(X)
    return ours, theirs


def assert_same_model(ours, theirs, rtol=1e-6):
    for name in ATTRIBUTES:
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.shape == b.shape, name
        # atol covers entries that are exactly zero in one and ~1e-17 in the other.
        assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max(), err_msg=name)
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_components", [1, 3, 5], ids=lambda k: f"k{k}")
def test_same_fit_on_synthetic_data(covariance_type, n_components):
    X = make_mixture_data(n_samples=900, n_features=4, n_components=3, seed=n_components)
    ours, theirs = fit_both(X, n_components, covariance_type)
    assert_same_model(ours, theirs)
    assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_fit_on_iris(iris, covariance_type):
    ours, theirs = fit_both(iris, 3, covariance_type, max_iter=40)
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_accurate_far_from_origin(covariance_type):
    # scikit-learn's tied/diag/spherical M-steps expand moments about the origin and lose about
    # eight digits at offset 1e4, so the reference is scikit-learn on the data translated back
    # to the origin (exact in principle); gaussmix, run on the offset data, must match it.
    X = make_mixture_data(n_samples=600, n_features=3, seed=7, offset=1e4)
    shift = X.mean(axis=0)
    init = initial_parameters(X, 3, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, tol=0.0, max_iter=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params, **init).fit(X)
        centred = dict(init, means_init=init["means_init"] - shift)
        reference = SkGaussianMixture(**params, **centred).fit(X - shift)
    for name in ("weights_", "covariances_", "precisions_"):
        a, b = getattr(ours, name), getattr(reference, name)
        assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max(), err_msg=name)
    assert_allclose(ours.means_ - shift, reference.means_, atol=1e-9 * np.abs(shift).max())


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_queries(blobs, covariance_type):
    ours, theirs = fit_both(blobs, 3, covariance_type, max_iter=10)
    Xq = make_mixture_data(n_samples=300, seed=11)
    assert_allclose(ours.score_samples(Xq), theirs.score_samples(Xq), rtol=1e-7)
    assert_allclose(ours.predict_proba(Xq), theirs.predict_proba(Xq), rtol=1e-6, atol=1e-10)
    assert_array_equal(ours.predict(Xq), theirs.predict(Xq))
    assert_allclose(ours.score(Xq), theirs.score(Xq), rtol=1e-9)
    assert_allclose(ours.bic(Xq), theirs.bic(Xq), rtol=1e-9)
    assert_allclose(ours.aic(Xq), theirs.aic(Xq), rtol=1e-9)
    assert ours._n_parameters() == theirs._n_parameters()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_samples(blobs, covariance_type):
    ours, theirs = fit_both(blobs, 3, covariance_type, max_iter=5, random_state=3)
    Xa, ya = ours.sample(500)
    Xb, yb = theirs.sample(500)
    assert_array_equal(ya, yb)
    assert_allclose(Xa, Xb, rtol=1e-6, atol=1e-8)
    assert np.all(np.diff(ya) >= 0), "samples are grouped by component"


@pytest.mark.parametrize("init_params", ["random", "random_from_data"])
@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_same_random_initialisations(blobs, init_params, covariance_type):
    # These initialisations draw from the same NumPy RandomState stream as scikit-learn does.
    params = dict(
        n_components=3,
        covariance_type=covariance_type,
        init_params=init_params,
        random_state=4,
        tol=0.0,
        max_iter=10,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(blobs)
        theirs = SkGaussianMixture(**params).fit(blobs)
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_max_iter_zero_keeps_initial_parameters(blobs, covariance_type):
    init = initial_parameters(blobs, 3, covariance_type)
    gm = GaussianMixture(3, covariance_type=covariance_type, max_iter=0, **init).fit(blobs)
    assert gm.n_iter_ == 0 and not gm.converged_
    assert gm.lower_bound_ == -np.inf
    assert_allclose(gm.weights_, init["weights_init"])
    assert_allclose(gm.means_, init["means_init"])
    assert_allclose(gm.precisions_, init["precisions_init"], rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_input_matches_float64(blobs, covariance_type):
    X32 = blobs.astype(np.float32)
    ours32, _ = fit_both(X32, 3, covariance_type, max_iter=15)
    ours64, _ = fit_both(X32.astype(np.float64), 3, covariance_type, max_iter=15)
    for name in ATTRIBUTES:
        a, b = getattr(ours32, name), getattr(ours64, name)
        assert a.dtype == np.float64
        assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max(), err_msg=name)


@pytest.mark.parametrize(
    "attributes",
    [
        ("weights_", "means_", "covariances_", "precisions_cholesky_"),
        ("weights_", "means_", "precisions_cholesky_"),
        ("weights_", "means_", "covariances_"),
    ],
    ids=["all", "factors-only", "covariances-only"],
)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_parameters_set_by_hand_answer_every_query(covariance_type, attributes):
    # scikit-learn users score known parameters by setting the fitted attributes themselves,
    # without n_features_in_; every query must answer as scikit-learn's does.
    X = make_mixture_data(n_samples=300, n_features=3, seed=8)
    sk = SkGaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    ours = GaussianMixture(3, covariance_type=covariance_type, random_state=4)
    theirs = SkGaussianMixture(3, covariance_type=covariance_type, random_state=4)
    for name in attributes:
        setattr(ours, name, getattr(sk, name))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        setattr(theirs, name, getattr(sk, name))
    assert_allclose(ours.score_samples(X), sk.score_samples(X), rtol=1e-10)
    assert_allclose(ours.predict_proba(X), sk.predict_proba(X), rtol=1e-8, atol=1e-12)
    assert np.array_equal(ours.predict(X), sk.predict(X))
    assert ours.bic(X) == pytest.approx(sk.bic(X), rel=1e-10)
    assert ours.aic(X) == pytest.approx(sk.aic(X), rel=1e-10)
    drawn, labels = ours.sample(20)
    expected, expected_labels = theirs.sample(20)
    assert_allclose(drawn, expected, rtol=1e-8, atol=1e-10)
    assert np.array_equal(labels, expected_labels)
    with pytest.raises(ValueError, match="expecting 3 features"):
        ours.predict(X[:, :2])
