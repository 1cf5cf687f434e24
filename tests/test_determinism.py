"""The same random_state gives bit-identical results for any thread count and on every run."""

import os

import numpy as np
import pytest

from gaussmix import GaussianMixture

from conftest import COVARIANCE_TYPES, make_mixture_data

# Enough rows for many blocks and slots, so a thread-count-dependent reduction would show.
X64 = make_mixture_data(n_samples=12000, n_features=4, n_components=3, seed=7)
THREAD_COUNTS = sorted({1, 2, os.cpu_count() or 1, 8})
ATTRIBUTES = (
    "weights_",
    "means_",
    "covariances_",
    "precisions_cholesky_",
    "lower_bound_",
    "n_iter_",
)


def _fit(X, n_threads, **params):
    params.setdefault("random_state", 42)
    params.setdefault("max_iter", 25)
    params.setdefault("tol", 1e-6)
    return GaussianMixture(3, n_threads=n_threads, **params).fit(X)


def _assert_identical(a, b, X):
    for name in ATTRIBUTES:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.lower_bounds_ == b.lower_bounds_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_thread_count_does_not_change_the_fit(covariance_type, dtype):
    X = X64.astype(dtype)
    reference = _fit(X, 1, covariance_type=covariance_type)
    for n_threads in THREAD_COUNTS[1:]:
        _assert_identical(_fit(X, n_threads, covariance_type=covariance_type), reference, X)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_init_is_thread_independent_and_repeatable(init_params):
    w = np.random.RandomState(0).uniform(0.2, 3.0, size=len(X64))
    fits = [
        GaussianMixture(
            3, init_params=init_params, n_init=2, random_state=5, max_iter=15, n_threads=t
        ).fit(X64, sample_weight=w)
        for t in THREAD_COUNTS
    ]
    fits.append(
        GaussianMixture(
            3,
            init_params=init_params,
            n_init=2,
            random_state=5,
            max_iter=15,
            n_threads=THREAD_COUNTS[-1],
        ).fit(X64, sample_weight=w)
    )
    for other in fits[1:]:
        _assert_identical(other, fits[0], X64)


def test_default_thread_count_matches_one_thread():
    _assert_identical(_fit(X64, None), _fit(X64, 1), X64)


def test_queries_are_thread_independent():
    gm = _fit(X64, 1)
    big = np.repeat(X64, 4, axis=0)
    for method in ("predict", "predict_proba", "score_samples"):
        results = []
        for t in THREAD_COUNTS:
            gm.set_params(n_threads=t)
            results.append(getattr(gm, method)(big))
        for r in results[1:]:
            np.testing.assert_array_equal(r, results[0])
