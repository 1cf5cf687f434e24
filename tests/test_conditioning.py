"""Conditioning a mixture on some features: closed forms, sampling, type preservation, errors."""

import math

import numpy as np
import pytest
from scipy import stats as st
from scipy.special import logsumexp

from gaussmix import GaussianMixture
from gaussmix._sklearn_compat import NotFittedError


def mixture_with(weights, means, covariances, covariance_type="full", random_state=0):
    """A fitted GaussianMixture holding exactly the given parameters (no EM: max_iter=0)."""
    weights, means = np.asarray(weights, float), np.asarray(means, float)
    cov = np.asarray(covariances, float)
    precisions = {
        "full": lambda: np.linalg.inv(cov),
        "tied": lambda: np.linalg.inv(cov),
        "diag": lambda: 1.0 / cov,
        "spherical": lambda: 1.0 / cov,
    }[covariance_type]()
    gm = GaussianMixture(
        len(weights),
        covariance_type=covariance_type,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
        max_iter=0,
        random_state=random_state,
    )
    dummy = np.random.RandomState(0).normal(size=(len(weights) + 2, means.shape[1]))
    return gm.fit(dummy)


@pytest.fixture(scope="module")
def two_d():
    return mixture_with(
        [0.3, 0.7],
        [[0.0, 1.0], [3.0, -2.0]],
        [[[1.0, 0.6], [0.6, 2.0]], [[2.0, -0.9], [-0.9, 1.5]]],
    )


@pytest.fixture(scope="module")
def four_d():
    rng = np.random.RandomState(2)
    covs = []
    for _ in range(3):
        A = rng.normal(size=(4, 4))
        covs.append(A @ A.T + 0.5 * np.eye(4))
    return mixture_with([0.2, 0.5, 0.3], rng.normal(scale=3, size=(3, 4)), covs)


def test_two_component_closed_form(two_d):
    a = 1.3
    cond = two_d.condition([0], [a])
    w, mu, cov = two_d.weights_, two_d.means_, two_d.covariances_
    # x1 | x0 = a inside component c: a normal with the textbook mean and variance.
    lik = np.array(
        [
            w[c]
            * math.exp(-0.5 * (a - mu[c, 0]) ** 2 / cov[c, 0, 0])
            / math.sqrt(2 * math.pi * cov[c, 0, 0])
            for c in range(2)
        ]
    )
    np.testing.assert_allclose(cond.weights_, lik / lik.sum(), rtol=1e-12)
    expected_means = [mu[c, 1] + cov[c, 0, 1] / cov[c, 0, 0] * (a - mu[c, 0]) for c in range(2)]
    expected_vars = [cov[c, 1, 1] - cov[c, 0, 1] ** 2 / cov[c, 0, 0] for c in range(2)]
    np.testing.assert_allclose(cond.means_[:, 0], expected_means, rtol=1e-12)
    np.testing.assert_allclose(cond.covariances_[:, 0, 0], expected_vars, rtol=1e-12)
    assert cond.n_features_in_ == 1 and cond.covariance_type == "full"
    # The regression helper is the mixture mean of the conditional.
    np.testing.assert_allclose(
        two_d.conditional_mean([[a]], [0]), [[cond.weights_ @ cond.means_[:, 0]]], rtol=1e-12
    )


def test_conditional_density_is_joint_over_marginal(four_d):
    given, values = [3, 1], np.array([0.4, -1.2])
    cond = four_d.condition(given, values)
    rest = [0, 2]
    rng = np.random.RandomState(0)
    x_rest = rng.normal(scale=2, size=(7, 2))
    joint_rows = np.empty((7, 4))
    joint_rows[:, rest] = x_rest
    joint_rows[:, given] = values
    marginal = logsumexp(
        [
            np.log(four_d.weights_[c])
            + st.multivariate_normal.logpdf(
                values, four_d.means_[c, given], four_d.covariances_[c][np.ix_(given, given)]
            )
            for c in range(3)
        ]
    )
    np.testing.assert_allclose(
        cond.score_samples(x_rest), four_d.score_samples(joint_rows) - marginal, rtol=1e-10
    )


def test_precision_form_agrees(four_d):
    # An independent route: the conditional covariance is the inverse of the precision's block.
    given, rest = [1], [0, 2, 3]
    x = np.array([2.0])
    cond = four_d.condition(given, x)
    for c in range(3):
        P = four_d.precisions_[c]
        cov = np.linalg.inv(P[np.ix_(rest, rest)])
        mean = four_d.means_[c, rest] - cov @ P[np.ix_(rest, given)] @ (x - four_d.means_[c, given])
        np.testing.assert_allclose(cond.covariances_[c], cov, rtol=1e-10)
        np.testing.assert_allclose(cond.means_[c], mean, rtol=1e-10, atol=1e-12)


def test_agrees_with_sampling(two_d):
    # Samples of the joint whose x0 lands near a are (nearly) samples of the conditional.
    X, labels = two_d.sample(400_000)  # seeded by the estimator's random_state
    a = 1.3
    near = np.abs(X[:, 0] - a) < 0.02
    assert near.sum() > 2000
    cond = two_d.condition([0], [a])
    y = X[near, 1]
    mean = cond.weights_ @ cond.means_[:, 0]
    second = cond.weights_ @ (cond.covariances_[:, 0, 0] + cond.means_[:, 0] ** 2)
    var = second - mean**2
    se = math.sqrt(var / near.sum())
    assert abs(y.mean() - mean) < 5 * se
    assert abs(y.var() / var - 1) < 0.1
    # The share of each component among the kept samples is the new weight.
    shares = np.bincount(labels[near], minlength=2) / near.sum()
    np.testing.assert_allclose(shares, cond.weights_, atol=0.03)


def test_conditional_mean_is_vectorised_condition(four_d):
    rng = np.random.RandomState(1)
    X_given = rng.normal(scale=2, size=(25, 2))
    given = [2, 0]
    out = four_d.conditional_mean(X_given, given)
    assert out.shape == (25, 2)
    for row, x in zip(out, X_given):
        cond = four_d.condition(given, x)
        np.testing.assert_allclose(row, cond.weights_ @ cond.means_, rtol=1e-9, atol=1e-12)


def test_conditional_mean_recovers_a_regression():
    # y = 2 x + 1 on x < 0 and y = -x + 4 on x > 0, small noise: the conditional mean fits it.
    rng = np.random.RandomState(0)
    x = rng.uniform(-3, 3, size=3000)
    y = np.where(x < 0, 2 * x + 1, -x + 4) + rng.normal(scale=0.1, size=x.size)
    gm = GaussianMixture(2, random_state=0).fit(np.c_[x, y])
    # Away from the kink, where one component explains x alone.
    grid = np.array([[-2.5], [-2.0], [2.0], [2.5]])
    np.testing.assert_allclose(
        gm.conditional_mean(grid, [0])[:, 0], [-4.0, -3.0, 2.0, 1.5], atol=0.05
    )


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_constrained_types_keep_their_type(four_d, covariance_type):
    rng = np.random.RandomState(3)
    X = rng.normal(size=(300, 4)) + np.repeat(rng.normal(scale=4, size=(3, 4)), 100, axis=0)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    given, values = [0, 2], np.array([0.5, -0.5])
    cond = gm.condition(given, values)
    assert cond.covariance_type == covariance_type
    # The same parameters as a full-covariance mixture condition to the same distribution.
    full = mixture_with(
        gm.weights_,
        gm.means_,
        np.array(
            [
                {
                    "tied": gm.covariances_,
                    "diag": np.diag(gm.covariances_[c]) if covariance_type == "diag" else None,
                    "spherical": gm.covariances_[c] * np.eye(4)
                    if covariance_type == "spherical"
                    else None,
                }[covariance_type]
                for c in range(3)
            ]
        ),
    )
    ref = full.condition(given, values)
    np.testing.assert_allclose(cond.weights_, ref.weights_, rtol=1e-10)
    np.testing.assert_allclose(cond.means_, ref.means_, rtol=1e-10, atol=1e-12)
    probe = rng.normal(size=(5, 2))
    np.testing.assert_allclose(cond.score_samples(probe), ref.score_samples(probe), rtol=1e-10)
    if covariance_type in ("diag", "spherical"):
        # No cross-covariances: the means and variances of the rest are untouched.
        np.testing.assert_allclose(cond.means_, gm.means_[:, [1, 3]], rtol=1e-12)


def test_result_is_a_working_estimator_and_source_untouched(four_d):
    before = [a.copy() for a in (four_d.weights_, four_d.means_, four_d.covariances_)]
    values = np.array([1.0])
    cond = four_d.condition(-1, values)
    assert cond.n_features_in_ == 3 and cond.n_components == 3
    X, _ = cond.sample(50)
    assert X.shape == (50, 3)
    assert cond.predict_proba(X).shape == (50, 3)
    refit = cond.condition([0, 1], [0.0, 0.0])  # conditioning composes
    assert refit.n_features_in_ == 1
    for a, b in zip(before, (four_d.weights_, four_d.means_, four_d.covariances_)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(values, [1.0])


def test_feature_names():
    import pandas as pd  # in the test extra: this test always runs

    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "c"])
    gm = GaussianMixture(2, random_state=0).fit(frame)
    cond = gm.condition(["b"], [0.1])
    np.testing.assert_array_equal(cond.feature_names_in_, ["a", "c"])
    np.testing.assert_allclose(cond.means_, gm.condition([1], [0.1]).means_)
    with pytest.raises(ValueError, match="'z' is not one of"):
        gm.condition(["z"], [0.1])


@pytest.mark.parametrize(
    "indices, values, message",
    [
        ([], [], "at least one feature"),
        ([0, 0], [1.0, 1.0], "must not repeat"),
        ([4], [1.0], "out of range"),
        ([-5], [1.0], "out of range"),
        ([1.0], [1.0], "integers"),
        ([True], [1.0], "integers"),
        ([0, 1, 2, 3], [0.0] * 4, "every feature"),
        ([0, 1], [1.0], "one number per conditioning feature"),
        ([0], [[1.0, 2.0]], "one number per conditioning feature"),
        ([0], [np.nan], "NaN or infinity"),
        (["a"], [1.0], "without feature names"),
    ],
    ids=[
        "empty",
        "repeat",
        "too-big",
        "too-negative",
        "float",
        "bool",
        "all",
        "short-values",
        "2d-values",
        "nan-value",
        "name-unfitted",
    ],
)
def test_bad_arguments_raise(four_d, indices, values, message):
    with pytest.raises(ValueError, match=message):
        four_d.condition(indices, values)


def test_conditional_mean_bad_arguments(four_d):
    with pytest.raises(ValueError, match="X_given has 3 columns"):
        four_d.conditional_mean(np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="must not repeat"):
        four_d.conditional_mean(np.zeros((2, 2)), [1, 1])
    with pytest.raises(ValueError, match="NaN"):
        four_d.conditional_mean([[np.nan, 0.0]], [0, 1])
    with pytest.raises(NotFittedError):
        GaussianMixture(2).conditional_mean(np.zeros((2, 1)), [0])
    with pytest.raises(NotFittedError):
        GaussianMixture(2).condition([0], [0.0])
