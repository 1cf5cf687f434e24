"""mclust's constrained models (closed forms EII, EEI, EVI, EEV, EVV; alternations VEI, VEE,
VEV; the common orientation of EVE and VVE by plane rotations, checked against the MM steps of
Browne & McNicholas) and mclust's names for scikit-learn's four: the M-step against the
published formulas written in NumPy, structure recovery, the EM bound, parameter counts,
aliases, files, threads, and selection."""

import io
import os
import warnings

import numpy as np
import pytest

import gaussmix
from gaussmix import GaussianMixture, _core
from gaussmix._layout import layout
from gaussmix._sklearn_compat import ConvergenceWarning

NEW_MODELS = ("EII", "EEI", "EVI", "EEV", "EVV", "VEI", "VEE", "VEV", "EVE", "VVE")
ALIASES = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}


def reference_covariances(model, X, resp):
    """Sigma_c from responsibilities by the formulas of Celeux & Govaert (1995), in NumPy."""
    nk = resp.sum(axis=0)
    N = nk.sum()
    n = X.shape[1]
    means = (resp.T @ X) / nk[:, None]
    W = np.stack([(resp[:, c, None] * (X - means[c])).T @ (X - means[c]) for c in range(len(nk))])
    if model == "EII":
        lam = np.trace(W, axis1=1, axis2=2).sum() / (n * N)
        return np.stack([lam * np.eye(n)] * len(nk))
    if model == "EEI":
        return np.stack([np.diag(np.diagonal(W, axis1=1, axis2=2).sum(axis=0) / N)] * len(nk))
    if model == "EVI":
        diags = np.diagonal(W, axis1=1, axis2=2)
        g = np.exp(np.log(diags).mean(axis=1))
        lam = g.sum() / N
        return np.stack([np.diag(lam * d / gc) for d, gc in zip(diags, g)])
    if model == "EEV":
        values, vectors = np.linalg.eigh(W)
        values, vectors = values[:, ::-1], vectors[:, :, ::-1]
        omega = values.sum(axis=0)
        return np.stack([L @ np.diag(omega / N) @ L.T for L in vectors])
    if model == "EVV":
        g = np.exp(np.log(np.linalg.eigvalsh(W)).mean(axis=1))
        lam = g.sum() / N
        return np.stack([lam * w / gc for w, gc in zip(W, g)])
    if model in ("VEI", "VEE", "VEV"):
        return _alternating_reference(model, W, nk, n)
    if model in ("EVE", "VVE"):
        return _common_orientation_reference(model, W, nk, n)
    raise AssertionError(model)


def _common_orientation_reference(model, W, nk, n):
    """EVE and VVE: shapes in closed form given the orientation D, D by the MM steps of
    Browne & McNicholas (2014), from the pooled scatter's axes."""
    D = np.linalg.eigh(W.sum(axis=0))[1][:, ::-1]
    alpha = np.array([np.linalg.eigvalsh(w).max() for w in W])

    def scales(D):
        d = np.einsum("ji,kjl,li->ki", D, W, D)  # diag(D^T W_c D)
        if model == "VVE":
            return d / nk[:, None]
        g = np.exp(np.log(d).mean(axis=1))
        return (d / g[:, None]) * (g.sum() / nk.sum())

    lam = scales(D)
    for _ in range(20000):
        F = sum((a * np.eye(n) - w) @ D @ np.diag(1 / s) for a, w, s in zip(alpha, W, lam))
        U, _, Vt = np.linalg.svd(F)
        updated = U @ Vt
        done = np.abs(updated - D).max() <= 1e-13 * np.abs(D).max()
        D, lam = updated, scales(updated)
        if done:
            break
    return np.stack([D @ np.diag(s) @ D.T for s in lam])


def _alternating_reference(model, W, nk, n):
    """Volumes and the shared part by alternation to convergence (Celeux & Govaert 1995)."""
    if model == "VEV":
        values, vectors = np.linalg.eigh(W)
        omega, axes = values[:, ::-1], vectors[:, :, ::-1]
    shared = np.eye(n) if model == "VEE" else np.ones(n)
    for _ in range(2000):
        if model == "VEI":
            lam = (np.diagonal(W, axis1=1, axis2=2) / shared).sum(axis=1) / (n * nk)
            total = (np.diagonal(W, axis1=1, axis2=2) / lam[:, None]).sum(axis=0)
        elif model == "VEE":
            inv = np.linalg.inv(shared)
            lam = np.einsum("kij,ji->k", W, inv) / (n * nk)
            total = (W / lam[:, None, None]).sum(axis=0)
        else:
            lam = (omega / shared).sum(axis=1) / (n * nk)
            total = (omega / lam[:, None]).sum(axis=0)
        g = np.exp(np.log(np.linalg.eigvalsh(total) if model == "VEE" else total).mean())
        updated = total / g
        if np.allclose(updated, shared, rtol=1e-14, atol=0):
            break
        shared = updated
    if model == "VEI":
        return np.stack([np.diag(volume * shared) for volume in lam])
    if model == "VEE":
        return np.stack([volume * shared for volume in lam])
    return np.stack([L @ np.diag(v * shared) @ L.T for L, v in zip(axes, lam)])


def draw(model, seed=0, n_per=400):
    """Draws from three well-separated components whose covariances follow `model`."""
    rng = np.random.RandomState(seed)
    n = 3
    centres = np.array([[0, 0, 0], [12, 0, 0], [0, 12, 0]], dtype=float)

    def rotation():
        q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        return q

    shape = np.array([3.0, 1.0, 1 / 3.0])
    volumes = (0.5, 1.0, 2.0)
    if model in ("EVE", "VVE"):
        q = rotation()
        shapes = ([3.0, 1.0, 1 / 3], [1 / 3, 3.0, 1.0], [1.0, 1 / 3, 3.0])
        vols = (1.0, 1.0, 1.0) if model == "EVE" else volumes
        return _blobs(rng, centres, [v * q @ np.diag(s) @ q.T for v, s in zip(vols, shapes)], n_per)
    if model == "VEI":
        return _blobs(rng, centres, [v * np.diag([2.0, 1.0, 0.5]) for v in volumes], n_per)
    if model == "VEE":
        q = rotation()
        return _blobs(rng, centres, [v * q @ np.diag(shape) @ q.T for v in volumes], n_per)
    if model == "VEV":
        covs = [
            v * q @ np.diag(shape) @ q.T
            for v, q in zip(volumes, (rotation(), rotation(), rotation()))
        ]
        return _blobs(rng, centres, covs, n_per)
    if model == "EII":
        covs = [np.eye(n)] * 3
    elif model == "EEI":
        covs = [np.diag([2.0, 1.0, 0.5])] * 3
    elif model == "EVI":
        covs = [np.diag(s) for s in ([3.0, 1.0, 1 / 3], [1 / 3, 3.0, 1.0], [1.0, 1 / 3, 3.0])]
    elif model == "EEV":
        covs = [q @ np.diag(shape) @ q.T for q in (rotation(), rotation(), rotation())]
    else:  # EVV
        shapes = ([4.0, 1.0, 0.25], [2.0, 2.0, 0.25], [1.0, 1.0, 1.0])
        covs = [q @ np.diag(s) @ q.T for q, s in zip((rotation(), rotation(), rotation()), shapes)]
    return _blobs(rng, centres, covs, n_per)


def _blobs(rng, centres, covs, n_per):
    return np.vstack([rng.multivariate_normal(m, c, n_per) for m, c in zip(centres, covs)])


@pytest.mark.parametrize("model", NEW_MODELS)
def test_m_step_is_the_published_closed_form(model):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(500, 4)) * [1.0, 2.0, 0.5, 1.5] + 10.0
    resp = rng.dirichlet(np.ones(3), size=500)
    kind = getattr(_core.CovarianceType, model)
    stats = _core.moments_from_responsibilities(X, np.empty(0), resp, kind, _core.PassOptions(1))
    mixture = _core.maximize(stats, 0.0)
    got = np.array(mixture.covariances).reshape(3, 4, 4)
    expected = reference_covariances(model, X, resp)
    if model in ("EVE", "VVE"):
        # The core finds the orientation by plane rotations, the reference by MM steps. The
        # objective is so flat near its optimum that both reach the same value to 1e-15
        # relative with entries a few 1e-8 apart, so the entries compare to 1e-6.
        nk = resp.sum(axis=0)
        means = resp.T @ X / nk[:, None]
        W = [(resp[:, c, None] * (X - means[c])).T @ (X - means[c]) for c in range(3)]

        def objective(S):
            return sum(
                nk[c] * np.linalg.slogdet(S[c])[1] + np.trace(np.linalg.solve(S[c], W[c]))
                for c in range(3)
            )

        assert objective(got) <= objective(expected) * (1 + 1e-13)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("model", NEW_MODELS)
def test_fits_recover_the_structure_and_the_bound_never_decreases(model):
    X = draw(model)
    gm = GaussianMixture(3, covariance_type=model, random_state=0, tol=1e-8, max_iter=500).fit(X)
    assert np.all(np.diff(gm.lower_bounds_) >= -1e-12)
    covs = gm.covariances_ - 1e-6 * np.eye(3)  # reg_covar
    assert covs.shape == (3, 3, 3) and gm.precisions_.shape == (3, 3, 3)
    volumes = np.linalg.det(covs) ** (1 / 3)
    if model.startswith("E"):
        np.testing.assert_allclose(volumes, volumes[0], rtol=1e-6)  # equal volumes
    else:
        assert volumes.max() / volumes.min() > 2.0  # the generating volumes differ 4-fold
    values = np.sort(np.linalg.eigvalsh(covs), axis=1)
    shapes = values / volumes[:, None]
    if model in ("VEI", "VEE", "VEV"):
        np.testing.assert_allclose(shapes, shapes[[0, 0, 0]], rtol=1e-6)  # one shape
    if model in ("EVE", "VVE"):
        # One orientation: the covariances commute (they share their eigenvectors).
        for a in covs:
            for b in covs:
                np.testing.assert_allclose(a @ b, b @ a, atol=1e-8 * np.abs(a @ b).max())
    if model == "VEE":
        normalised = covs / volumes[:, None, None]
        np.testing.assert_allclose(normalised, normalised[[0, 0, 0]], rtol=1e-5, atol=1e-9)
    if model in ("EII", "EEI", "EVI", "VEI"):
        off = covs - np.array([np.diag(np.diag(c)) for c in covs])
        assert np.abs(off).max() < 1e-12  # axis-aligned
    if model == "EII":
        np.testing.assert_allclose(values, values[0, 0], rtol=1e-6)
    if model in ("EEI", "EEV"):
        np.testing.assert_allclose(values, values[[0, 0, 0]], rtol=1e-6)  # equal shapes
    if model == "EEI":
        np.testing.assert_allclose(covs, covs[[0, 0, 0]], rtol=1e-6)
    # The generating model's covariances are recovered to sampling error.
    assert gm.converged_


def test_parameter_counts_are_mclusts_nvarparams():
    d, G = 3, 3
    expected = {
        "EII": 1,
        "VII": G,
        "EEI": d,
        "VVI": G * d,
        "EVI": 1 + G * (d - 1),
        "VEI": G + (d - 1),
        "VEE": G + (d - 1) + d * (d - 1) // 2,
        "VEV": G + (d - 1) + G * d * (d - 1) // 2,
        "EVE": 1 + G * (d - 1) + d * (d - 1) // 2,
        "VVE": G + G * (d - 1) + d * (d - 1) // 2,
        "EEE": d * (d + 1) // 2,
        "EEV": 1 + (d - 1) + G * d * (d - 1) // 2,
        "EVV": 1 + G * (d * (d + 1) // 2 - 1),
        "VVV": G * d * (d + 1) // 2,
    }
    X = draw("EVV")
    for model, count in expected.items():
        gm = GaussianMixture(G, covariance_type=model, random_state=0).fit(X)
        assert gm._n_parameters() == count + G * d + (G - 1), model
        assert gm.bic(X) == pytest.approx(
            -2 * gm.score(X) * len(X) + gm._n_parameters() * np.log(len(X)), rel=1e-12
        )


@pytest.mark.parametrize("alias, name", ALIASES.items())
def test_mclust_names_of_sklearns_four_are_exact_aliases(alias, name):
    X = draw("EVV", seed=2)
    a = GaussianMixture(3, covariance_type=alias, random_state=0).fit(X)
    b = GaussianMixture(3, covariance_type=name, random_state=0).fit(X)
    for attr in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert a.get_params()["covariance_type"] == alias
    assert a.bic(X) == b.bic(X)


@pytest.mark.parametrize("model", NEW_MODELS)
def test_files_threads_float32_and_weights(model):
    X = draw(model, seed=3)
    gm = GaussianMixture(3, covariance_type=model, random_state=0).fit(X)
    buffer = io.BytesIO()
    gm.save(buffer)
    back = gaussmix.load(io.BytesIO(buffer.getvalue()))
    np.testing.assert_array_equal(back.covariances_, gm.covariances_)
    np.testing.assert_array_equal(back.predict_proba(X), gm.predict_proba(X))
    one = GaussianMixture(3, covariance_type=model, random_state=0, n_threads=1).fit(X)
    np.testing.assert_array_equal(one.covariances_, gm.covariances_)
    f32 = GaussianMixture(3, covariance_type=model, random_state=0).fit(X.astype(np.float32))
    np.testing.assert_allclose(f32.means_, gm.means_, rtol=1e-4, atol=1e-4)
    w = np.random.RandomState(0).randint(0, 3, size=len(X)).astype(float)
    weighted = GaussianMixture(3, covariance_type=model, random_state=0).fit(X, sample_weight=w)
    repeated = GaussianMixture(
        3,
        covariance_type=model,
        weights_init=weighted.weights_,
        means_init=weighted.means_,
        precisions_init=weighted.precisions_,
        max_iter=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repeated.fit(np.repeat(X, w.astype(int), axis=0))
    once = GaussianMixture(
        3,
        covariance_type=model,
        weights_init=weighted.weights_,
        means_init=weighted.means_,
        precisions_init=weighted.precisions_,
        max_iter=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        once.fit(X, sample_weight=w)
    np.testing.assert_allclose(once.covariances_, repeated.covariances_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("model", ("VEE", "EVE", "VVE", "EVV"))
def test_a_prior_is_refused_naming_the_model(model):
    # The four models whose M-step has no conjugate form (test_priors.py has the other ten).
    with pytest.raises(ValueError, match=f"priors are not available for covariance_type '{model}'"):
        GaussianMixture(2, covariance_type=model, prior="default").fit(draw("EII"))


def test_an_emptied_component_stays_finite():
    X = draw("EVV")
    means = np.vstack([X[:3].mean(axis=0), X[400:403].mean(axis=0), [1e3, 1e3, 1e3]])
    for model in NEW_MODELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = GaussianMixture(3, covariance_type=model, means_init=means, max_iter=20).fit(X)
        assert np.isfinite(gm.covariances_).all() and np.isfinite(gm.lower_bound_)


@pytest.mark.parametrize("model", ["EII", "EEI", "EVV"])
def test_select_model_picks_the_generating_model(model):
    X = draw(model, seed=4)
    result = gaussmix.select_model(X, n_components=[3], covariance_types="all", random_state=0)
    assert set(result.table["covariance_type"]) == set(gaussmix._layout.MCLUST_MODELS)
    assert result.best_params_["covariance_type"] == model


def test_an_alias_survives_the_model_file():
    X = draw("EII")
    gm = GaussianMixture(3, covariance_type="VII", random_state=0).fit(X)
    buffer = io.BytesIO()
    gm.save(buffer)
    back = gaussmix.load(io.BytesIO(buffer.getvalue()))
    assert back.covariance_type == "VII"
    np.testing.assert_array_equal(back.covariances_, gm.covariances_)


@pytest.mark.parametrize("model", ["EVE", "VVE"])
def test_common_orientation_em_never_lowers_the_likelihood_on_wine(model):
    # From mclust's start on wine, EM for EVE and VVE used to fall by up to 1.6 per iteration:
    # the orientation search began at the pooled axes in every M-step. It begins at the E-step's
    # orientation now, and the rotations never raise the M-step's objective.
    X = np.loadtxt(os.path.join(os.path.dirname(__file__), "data", "wine.csv"), delimiter=",")
    for k in (2, 3, 4):
        gm = GaussianMixture(
            k, covariance_type=model, init_params="hc", reg_covar=0.0, tol=1e-8, max_iter=2000
        ).fit(X)
        bounds = np.array(gm.lower_bounds_) * len(X)
        assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:]))
        assert gm.converged_ and gm.n_iter_ < 200


@pytest.mark.parametrize("model", NEW_MODELS + ("VII", "VVI", "EEE", "VVV", "spherical", "tied"))
def test_decomposition_is_the_model_structure(model):
    mclust = {"spherical": "VII", "tied": "EEE"}.get(model, model)
    X = draw(mclust if mclust in NEW_MODELS else "VEV")
    gm = GaussianMixture(3, covariance_type=model, random_state=0, tol=1e-8, max_iter=500).fit(X)
    d = gm.decomposition()
    assert d.model == mclust
    k, n = gm.means_.shape
    full = layout(model).full_matrices(gm.covariances_, k, n)
    rebuilt = np.einsum("c,cij,cj,clj->cil", d.volumes, d.orientations, d.shapes, d.orientations)
    np.testing.assert_allclose(rebuilt, full, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.prod(d.shapes, axis=1), 1.0, rtol=1e-12)
    for D in d.orientations:
        np.testing.assert_allclose(D.T @ D, np.eye(n), atol=1e-12)
    volume, shape, orientation = mclust
    if volume == "E":
        np.testing.assert_allclose(d.volumes, d.volumes[0], rtol=1e-6)
    if shape == "E":
        np.testing.assert_allclose(d.shapes, d.shapes[[0] * k], rtol=1e-5)
    if shape == "I":
        np.testing.assert_allclose(d.shapes, 1.0, rtol=1e-12)
    if orientation == "I":
        np.testing.assert_array_equal(d.orientations, np.broadcast_to(np.eye(n), (k, n, n)))
    if orientation == "E":
        np.testing.assert_allclose(d.orientations, d.orientations[[0] * k], atol=1e-6)


def test_the_cap_warning_says_exactly_when_the_last_m_step_was_capped():
    # On wine, VEE's alternation in some early M-steps from this k-means start is still moving
    # (by more than 1e-13 relative) after 500 steps (in the optimised build, the third). Which
    # ones depends on the build's rounding, so the fit's warning is checked against the core's
    # own report for the same start, whichever M-steps it caps; the parameters stay finite.
    X = np.loadtxt(os.path.join(os.path.dirname(__file__), "data", "wine.csv"), delimiter=",")
    kwargs = dict(covariance_type="VEE", random_state=0, reg_covar=0.0)
    start = GaussianMixture(2, max_iter=0, **kwargs).fit(X)._mixture()
    for max_iter in range(1, 9):
        result = _core.run_em(
            X, np.empty(0), start, 1e-3, 0.0, max_iter, 0, -np.inf, None, None, False
        )
        gm = GaussianMixture(2, max_iter=max_iter, **kwargs)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            gm.fit(X)
        warned = [str(w.message) for w in record if "inner iteration" in str(w.message)]
        assert bool(warned) == result.last_m_step_unsettled
        if warned:
            assert "covariance_type='VEE': the last M-step's inner iteration" in warned[0]
            assert issubclass(record[0].category, ConvergenceWarning)
        assert np.all(np.isfinite(gm.covariances_)) and np.all(np.isfinite(gm.means_))
        assert 0 <= result.unsettled_m_steps <= result.n_iter
