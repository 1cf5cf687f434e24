"""Pickled models predict exactly as the originals; clone and get/set_params round-trip."""

import pickle
import warnings

import numpy as np
import pytest

from gaussmix import GaussianMixture, GaussianPrior
from gaussmix._sklearn_compat import ConvergenceWarning

from conftest import COVARIANCE_TYPES, make_mixture_data

X = make_mixture_data(n_samples=300, n_features=3, seed=4)
W = np.random.RandomState(1).uniform(0.1, 3.0, size=len(X))
FITTED = (
    "weights_",
    "means_",
    "covariances_",
    "precisions_",
    "precisions_cholesky_",
    "converged_",
    "n_iter_",
    "lower_bound_",
    "lower_bounds_",
    "n_features_in_",
)

VARIANTS = {
    "plain": ({}, None),
    "prior": ({"prior": "default"}, None),
    "custom-prior": ({"prior": GaussianPrior(weight_concentration=2.0, mean_precision=0.5)}, None),
    "weights": ({}, W),
    "prior-and-weights": ({"prior": "default", "n_threads": 1}, W),
}


def _assert_same_model(a, b, data):
    for name in FITTED:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for method in ("predict", "predict_proba", "score_samples"):
        np.testing.assert_array_equal(getattr(a, method)(data), getattr(b, method)(data))
    assert a.score(data) == b.score(data) and a.bic(data) == b.bic(data)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_pickle_round_trip_predicts_identically(covariance_type, dtype, variant):
    params, w = VARIANTS[variant]
    data = X.astype(dtype)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0, **params)
    gm.fit(data, sample_weight=w)
    for protocol in (pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        loaded = pickle.loads(pickle.dumps(gm, protocol=protocol))
        assert type(loaded) is GaussianMixture and loaded is not gm
        _assert_same_model(gm, loaded, data)
        if "prior" in params:
            assert repr(loaded.prior_) == repr(gm.prior_)
        # The loaded model keeps working: sampling with the same state gives the same draws.
        np.testing.assert_array_equal(loaded.sample(5)[0], gm.sample(5)[0])


def test_pickle_of_fitted_dataframe_model_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    gm = GaussianMixture(2, random_state=0).fit(frame)
    loaded = pickle.loads(pickle.dumps(gm))
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b", "c"])
    np.testing.assert_array_equal(loaded.predict(frame), gm.predict(frame))


def test_warm_start_continues_identically_after_pickling():
    gm = GaussianMixture(3, warm_start=True, max_iter=3, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 iterations at a time
        gm.fit(X)
        loaded = pickle.loads(pickle.dumps(gm))
        gm.fit(X)
        loaded.fit(X)
    _assert_same_model(gm, loaded, X)


def test_unfitted_pickle_round_trip():
    gm = GaussianMixture(4, covariance_type="diag", reg_covar=1e-3, n_threads=2)
    loaded = pickle.loads(pickle.dumps(gm))
    assert loaded.get_params() == gm.get_params()
    assert not hasattr(loaded, "means_")


def _params_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key])
        elif isinstance(a[key], GaussianPrior):
            assert repr(a[key]) == repr(b[key])
        else:
            assert a[key] == b[key] or a[key] is b[key], key


def test_clone_and_params_round_trip():
    base = pytest.importorskip("sklearn.base")
    inits = {
        "weights_init": np.array([0.5, 0.5]),
        "means_init": X[:2].copy(),
        "precisions_init": np.ones((2, 3)),
    }
    gm = GaussianMixture(
        2,
        covariance_type="diag",
        tol=1e-4,
        reg_covar=1e-5,
        max_iter=50,
        n_init=2,
        random_state=3,
        warm_start=True,
        verbose=0,
        n_threads=1,
        prior=GaussianPrior(mean_precision=0.1),
        **inits,
    )
    params = gm.get_params()
    cloned = base.clone(gm)
    _params_equal(cloned.get_params(), params)
    # clone copies parameters that are arrays but keeps the values
    assert cloned.means_init is not gm.means_init
    fresh = GaussianMixture().set_params(**params)
    _params_equal(fresh.get_params(), params)
    # Fitting a clone equals fitting the original; the clone of a fitted model is unfitted.
    gm.fit(X)
    assert not hasattr(base.clone(gm), "means_")
    _assert_same_model(gm, base.clone(gm).fit(X), X)
    _assert_same_model(gm, fresh.fit(X), X)


def test_set_params_rejects_unknown_names():
    with pytest.raises(ValueError, match="Invalid parameter 'n_component'"):
        GaussianMixture().set_params(n_component=3)
