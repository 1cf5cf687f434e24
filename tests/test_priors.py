"""MAP estimation: the M-step maximises the log-posterior, EM never lowers it, priors regularise."""

import numpy as np
import pytest
from scipy import stats as st
from sklearn.base import clone
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import gaussmix
from gaussmix import GaussianMixture, GaussianPrior, _core
from gaussmix._priors import resolve_prior

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(3)
    X = np.vstack(
        [
            rng.normal(size=(40, 3)) @ rng.normal(size=(3, 3)) + [0, 0, 0],
            rng.normal(size=(30, 3)) * [0.5, 1.0, 2.0] + [5, -2, 1],
            rng.normal(size=(30, 3)) + [-3, 4, 6],
        ]
    )
    return X


def core_type(name):
    return getattr(_core.CovarianceType, name)


def core_prior(covariance_type, n, alpha=1.7, kappa=0.3, nu=None):
    rng = np.random.RandomState(5)
    A = rng.normal(size=(n, n))
    matrix = A @ A.T + n * np.eye(n)
    scale = {
        "full": matrix,
        "tied": matrix,
        "diag": np.diag(matrix)[None, :],
        "spherical": np.array([[np.trace(matrix) / n]]),
    }[covariance_type]
    if nu is None:
        nu = n + 1.5 if covariance_type in ("full", "tied") else 2.5
    return _core.Prior(
        weight_concentration=alpha,
        mean=rng.normal(size=n),
        mean_precision=kappa,
        degrees_of_freedom=nu,
        scale=np.ascontiguousarray(scale),
    )


def full_covariances(cov, covariance_type, k, n):
    cov = np.asarray(cov)
    if covariance_type == "full":
        return cov.reshape(k, n, n)
    if covariance_type == "tied":
        return np.broadcast_to(cov, (k, n, n))
    if covariance_type == "diag":
        return np.array([np.diag(c) for c in cov])
    return np.array([c[0] * np.eye(n) for c in cov])


def scipy_log_prior(mix, prior, covariance_type):
    """log p(theta) from scipy's densities: an independent check of the core's log_prior."""
    k, n = mix.means.shape
    alpha = prior.weight_concentration
    out = st.dirichlet.logpdf(mix.weights / mix.weights.sum(), np.full(k, alpha)) if k > 1 else 0.0
    nu, kappa, scale, m0 = prior.degrees_of_freedom, prior.mean_precision, prior.scale, prior.mean
    covs = full_covariances(mix.covariances, covariance_type, k, n)
    if covariance_type == "tied":
        out += st.invwishart.logpdf(covs[0], df=nu, scale=scale)
    for c in range(k):
        if covariance_type == "full":
            out += st.invwishart.logpdf(covs[c], df=nu, scale=scale)
        if covariance_type in ("full", "tied"):
            out += st.multivariate_normal.logpdf(mix.means[c], m0, covs[c] / kappa)
        elif covariance_type == "diag":
            var = mix.covariances[c]
            out += st.invgamma.logpdf(var, nu / 2, scale=scale[0] / 2).sum()
            out += st.norm.logpdf(mix.means[c], m0, np.sqrt(var / kappa)).sum()
        else:
            var = mix.covariances[c, 0]
            out += st.invgamma.logpdf(var, nu / 2, scale=scale[0, 0] / 2)
            out += st.norm.logpdf(mix.means[c], m0, np.sqrt(var / kappa)).sum()
    return out


def expected_log_posterior(mix, X, resp, prior, covariance_type):
    """Q(theta) + log p(theta) for fixed responsibilities, with scipy densities."""
    k, n = mix.means.shape
    covs = full_covariances(mix.covariances, covariance_type, k, n)
    q = 0.0
    for c in range(k):
        log_pdf = st.multivariate_normal.logpdf(X, mix.means[c], covs[c])
        q += np.dot(resp[:, c], np.log(mix.weights[c]) + log_pdf)
    return q + scipy_log_prior(mix, prior, covariance_type)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_prior_matches_scipy(data, covariance_type):
    k, n = 3, data.shape[1]
    prior = core_prior(covariance_type, n)
    gm = GaussianMixture(k, covariance_type=covariance_type, random_state=0).fit(data)
    mix = gm._mixture()
    assert _core.log_prior(mix, prior) == pytest.approx(
        scipy_log_prior(mix, prior, covariance_type), rel=1e-10
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_map_step_maximises_the_expected_log_posterior(data, covariance_type):
    k, n = 3, data.shape[1]
    rng = np.random.RandomState(0)
    resp = rng.dirichlet(np.ones(k), size=data.shape[0])
    prior = core_prior(covariance_type, n)
    stats = _core.moments_from_responsibilities(
        data, np.empty(0), resp, core_type(covariance_type), _core.PassOptions(1)
    )
    best = _core.maximize(stats, 0.0, prior)
    f_best = expected_log_posterior(best, data, resp, prior, covariance_type)
    # Every small move away from the MAP step, in any parameter, lowers the objective.
    for _ in range(12):
        eps = 1e-3
        weights = best.weights * np.exp(eps * rng.normal(size=k))
        weights /= weights.sum()
        means = best.means + eps * rng.normal(size=best.means.shape)
        cov = np.array(best.covariances)
        if covariance_type in ("full", "tied"):
            blocks = cov.reshape(-1, n, n)
            for b in blocks:
                E = eps * rng.normal(size=(n, n))
                b += E + E.T
            cov = blocks.reshape(cov.shape)
        else:
            cov = cov * np.exp(eps * rng.normal(size=cov.shape))
        moved = _core.Mixture.from_covariances(
            core_type(covariance_type), weights, means, np.ascontiguousarray(cov)
        )
        assert expected_log_posterior(moved, data, resp, prior, covariance_type) < f_best


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_map_weights_follow_the_dirichlet(data, covariance_type):
    k = 4
    rng = np.random.RandomState(1)
    resp = rng.dirichlet(np.ones(k), size=data.shape[0])
    prior = core_prior(covariance_type, data.shape[1], alpha=3.0)
    stats = _core.moments_from_responsibilities(
        data, np.empty(0), resp, core_type(covariance_type), _core.PassOptions(1)
    )
    mix = _core.maximize(stats, 0.0, prior)
    n_k = resp.sum(axis=0)
    np.testing.assert_allclose(mix.weights, (n_k + 2.0) / (n_k.sum() + 2.0 * k), rtol=1e-12)
    # The means are the data means pulled towards the prior mean by kappa / (N_k + kappa).
    data_means = resp.T @ data / n_k[:, None]
    kappa = prior.mean_precision
    expected = (n_k[:, None] * data_means + kappa * prior.mean) / (n_k[:, None] + kappa)
    np.testing.assert_allclose(mix.means, expected, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(
    "prior",
    ["default", GaussianPrior(weight_concentration=2.0, mean_precision=1.0)],
    ids=["default", "custom"],
)
def test_log_posterior_never_decreases(data, covariance_type, prior):
    gm = GaussianMixture(
        4,
        covariance_type=covariance_type,
        prior=prior,
        reg_covar=0.0,
        tol=0.0,
        max_iter=150,
        random_state=2,
        init_params="random",
    )
    with pytest.warns(gaussmix._sklearn_compat.ConvergenceWarning):
        gm.fit(data)
    bounds = np.array(gm.lower_bounds_)
    assert len(bounds) == 150
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert bounds[-1] - bounds[0] > 0.01


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bound_is_the_log_posterior_per_sample(data, covariance_type):
    _, prior = resolve_prior("default", data, np.empty(0), covariance_type, 3)
    start = GaussianMixture(
        3, covariance_type=covariance_type, prior="default", max_iter=0, random_state=0
    ).fit(data)
    # One EM iteration reports the objective of the parameters it started from.
    result = _core.run_em(
        data, np.empty(0), start._mixture(), 0.0, 1e-6, 1, 1, -np.inf, None, prior
    )
    log_lik = start.score_samples(data).sum()
    expected = (log_lik + scipy_log_prior(start._mixture(), prior, covariance_type)) / data.shape[0]
    assert result.lower_bound == pytest.approx(expected, rel=1e-10)
    # score() stays the plain log-likelihood and bic() uses it at the MAP estimate.
    assert start.score(data) == pytest.approx(log_lik / data.shape[0], rel=1e-12)
    n = data.shape[0]
    assert start.bic(data) == pytest.approx(
        -2 * log_lik + start._n_parameters() * np.log(n), rel=1e-12
    )


def collapsing_data():
    rng = np.random.RandomState(4)
    blob = rng.normal(size=(60, 2))
    twin = np.array([[8.0, 8.0], [8.0, 8.0]])
    return np.vstack([blob, twin])


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_prior_keeps_a_collapsing_component_regular(covariance_type):
    X = collapsing_data()
    precisions = {
        "full": np.array([np.eye(2)] * 2),
        "diag": np.ones((2, 2)),
        "spherical": np.ones(2),
    }
    kw = dict(
        covariance_type=covariance_type,
        reg_covar=0.0,
        means_init=[[0.0, 0.0], [8.0, 8.0]],
        weights_init=[0.5, 0.5],
        precisions_init=precisions[covariance_type],
    )
    # By maximum likelihood the component on two identical points has zero covariance.
    with pytest.raises(ValueError, match="not positive definite"):
        GaussianMixture(2, **kw).fit(X)
    gm = GaussianMixture(2, prior="default", **kw).fit(X)
    twin = int(np.argmin(np.abs(gm.means_ - 8.0).sum(axis=1)))
    cov = (
        np.atleast_2d(gm.covariances_[twin]) if covariance_type == "full" else gm.covariances_[twin]
    )
    smallest = np.linalg.eigvalsh(cov).min() if covariance_type == "full" else np.min(cov)
    # The prior's covariance mode for two points: scale / (nu + 2 + n + 2), far from singular.
    scale = gm.prior_.scale
    floor = (np.linalg.eigvalsh(scale).min() if covariance_type == "full" else np.min(scale)) / 20
    assert smallest > floor > 1e-3
    assert gm.converged_


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_vanishing_prior_gives_the_maximum_likelihood_fit(data, covariance_type):
    # Sample weights of 1e6 make the data outweigh the default prior a million-fold.
    start = GaussianMixture(3, covariance_type=covariance_type, random_state=0, max_iter=0).fit(
        data
    )
    kw = dict(
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        tol=1e-10,
        max_iter=1000,
        reg_covar=0.0,
    )
    ml = SkGaussianMixture(3, **kw).fit(data)
    gaps = []
    for weight in (1e2, 1e4, 1e6):
        gm = GaussianMixture(3, prior="default", **kw).fit(
            data, sample_weight=np.full(data.shape[0], weight)
        )
        gaps.append(np.abs(gm.covariances_ - ml.covariances_).max())
    np.testing.assert_allclose(gm.means_, ml.means_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gm.covariances_, ml.covariances_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gm.weights_, ml.weights_, rtol=1e-5)
    # ... and the gap to the maximum-likelihood estimate shrinks with the prior's relative weight.
    assert gaps[0] > 10 * gaps[1] > 100 * gaps[2]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_prior_is_built_from_the_data(data, covariance_type):
    k, n = 4, data.shape[1]
    prior = gaussmix.default_prior(data, k, covariance_type)
    cov = np.cov(data, rowvar=False, bias=True) / k ** (2 / n)
    expected_scale = {
        "full": cov,
        "tied": cov,
        "diag": np.diag(cov),
        "spherical": np.trace(cov) / n,
    }[covariance_type]
    np.testing.assert_allclose(prior.mean, data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(prior.scale, expected_scale, rtol=1e-12)
    assert prior.degrees_of_freedom == n + 2
    assert prior.mean_precision == 0.01
    assert prior.weight_concentration == 1.0
    gm = GaussianMixture(k, covariance_type=covariance_type, prior="default", random_state=0).fit(
        data
    )
    np.testing.assert_allclose(gm.prior_.scale, prior.scale, rtol=1e-12)


def test_weighted_default_prior_uses_the_weights(data):
    w = np.arange(data.shape[0]) % 3
    prior = gaussmix.default_prior(data, 2, "full", sample_weight=w)
    rep = np.repeat(data, w, axis=0)
    np.testing.assert_allclose(prior.mean, rep.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(
        prior.scale, np.cov(rep, rowvar=False, bias=True) / 2 ** (2 / 3), rtol=1e-10
    )


def test_user_prior_fields_and_scale_reduction(data):
    n = data.shape[1]
    prior = GaussianPrior(
        mean=np.zeros(n),
        mean_precision=2.0,
        degrees_of_freedom=7.0,
        scale=np.diag([1.0, 2.0, 3.0]),
        weight_concentration=1.5,
    )
    for covariance_type, expected in [
        ("full", np.diag([1.0, 2.0, 3.0])),
        ("diag", [1.0, 2.0, 3.0]),
        ("spherical", 2.0),
    ]:
        gm = GaussianMixture(2, covariance_type=covariance_type, prior=prior, random_state=0).fit(
            data
        )
        np.testing.assert_allclose(gm.prior_.scale, expected)
        assert gm.prior_.degrees_of_freedom == 7.0
        np.testing.assert_array_equal(gm.prior_.mean, np.zeros(n))
    scalar = GaussianMixture(2, prior=GaussianPrior(scale=2.5), random_state=0).fit(data)
    np.testing.assert_allclose(scalar.prior_.scale, 2.5 * np.eye(n))


def test_no_prior_is_scikit_learn(data):
    kw = dict(random_state=0, tol=1e-8)
    ours = GaussianMixture(3, **kw).fit(data)
    ref = SkGaussianMixture(3, **kw).fit(data)
    assert not hasattr(ours, "prior_")
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-8)


def test_prior_survives_clone_and_refit(data):
    gm = GaussianMixture(2, prior=GaussianPrior(mean_precision=0.5), random_state=0)
    copy = clone(gm)
    assert copy.get_params()["prior"].mean_precision == 0.5
    copy.fit(data)
    assert hasattr(copy, "prior_")
    copy.set_params(prior=None).fit(data)
    assert not hasattr(copy, "prior_")


@pytest.mark.parametrize(
    "prior, covariance_type, message",
    [
        ("flat", "full", "prior must be None, 'default'"),
        ({"mean": 0}, "full", "GaussianPrior"),
        (GaussianPrior(mean_precision=0.0), "full", "mean_precision"),
        (GaussianPrior(mean_precision=np.nan), "diag", "mean_precision"),
        (GaussianPrior(weight_concentration=0.5), "full", "weight_concentration"),
        (GaussianPrior(degrees_of_freedom=1.5), "full", "degrees_of_freedom"),
        (GaussianPrior(degrees_of_freedom=0.0), "spherical", "degrees_of_freedom"),
        (GaussianPrior(mean=[0.0, 1.0]), "full", "prior mean"),
        (GaussianPrior(scale=np.ones((2, 2))), "full", "prior scale"),
        (GaussianPrior(scale=np.ones((3, 3))), "tied", "positive definite"),
        (GaussianPrior(scale=-1.0), "diag", "positive"),
        (GaussianPrior(scale=[1.0, np.inf, 1.0]), "diag", "NaN or infinity"),
    ],
    ids=[
        "string",
        "dict",
        "kappa-zero",
        "kappa-nan",
        "alpha",
        "dof-full",
        "dof-spherical",
        "mean-shape",
        "scale-shape",
        "scale-singular",
        "scale-negative",
        "scale-inf",
    ],
)
def test_bad_priors_raise(data, prior, covariance_type, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2, covariance_type=covariance_type, prior=prior).fit(data)


def test_default_prior_with_more_features_than_samples():
    # A singular data covariance cannot be an inverse-Wishart scale: its diagonal stands in.
    X = np.random.RandomState(0).rand(12, 20)
    prior = gaussmix.default_prior(X, 2, "full")
    np.testing.assert_allclose(prior.scale, np.diag(X.var(axis=0)) / 2 ** (2 / 20), rtol=1e-12)
    counts = np.random.RandomState(1).randint(0, 4, size=12)
    weighted = GaussianMixture(2, prior="default", random_state=0).fit(X, sample_weight=counts)
    repeated = GaussianMixture(2, prior="default", random_state=0).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(weighted.means_, repeated.means_, rtol=1e-8)
    np.testing.assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-8, atol=1e-12)


def test_constant_feature_needs_a_scale():
    X = np.c_[np.random.RandomState(0).normal(size=(30, 2)), np.ones(30)]
    with pytest.raises(ValueError, match="pass a scale"):
        GaussianMixture(2, prior="default").fit(X)
    gm = GaussianMixture(2, prior=GaussianPrior(scale=0.1), random_state=0).fit(X)
    assert np.isfinite(gm.covariances_).all()
