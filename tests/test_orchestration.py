"""One orchestration, two drivers. The Python estimator drives the core itself (its random
streams are NumPy's, so that 'random' and 'random_from_data' draw what scikit-learn draws); the
C++ estimator (gaussmix::GaussianMixture::fit, for programs without Python) runs the same
initialisation, restarts and EM over the same core functions with its own portable stream.
On data with one clear optimum the two must reach the same model."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gaussmix import GaussianMixture, _core

from conftest import COVARIANCE_TYPES


def separated_data(seed=0, n=3, k=3, per=400):
    rng = np.random.RandomState(seed)
    centres = np.arange(k)[:, None] * 12.0 + rng.normal(size=(k, n))
    parts = [
        c + rng.normal(size=(per, n)) @ (0.5 * np.eye(n) + 0.2 * rng.normal(size=(n, n)))
        for c in centres
    ]
    return np.ascontiguousarray(np.vstack(parts))


def in_mean_order(gm):
    """Weights, means and covariances with the components sorted by their first coordinate (the
    two drivers may number the same components differently)."""
    order = np.argsort(gm.means_[:, 0])
    cov = gm.covariances_ if gm.covariance_type == "tied" else gm.covariances_[order]
    return gm.weights_[order], gm.means_[order], cov


@pytest.mark.parametrize("init", ["kmeans", "k-means++", "random_from_data", "hc"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_cpp_and_python_estimators_reach_the_same_model(covariance_type, init):
    X = separated_data()
    k = 3
    py = GaussianMixture(
        k,
        covariance_type=covariance_type,
        init_params=init,
        n_init=3,
        tol=1e-10,
        max_iter=500,
        random_state=0,
    ).fit(X)
    mixture, n_iter, converged, lower_bound = _core.fit_model(
        X,
        np.empty(0),
        k,
        getattr(_core.CovarianceType, covariance_type),
        1e-10,
        1e-6,
        500,
        3,
        init,
        7,
    )
    assert converged and py.converged_
    assert lower_bound == pytest.approx(py.lower_bound_, rel=1e-9)
    cpp = GaussianMixture(k, covariance_type=covariance_type)
    cpp._set_mixture(mixture)
    for a, b in zip(in_mean_order(py), in_mean_order(cpp)):
        assert_allclose(a, b, rtol=1e-6, atol=1e-8)
