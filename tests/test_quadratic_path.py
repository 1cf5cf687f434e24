"""The quadratic-feature kernel of float64 full covariances (33 to 64 features): which components
take it, and its sums against a plain float64 numpy pass, alone, split with the centred kernels
in one mixture, and with blocks that fall back to the centred kernels."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from conftest import full_core_mixture as full_mixture
from conftest import sample_core_mixture as sample
from gaussmix import _core


def reference_pass(X, mixture):
    """Log-likelihood, responsibilities and moments about the means, in plain float64 numpy
    with centred differences."""
    means = np.asarray(mixture.means)
    k, n = means.shape
    chol = np.asarray(mixture.precisions_cholesky).reshape(k, n, n)
    logp = np.empty((len(X), k))
    for c in range(k):
        y = (X - means[c]) @ chol[c]
        logp[:, c] = (np.log(mixture.weights[c]) + np.log(np.diag(chol[c])).sum()
                      - 0.5 * n * np.log(2 * np.pi) - 0.5 * (y**2).sum(axis=1))
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
def test_every_component_quadratic_matches_reference(n, k):
    mixture = overlapping_mixture(n, k, seed=n)
    assert _core.quadratic_path_components(mixture) == list(range(k))
    X = sample(mixture, 3000, seed=1)
    assert_pass_matches_reference(X, mixture)


# Up to 32 features the fused centred kernels are faster than the expansion, and exact.
@pytest.mark.parametrize("n", [2, 4, 5, 16, 32, 65])
def test_outside_its_feature_range_no_component_is_quadratic(n):
    assert _core.quadratic_path_components(overlapping_mixture(n, 3, seed=0)) == []


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_only_full_covariances_take_it(covariance_type):
    n, k = 8, 3
    storage = {"tied": np.eye(n), "diag": np.ones((k, n)), "spherical": np.ones((k, 1))}
    mixture = _core.Mixture.from_covariances(
        getattr(_core.CovarianceType, covariance_type), np.full(k, 1 / k),
        np.zeros((k, n)) + np.arange(k)[:, None], storage[covariance_type])
    assert _core.quadratic_path_components(mixture) == []


def far_tight_pair_mixture(n=36):
    """A wide cluster at the origin and two tight ones 20 away on either side of it in every
    feature (200 and 2000 of their own spreads). No expansion point suits both tight ones: it
    settles near the tighter, and the other is computed centred beside the two quadratic ones."""
    return full_mixture([0.5, 0.3, 0.2], np.array([[0.0] * n, [20.0] * n, [-20.0] * n]),
                        [np.eye(n), 0.01 * np.eye(n), 1e-4 * np.eye(n)])


def test_far_tight_component_takes_the_centred_products_beside_quadratic_ones():
    mixture = far_tight_pair_mixture()
    assert _core.quadratic_path_components(mixture) == [0, 2]
    X = sample(mixture, 4000, seed=2)
    assert_pass_matches_reference(X, mixture)


def test_expansion_point_follows_a_far_tight_component():
    n = 36
    # The tight component (spread 0.1) sits 30 from the others in every feature. About the
    # weighted mean of the means its offset would be 2.5e6, beyond kQuadraticMaxOffset (about 6
    # digits lost). The
    # expansion point minimises the summed offsets, which puts it near the tight mean, and all
    # three take the quadratic path with their sums exact to the reference's tolerance.
    mixture = full_mixture([0.45, 0.45, 0.1], np.array([[0.0] * n, [1.0] * n, [30.0] * n]),
                           [np.eye(n), 2.0 * np.eye(n), 0.01 * np.eye(n)])
    assert _core.quadratic_path_components(mixture) == [0, 1, 2]
    X = sample(mixture, 4000, seed=2)
    assert_pass_matches_reference(X, mixture)


def test_split_is_accurate_where_the_expansion_alone_would_not_be():
    n = 34
    # Tight clusters (spread 1e-3) 1e3 apart: the outer two lie ~1e12 squared spreads from the
    # centre, where the expansion would keep none of their digits; only the middle one takes it.
    means = np.array([[0.0] * n, [1e3] * n, [-1e3] * n])
    mixture = full_mixture([1 / 3] * 3, means, [1e-6 * np.eye(n)] * 3)
    assert _core.quadratic_path_components(mixture) == [0]
    X = sample(mixture, 3000, seed=3)
    stats = _core.accumulate(X, np.empty(0), mixture, _core.PassOptions(2))
    cov = _core.maximize(stats, 0.0).covariances
    for c in range(3):
        rows = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1) == c
        assert_allclose(np.asarray(cov)[c * n : (c + 1) * n], np.cov(X[rows].T, bias=True),
                        rtol=1e-9, atol=1e-15)


def test_block_with_huge_values_falls_back_and_stays_exact():
    n, k = 36, 3
    mixture = overlapping_mixture(n, k, seed=5)
    X = sample(mixture, 5000, seed=4)
    # One row far beyond where squares of squares are safe: its block takes the centred kernels
    # (every component), the other blocks stay quadratic, and the sums still match.
    X[2500] = 1e130
    assert_pass_matches_reference(X, mixture, rtol=1e-8)


def test_quadratic_path_results_do_not_depend_on_thread_count():
    mixture = far_tight_pair_mixture()
    X = sample(mixture, 20000, seed=6)
    X[777] = 1e130  # one fallback block among quadratic ones
    runs = [_core.accumulate(X, np.empty(0), mixture, _core.PassOptions(t)) for t in (1, 2, 3)]
    for other in runs[1:]:
        assert_array_equal(other.s2, runs[0].s2)
        assert_array_equal(other.s1, runs[0].s1)
        assert other.log_likelihood == runs[0].log_likelihood
