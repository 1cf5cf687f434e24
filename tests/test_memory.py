"""Repeated fits and queries must not grow the process's memory (no leaks in core or bindings)."""

import gc
import warnings

import numpy as np
import psutil

from gaussmix import GaussianMixture, _core
from gaussmix._sklearn_compat import ConvergenceWarning

from conftest import COVARIANCE_TYPES, make_mixture_data


def _rss_mib():
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def _cycle(X, w, X32):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 iterations by design
        _fits(X, w, X32)


def _fits(X, w, X32):
    for covariance_type in COVARIANCE_TYPES:
        gm = GaussianMixture(
            3,
            covariance_type=covariance_type,
            max_iter=5,
            tol=0.0,
            n_threads=1,
            random_state=0,
            prior="default" if covariance_type == "diag" else None,
        )
        gm.fit(X, sample_weight=w)
        gm.predict(X), gm.predict_proba(X), gm.score_samples(X32), gm.bic(X)
    _core.kmeans_plusplus(X, w, 5, 0, 1)
    try:  # the error paths free what they allocated too
        GaussianMixture(2, reg_covar=0.0).fit(np.ones((50, 3)))
    except ValueError:
        pass


def test_repeated_fit_predict_does_not_grow_rss():
    X = make_mixture_data(n_samples=4000, n_features=6, seed=2)
    X32 = X.astype(np.float32)
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=len(X))
    for _ in range(3):  # warm up allocator pools, OpenMP threads and import caches
        _cycle(X, w, X32)
    before = _rss_mib()
    for _ in range(15):
        _cycle(X, w, X32)
    growth = _rss_mib() - before
    # A copy of X (0.2 MiB) leaked per call would add about 20 MiB here.
    assert growth < 5.0, f"RSS grew by {growth:.1f} MiB over 15 cycles"
