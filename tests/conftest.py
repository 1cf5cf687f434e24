"""Shared fixtures: small generated mixtures and the parameters to start EM from."""

import numpy as np
import pytest

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def make_mixture_data(n_samples=600, n_features=3, n_components=3, seed=0, offset=0.0):
    """Samples from a mixture of rotated, differently scaled Gaussians."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-6, 6, size=(n_components, n_features)) + offset
    parts = []
    for c in range(n_components):
        A = rng.normal(size=(n_features, n_features)) * rng.uniform(0.3, 1.2)
        parts.append(centers[c] + rng.normal(size=(n_samples // n_components, n_features)) @ A)
    return np.vstack(parts)


def initial_parameters(X, n_components, covariance_type, seed=0):
    """A deliberately rough start (random rows as means, the data's spread as covariance) given
    to both gaussmix and scikit-learn so that EM runs from identical parameters."""
    rng = np.random.RandomState(seed)
    n_features = X.shape[1]
    means = X[rng.choice(len(X), n_components, replace=False)]
    weights = rng.uniform(0.5, 1.5, n_components)
    weights /= weights.sum()
    cov = np.cov(X.T).reshape(n_features, n_features) + 0.1 * np.eye(n_features)
    prec = np.linalg.inv(cov)
    if covariance_type == "full":
        precisions = np.stack([prec * s for s in rng.uniform(0.8, 1.2, n_components)])
    elif covariance_type == "tied":
        precisions = prec
    elif covariance_type == "diag":
        precisions = np.outer(rng.uniform(0.8, 1.2, n_components), 1.0 / np.diag(cov))
    else:
        precisions = rng.uniform(0.8, 1.2, n_components) / np.mean(np.diag(cov))
    return {"weights_init": weights, "means_init": means, "precisions_init": precisions}


def full_core_mixture(weights, means, covariances):
    """A full-covariance _core.Mixture from a list of k (n, n) covariances."""
    from gaussmix import _core

    n = np.asarray(means).shape[1]
    return _core.Mixture.from_covariances(
        _core.CovarianceType.full,
        np.asarray(weights, float),
        np.asarray(means, float),
        np.ascontiguousarray(np.vstack(covariances).reshape(-1, n)),
    )


def sample_core_mixture(mixture, m, seed):
    """m rows drawn from a full-covariance _core.Mixture (weights need not sum to 1)."""
    rng = np.random.default_rng(seed)
    k, n = np.asarray(mixture.means).shape
    covs = np.asarray(mixture.covariances).reshape(k, n, n)
    w = np.asarray(mixture.weights)
    labels = rng.choice(k, size=m, p=w / w.sum())
    X = np.empty((m, n))
    for c in range(k):
        rows = labels == c
        X[rows] = rng.multivariate_normal(np.asarray(mixture.means)[c], covs[c], size=rows.sum())
    return X


@pytest.fixture(scope="session")
def blobs():
    return make_mixture_data()


@pytest.fixture(scope="session")
def iris():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    return sklearn_datasets.load_iris().data


# The quick inner loop is `python -m pytest -m "not slow"` (well under a minute); the test
# command runs everything. Slow are the tests that build C++ with CMake (every test using the
# fixtures below, marked here), the benchmark smoke test, the lint and type checks, and the
# thread, GIL and Ctrl-C tests (marked in their modules).
_NATIVE_FIXTURES = {"native_build", "cli_from_cmake_install", "cli_from_wheel", "cmake_tools"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _NATIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# Session fixtures that build the C++ library, its tests and the example program (used by
# test_cpp.py, test_cmake_package.py and test_io.py).
from native_build import (  # noqa: E402,F401
    cli_from_cmake_install,
    cli_from_wheel,
    cmake_tools,
    native_build,
)
