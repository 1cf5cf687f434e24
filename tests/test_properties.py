"""Property tests: invariants of fits on random small problems (shapes, dtypes, value ranges)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaussmix import GaussianMixture, _core
from gaussmix._sklearn_compat import ConvergenceWarning

from conftest import COVARIANCE_TYPES

# derandomize: the same examples on every run, so CI cannot turn red by chance; database=None
# keeps runs from depending on (or writing) earlier failures.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def problems(draw, min_rows_per_component=1, covariance_types=COVARIANCE_TYPES):
    """(X, n_components, covariance_type): n <= 20 rows, k <= 10, 1-4 features, float32 or
    float64, values spread over about 1e-3 .. 1e6 and sometimes far from the origin."""
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    n_features = draw(st.integers(1, 4))
    k = draw(st.integers(1, 10))
    n_samples = draw(st.integers(max(2, k * min_rows_per_component), 20))
    assume(n_samples >= k)
    unit = draw(
        hnp.arrays(
            np.float64, (n_samples, n_features), elements=st.floats(-1, 1, allow_subnormal=False)
        )
    )
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3, 1e6]))
    offset = draw(st.sampled_from([0.0, 0.0, 10.0 * scale, -1e3 * scale]))
    X = (unit * scale + offset).astype(dtype)
    return X, k, draw(st.sampled_from(covariance_types))


def _fit(X, k, covariance_type, **params):
    params.setdefault("random_state", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(k, covariance_type=covariance_type, **params).fit(X)


def _reg_covar(X):
    # reg_covar relative to the data's spread, so tiny and huge scales are alike regularised.
    spread = float(np.ptp(X.astype(np.float64), axis=0).max())
    return 1e-6 * max(spread, 1e-3) ** 2


@PROPERTY
@given(problems())
def test_outputs_are_finite_and_consistent(problem):
    X, k, covariance_type = problem
    gm = _fit(X, k, covariance_type, reg_covar=_reg_covar(X), max_iter=20)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(gm, name)).all(), name
    assert np.isfinite(gm.lower_bound_)

    log_density = gm.score_samples(X)
    proba = gm.predict_proba(X)
    assert np.isfinite(log_density).all() and np.isfinite(proba).all()
    assert proba.min() >= 0
    tight = 1e-10 if X.dtype == np.float64 else 1e-5
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=tight)

    # Per-component log-densities (log w_c + log N_c) agree with both queries.
    weighted = _core.log_prob(X, gm._mixture(), "weighted_log_prob", 1)
    top = weighted.max(axis=1)
    lse = top + np.log(np.exp(weighted - top[:, None]).sum(axis=1))
    np.testing.assert_allclose(log_density, lse, rtol=tight, atol=tight * (1 + np.abs(lse).max()))
    np.testing.assert_allclose(proba, np.exp(weighted - lse[:, None]), rtol=0, atol=10 * tight)
    labels = gm.predict(X)
    assert (weighted[np.arange(len(X)), labels] >= top - tight * (1 + np.abs(top))).all()
    np.testing.assert_allclose(gm.score(X), log_density.mean(), rtol=1e-12)


def _given_start(X, k, covariance_type):
    """Initial parameters from the data itself (first k rows as means, the data's spread)."""
    var = X.astype(np.float64).var(axis=0) + _reg_covar(X) + 1e-300
    precision = {
        "full": np.stack([np.diag(1 / var)] * k),
        "tied": np.diag(1 / var),
        "diag": np.tile(1 / var, (k, 1)),
        "spherical": np.full(k, 1 / var.mean()),
    }
    return {
        "weights_init": np.full(k, 1.0 / k),
        "means_init": X[:k].astype(np.float64),
        "precisions_init": precision[covariance_type],
    }


@PROPERTY
@given(problems(), st.randoms(use_true_random=False))
def test_row_permutation_does_not_change_the_fit(problem, random):
    X, k, covariance_type = problem
    start = _given_start(X, k, covariance_type)
    order = list(range(len(X)))
    random.shuffle(order)
    params = dict(reg_covar=_reg_covar(X), max_iter=5, tol=0.0, **start)
    a = _fit(X, k, covariance_type, **params)
    b = _fit(X[order], k, covariance_type, **params)
    # Only the summation order differs; few iterations keep the rounding from compounding.
    rtol = 1e-7 if X.dtype == np.float64 else 2e-3
    spread = float(np.ptp(X.astype(np.float64))) + 1e-3
    np.testing.assert_allclose(a.weights_, b.weights_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(a.means_, b.means_, rtol=rtol, atol=rtol * spread)
    np.testing.assert_allclose(a.score_samples(X), b.score_samples(X), rtol=rtol, atol=rtol * 10)


@PROPERTY
@given(problems(min_rows_per_component=2))
def test_map_lower_bound_never_decreases(problem):
    _check_map_lower_bound_never_decreases(problem)


@PROPERTY
@given(
    problems(min_rows_per_component=2, covariance_types=("EII", "EEI", "VEI", "EVI", "EEV", "VEV"))
)
def test_map_lower_bound_never_decreases_for_mclusts_models(problem):
    # The six constrained models that take a prior: their MAP M-step is their own M-step on the
    # statistics plus the prior's pseudo-data, exact (or, for VEI and VEV, an alternation).
    _check_map_lower_bound_never_decreases(problem)


def _check_map_lower_bound_never_decreases(problem):
    # MAP-EM with reg_covar = 0 is exact EM on the log-posterior: every iteration must raise it
    # (up to rounding). (With reg_covar > 0 the M-step is not the exact maximiser, so plain
    # maximum likelihood is not monotone by construction.)
    X, k, covariance_type = problem
    # Monotonicity is a statement about exact arithmetic; keep to data the dtype resolves well:
    # every feature spread over at least 1e-3 of its magnitude and of the widest feature's
    # spread. (Outside that, e.g. two rows whose features differ in scale by 1e6 in float32, the
    # fit may instead stop with the not-positive-definite error naming the component.)
    X64 = X.astype(np.float64)
    std = X64.std(axis=0)
    assume((std > 1e-3 * np.abs(X64).max(axis=0)).all() and (std > 1e-3 * std.max()).all())
    # float32 precisions of 1/std^2 must stay in float32's range.
    assume(X.dtype == np.float64 or std.min() > 1e-15)
    note(f"X = {X64.tolist()!r}")
    gm = _fit(X, k, covariance_type, prior="default", reg_covar=0.0, max_iter=30, tol=0.0)
    bounds = np.array(gm.lower_bounds_)
    assert np.isfinite(bounds).all()
    slack = (1e-9 if X.dtype == np.float64 else 1e-4) * (1 + np.abs(bounds[:-1]))
    assert (np.diff(bounds) >= -slack).all(), bounds


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_lower_bound_nondecreasing_on_well_posed_data(covariance_type):
    # Maximum likelihood with a negligible reg_covar on data with plenty of samples per
    # component: each EM step raises the bound.
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(200, 3)) + c for c in ([0, 0, 0], [4, 4, 0], [0, 5, 5])])
    gm = _fit(X, 3, covariance_type, reg_covar=1e-12, max_iter=60, tol=0.0, init_params="random")
    bounds = np.array(gm.lower_bounds_)
    assert len(bounds) == 60
    assert (np.diff(bounds) >= -1e-10 * np.abs(bounds[:-1])).all()
