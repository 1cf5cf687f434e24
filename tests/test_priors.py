"""MAP estimation: the M-step maximises the log-posterior, EM never lowers it, priors regularise."""

import numpy as np
import pytest
from scipy import stats as st
from scipy.linalg import expm
from sklearn.base import clone
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import gaussmix
from gaussmix import GaussianMixture, GaussianPrior, _core
from gaussmix._layout import layout
from gaussmix._priors import resolve_prior

SKLEARN_TYPES = ["full", "tied", "diag", "spherical"]
# mclust's constrained models that take a prior: EII spherical's form (one variance), EEI, VEI
# and EVI diag's (a variance per feature), EEV and VEV full's (inverse-Wishart).
MCLUST_PRIOR_MODELS = ["EII", "EEI", "VEI", "EVI", "EEV", "VEV"]
COVARIANCE_TYPES = SKLEARN_TYPES + MCLUST_PRIOR_MODELS
# Types whose one covariance every component shares: their covariance prior counts once.
SHARED = {"tied", "EII", "EEI"}


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
    form = layout(covariance_type).prior
    scale = {
        "matrix": matrix,
        "diagonal": np.diag(matrix)[None, :],
        "scalar": np.array([[np.trace(matrix) / n]]),
    }[form]
    if nu is None:
        nu = n + 1.5 if form == "matrix" else 2.5
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
    if covariance_type == "spherical":
        return np.array([c[0] * np.eye(n) for c in cov])
    return cov.reshape(k, n, n)  # mclust's constrained models: full matrices


def scipy_log_prior(mix, prior, covariance_type):
    """log p(theta) from scipy's densities: an independent check of the core's log_prior.

    A shared covariance (tied, EII, EEI) has its prior once, the others one per component (for
    the constrained models: the unconstrained density at their covariances). Variance priors
    (diagonal and scalar forms) hold each variance (or the one variance) inverse-gamma, each
    mean coordinate normal given it.
    """
    k, n = mix.means.shape
    alpha = prior.weight_concentration
    out = st.dirichlet.logpdf(mix.weights / mix.weights.sum(), np.full(k, alpha)) if k > 1 else 0.0
    nu, kappa, scale, m0 = prior.degrees_of_freedom, prior.mean_precision, prior.scale, prior.mean
    covs = full_covariances(mix.covariances, covariance_type, k, n)
    shared = covariance_type in SHARED
    form = layout(covariance_type).prior
    for c in range(k):
        carries_prior = c == 0 or not shared
        if form == "matrix":
            if carries_prior:
                out += st.invwishart.logpdf(covs[c], df=nu, scale=scale)
            out += st.multivariate_normal.logpdf(mix.means[c], m0, covs[c] / kappa)
            continue
        var = np.diag(covs[c])
        if form == "scalar":
            var = np.full(n, var.mean())
            if carries_prior:
                out += st.invgamma.logpdf(var[0], nu / 2, scale=scale[0, 0] / 2)
        elif carries_prior:
            out += st.invgamma.logpdf(var, nu / 2, scale=scale[0] / 2).sum()
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


def move_within_model(covs, model, rng, eps):
    """Covariances (k, n, n) of an mclust model moved by about eps in its own parameters:
    volumes, shapes and orientations, each Equal across components or Variable as the model's
    letters say, so the moved covariances are still the model's."""
    k, n, _ = covs.shape
    volume, shape, orientation = model

    def factors(letter, size):  # one random factor for all (E), one each (V), none (I)
        if letter == "I":
            return np.ones((k, size))
        z = eps * rng.normal(size=(1 if letter == "E" else k, size))
        z -= z.mean(axis=1, keepdims=True) if size > 1 else 0.0
        return np.broadcast_to(np.exp(z), (k, size))

    lam, shp = factors(volume, 1), factors(shape, n)
    moved = []
    for c in range(k):
        if orientation == "I":
            axes, values = np.eye(n), np.diag(covs[c])
        else:
            values, axes = np.linalg.eigh(covs[c])
            values, axes = values[::-1], axes[:, ::-1]
            S = eps * rng.normal(size=(n, n))
            axes = axes @ expm(S - S.T)
        moved.append(axes @ np.diag(values * lam[c] * shp[c]) @ axes.T)
    return np.array(moved)


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
        if covariance_type in MCLUST_PRIOR_MODELS:
            cov = move_within_model(cov.reshape(k, n, n), covariance_type, rng, eps).reshape(-1, n)
        elif covariance_type in ("full", "tied"):
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


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical", "VEI", "VEV"])
def test_prior_keeps_a_collapsing_component_regular(covariance_type):
    X = collapsing_data()
    precisions = {
        "diag": np.ones((2, 2)),
        "spherical": np.ones(2),
    }.get(covariance_type, np.array([np.eye(2)] * 2))
    kw = dict(
        covariance_type=covariance_type,
        reg_covar=0.0,
        means_init=[[0.0, 0.0], [8.0, 8.0]],
        weights_init=[0.5, 0.5],
        precisions_init=precisions,
    )
    # By maximum likelihood the component on two identical points has zero covariance.
    with pytest.raises(ValueError, match="not positive definite"):
        GaussianMixture(2, **kw).fit(X)
    gm = GaussianMixture(2, prior="default", **kw).fit(X)
    twin = int(np.argmin(np.abs(gm.means_ - 8.0).sum(axis=1)))
    cov = gm.covariances_[twin]
    smallest = np.linalg.eigvalsh(cov).min() if cov.ndim == 2 else np.min(cov)
    # The prior's covariance mode for two points: scale / (nu + 2 + n + 2), far from singular.
    scale = np.atleast_1d(gm.prior_.scale)
    floor = (np.linalg.eigvalsh(scale).min() if scale.ndim == 2 else np.min(scale)) / 20
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
    # The maximum-likelihood fit: scikit-learn's for its four types, gaussmix's own for mclust's
    # models (compared with mclust's in test_mclust_reference.py).
    reference = SkGaussianMixture if covariance_type in SKLEARN_TYPES else GaussianMixture
    ml = reference(3, **kw).fit(data)
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


@pytest.mark.parametrize(
    "model, counterpart",
    [("EII", "spherical"), ("EEI", "diag"), ("VEI", "diag"), ("EVI", "diag")]
    + [("EEV", "full"), ("VEV", "full"), ("EEV", "tied")],
)
def test_one_component_gives_the_counterparts_fit(data, model, counterpart):
    # With one component each model's prior is its counterpart's, so the posterior is too.
    kw = dict(prior=GaussianPrior(mean_precision=0.5), tol=1e-12, random_state=0)
    ours = GaussianMixture(1, covariance_type=model, **kw).fit(data)
    theirs = GaussianMixture(1, covariance_type=counterpart, **kw).fit(data)
    k, n = 1, data.shape[1]
    expected = layout(counterpart).full_matrices(theirs.covariances_, k, n)
    np.testing.assert_allclose(ours.covariances_, expected, rtol=1e-10)
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-12)
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-12)


@pytest.mark.parametrize("model", MCLUST_PRIOR_MODELS)
def test_map_fit_keeps_the_models_equal_parts(data, model):
    # reg_covar, added to every variance after the M-step, would bend the shapes a little.
    gm = GaussianMixture(3, covariance_type=model, prior="default", reg_covar=0.0, random_state=0)
    parts = gm.fit(data).decomposition()
    for letter, values in zip(model, (parts.volumes, parts.shapes, parts.orientations)):
        spread = np.ptp(np.asarray(values).reshape(3, -1), axis=0).max()
        if letter == "E":
            assert spread < 1e-10
        elif letter == "V":
            assert spread > 1e-3


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_prior_is_built_from_the_data(data, covariance_type):
    k, n = 4, data.shape[1]
    prior = gaussmix.default_prior(data, k, covariance_type)
    cov = np.cov(data, rowvar=False, bias=True) / k ** (2 / n)
    expected_scale = {
        "matrix": cov,
        "diagonal": np.diag(cov),
        "scalar": np.trace(cov) / n,
    }[layout(covariance_type).prior]
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
        ("EII", 2.0),
        ("EEI", [1.0, 2.0, 3.0]),
        ("VEI", [1.0, 2.0, 3.0]),
        ("EVI", [1.0, 2.0, 3.0]),
        ("EEV", np.diag([1.0, 2.0, 3.0])),
        ("VEV", np.diag([1.0, 2.0, 3.0])),
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
        (GaussianPrior(degrees_of_freedom=2.0), "EEV", "degrees_of_freedom"),
        (GaussianPrior(degrees_of_freedom=-1.0), "VEI", "degrees_of_freedom"),
        (GaussianPrior(scale=[1.0, -1.0, 1.0]), "EEI", "positive"),
        (GaussianPrior(scale=np.ones((3, 3))), "VEV", "positive definite"),
        ("default", "EVE", "priors are not available for covariance_type 'EVE'"),
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
        "dof-EEV",
        "dof-VEI",
        "scale-EEI",
        "scale-VEV",
        "EVE",
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
