"""Full covariances with many features (33 to 64, where a quadratic-feature expansion once ran):
the fused kernels' sums against a plain float64 numpy pass, for overlapping clusters, for tight
clusters far from each other and from the centre (which an expansion about one point would lose
the digits of), with huge values in a block, and for any thread count."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import _core

from conftest import full_core_mixture as full_mixture
from conftest import sample_core_mixture as sample


def reference_pass(X, mixture):
    """Log-likelihood, responsibilities and moments about the means, in plain float64 numpy
    with centred differences."""
    means = np.asarray(mixture.means)
    k, n = means.shape
    chol = np.asarray(mixture.precisions_cholesky).reshape(k, n, n)
    logp = np.empty((len(X), k))
    for c in range(k):
        y = (X - means[c]) @ chol[c]
        logp[:, c] = (
            np.log(mixture.weights[c])
            + np.log(np.diag(chol[c])).sum()
            - 0.5 * n * np.log(2 * np.pi)
            - 0.5 * (y**2).sum(axis=1)
        )
    top = logp.max(axis=1, keepdims=True)
    resp = np.exp(logp - top)
    log_likelihood = (np.log(resp.sum(axis=1)) + top[:, 0]).sum()
    resp /= resp.sum(axis=1, keepdims=True)
    return log_likelihood, resp


def assert_pass_matches_reference(X, mixture, rtol=1e-9):
    k, n = np.asarray(mixture.means).shape
    stats = _core.accumulate(X, np.empty(0), mixture, _core.PassOptions(2))
    log_likelihood, resp = reference_pass(X, mixture)
    assert stats.log_likelihood == pytest.approx(log_likelihood, rel=rtol)
    assert_allclose(stats.n_k, resp.sum(axis=0), rtol=rtol, atol=rtol * len(X))
    shift = np.asarray(stats.shift)
    s2 = np.asarray(stats.s2)
    lower = np.tril_indices(n)
    for c in range(k):
        d = X - shift[c]
        scale = resp[:, c].sum() * max(1.0, np.abs(d).max() ** 2)
        assert_allclose(stats.s1[c], resp[:, c] @ d, rtol=rtol, atol=rtol * scale)
        ref = ((d * resp[:, c : c + 1]).T @ d)[lower]
        got = s2[c * n : (c + 1) * n][lower]
        assert_allclose(got, ref, rtol=rtol, atol=rtol * scale)
    # Per-row queries take the same path.
    proba = _core.log_prob(X, mixture, "predict_proba", 2)
    assert_allclose(proba, resp, rtol=1e-8, atol=1e-12)


def overlapping_mixture(n, k, seed):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=2.0, size=(k, n))
    covs = []
    for _ in range(k):
        a = rng.normal(size=(n, n)) / np.sqrt(n)
        covs.append(a @ a.T + 0.5 * np.eye(n))
    return full_mixture(np.full(k, 1.0 / k), means, covs)


@pytest.mark.parametrize("n, k", [(33, 3), (40, 6), (48, 16), (64, 3)])
def test_overlapping_clusters_match_reference(n, k):
    mixture = overlapping_mixture(n, k, seed=n)
    X = sample(mixture, 3000, seed=1)
    assert_pass_matches_reference(X, mixture)


def far_tight_pair_mixture(n=36):
    """A wide cluster at the origin and two tight ones 20 away on either side of it in every
    feature (200 and 2000 of their own spreads)."""
    return full_mixture(
        [0.5, 0.3, 0.2],
        np.array([[0.0] * n, [20.0] * n, [-20.0] * n]),
        [np.eye(n), 0.01 * np.eye(n), 1e-4 * np.eye(n)],
    )


def test_far_tight_components_match_reference():
    X = sample(far_tight_pair_mixture(), 4000, seed=2)
    assert_pass_matches_reference(X, far_tight_pair_mixture())


def test_a_tight_component_far_from_the_others_matches_reference():
    n = 36
    mixture = full_mixture(
        [0.45, 0.45, 0.1],
        np.array([[0.0] * n, [1.0] * n, [30.0] * n]),
        [np.eye(n), 2.0 * np.eye(n), 0.01 * np.eye(n)],
    )
    X = sample(mixture, 4000, seed=2)
    assert_pass_matches_reference(X, mixture)


def test_tight_clusters_far_apart_keep_their_covariances():
    n = 34
    # Tight clusters (spread 1e-3) 1e3 apart: the outer two lie ~1e12 squared spreads from the
    # centre, where an expansion about it would keep none of their digits.
    means = np.array([[0.0] * n, [1e3] * n, [-1e3] * n])
    mixture = full_mixture([1 / 3] * 3, means, [1e-6 * np.eye(n)] * 3)
    X = sample(mixture, 3000, seed=3)
    stats = _core.accumulate(X, np.empty(0), mixture, _core.PassOptions(2))
    cov = _core.maximize(stats, 0.0).covariances
    for c in range(3):
        rows = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1) == c
        assert_allclose(
            np.asarray(cov)[c * n : (c + 1) * n],
            np.cov(X[rows].T, bias=True),
            rtol=1e-9,
            atol=1e-15,
        )


def test_block_with_huge_values_stays_exact():
    n, k = 36, 3
    mixture = overlapping_mixture(n, k, seed=5)
    X = sample(mixture, 5000, seed=4)
    # One row far beyond where squares of squares would be safe: the sums still match.
    X[2500] = 1e130
    assert_pass_matches_reference(X, mixture, rtol=1e-8)


def test_results_do_not_depend_on_thread_count():
    mixture = far_tight_pair_mixture()
    X = sample(mixture, 20000, seed=6)
    X[777] = 1e130  # one block with a huge value among ordinary ones
    runs = [_core.accumulate(X, np.empty(0), mixture, _core.PassOptions(t)) for t in (1, 2, 3)]
    for other in runs[1:]:
        assert_array_equal(other.s2, runs[0].s2)
        assert_array_equal(other.s1, runs[0].s1)
        assert other.log_likelihood == runs[0].log_likelihood
