"""The benchmarks' data and starting parameters (no gaussmix import, so that scripts comparing
two builds of the core can load either one)."""

import numpy as np

CONFIGS = {
    # name: (m, n, k, covariance type)
    "A": (100_000, 2, 5, "full"),
    "B": (200_000, 16, 16, "full"),
    "C": (200_000, 16, 16, "diag"),
    "D": (1_000_000, 8, 8, "full"),
    "E": (50_000, 64, 32, "full"),
}
QUICK_DIVISOR = 50  # --quick shrinks m by this much
REG_COVAR = 1e-6


def make_data(m, n, k, seed):
    """Rows from k overlapping Gaussian clusters (random centres, random correlated shapes)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, n))
    labels = rng.integers(0, k, size=m)
    X = np.empty((m, n))
    for c in range(k):
        rows = labels == c
        shape = rng.normal(size=(n, n)) / np.sqrt(n) + np.eye(n)
        X[rows] = centres[c] + rng.normal(size=(rows.sum(), n)) @ shape
    return X


def initial_parameters(X, k, cov_type, seed):
    """k distinct random rows as means, the data covariance (or its diagonal) for every component."""
    rng = np.random.default_rng(seed + 1)
    n = X.shape[1]
    means = X[rng.choice(X.shape[0], size=k, replace=False)].copy()
    cov = np.cov(X[: min(len(X), 50_000)], rowvar=False).reshape(n, n) + REG_COVAR * np.eye(n)
    weights = np.full(k, 1.0 / k)
    if cov_type == "full":
        covs = np.repeat(cov[None], k, axis=0)
    elif cov_type == "diag":
        covs = np.repeat(np.diag(cov)[None], k, axis=0)
    elif cov_type == "spherical":
        covs = np.full(k, np.diag(cov).mean())
    else:
        covs = cov
    return weights, means, covs
