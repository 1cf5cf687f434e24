"""The compiled module directly: the sufficient-statistics seam and its guarantees."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import GaussianMixture, _core

from conftest import COVARIANCE_TYPES, make_mixture_data


def fitted_mixture(X, covariance_type):
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0, max_iter=5, tol=0)
    with pytest.warns(Warning):
        gm.fit(X)
    return gm._mixture()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_stats_of_disjoint_rows_add_up(covariance_type):
    X = make_mixture_data(n_samples=3000, n_features=4, seed=1)
    w = np.random.RandomState(0).uniform(0, 2, len(X))
    mix = fitted_mixture(X, covariance_type)
    opts = _core.PassOptions(1)
    whole = _core.accumulate(X, w, mix, opts)
    first = _core.accumulate(np.ascontiguousarray(X[:1234]), w[:1234].copy(), mix, opts)
    first += _core.accumulate(np.ascontiguousarray(X[1234:]), w[1234:].copy(), mix, opts)
    for name in ("n_k", "s1", "s2"):
        assert_allclose(getattr(first, name), getattr(whole, name), rtol=1e-12, atol=1e-9)
    assert_allclose(first.log_likelihood, whole.log_likelihood, rtol=1e-13)
    assert first.weight_sum == pytest.approx(w.sum())
    assert first.n_samples == len(X)
    # maximize() of merged stats is the M-step of the whole data.
    a, b = _core.maximize(first, 1e-6), _core.maximize(whole, 1e-6)
    assert_allclose(a.covariances, b.covariances, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_results_do_not_depend_on_thread_count(covariance_type, dtype):
    # Enough rows for many slots, so threads really split the work.
    X = make_mixture_data(n_samples=60000, n_features=5, seed=2).astype(dtype)
    results = []
    for n_threads in (1, 2, 3):
        gm = GaussianMixture(
            3, covariance_type=covariance_type, random_state=0, n_threads=n_threads
        ).fit(X)
        results.append((gm.means_, gm.covariances_, gm.lower_bound_, gm.predict_proba(X[:500])))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert_array_equal(a, b)


def test_stats_refuse_to_merge_about_different_shifts():
    X = make_mixture_data(n_samples=300, n_features=2, seed=3)
    mix_a = fitted_mixture(X, "full")
    mix_b = fitted_mixture(X + 1.0, "full")
    opts = _core.PassOptions(1)
    sa = _core.accumulate(X, np.empty(0), mix_a, opts)
    with pytest.raises(ValueError, match="different shifts"):
        sa += _core.accumulate(X, np.empty(0), mix_b, opts)


def test_non_contiguous_input_is_refused_not_copied():
    X = np.asfortranarray(make_mixture_data(n_samples=100, n_features=2, seed=4))
    mix = fitted_mixture(np.ascontiguousarray(X), "diag")
    with pytest.raises(TypeError):
        _core.log_prob(X, mix, "score_samples", 1)


def test_not_positive_definite_names_the_component():
    singular = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="Component 1 .*reg_covar"):
        _core.Mixture.from_covariances(
            _core.CovarianceType.full, np.array([0.5, 0.5]), np.zeros((2, 2)), singular
        )
