"""Bad input of every kind gets the right exception type with a message naming the problem,
and the caller's arrays come back exactly as they were given."""

import re

import numpy as np
import pytest

from gaussmix import GaussianMixture, GaussianPrior
from gaussmix._sklearn_compat import NotFittedError

RNG = np.random.RandomState(0)
GOOD = RNG.normal(size=(40, 3))
GOOD32 = GOOD.astype(np.float32)


def _with(value, index=(0, 0)):
    X = GOOD.copy()
    X[index] = value
    return X


def _inputs(args, kwargs):
    """Every ndarray the call is given (X, sample_weight, init arrays), with pristine copies."""
    arrays = [a for a in list(args) + list(kwargs.values()) if isinstance(a, np.ndarray)]
    return [(a, a.copy(), a.flags.writeable, a.flags.c_contiguous) for a in arrays]


def _assert_untouched(inputs):
    for array, copy, writeable, contiguous in inputs:
        assert array.dtype == copy.dtype and array.shape == copy.shape
        if array.dtype.kind in "fc":
            np.testing.assert_array_equal(array, copy)  # NaN == NaN here
        else:
            assert np.array_equal(array, copy)
        assert array.flags.writeable == writeable and array.flags.c_contiguous == contiguous


# --------------------------------------------------------------------- X given to fit

FIT_X_CASES = {
    "nan": (_with(np.nan), ValueError, "contains NaN"),
    "inf": (_with(np.inf), ValueError, "contains infinity"),
    "minus-inf": (_with(-np.inf), ValueError, "contains infinity"),
    "nan-float32": (_with(np.nan).astype(np.float32), ValueError, "contains NaN"),
    "no-samples": (np.empty((0, 3)), ValueError, "0 sample"),
    "no-features": (np.empty((5, 0)), ValueError, "0 feature"),
    "empty-list": ([], ValueError, "Expected 2D array, got 1D"),
    "one-d": (GOOD[:, 0].copy(), ValueError, "Expected 2D array, got 1D"),
    "three-d": (GOOD.reshape(40, 3, 1), ValueError, "Expected 2D"),
    "scalar": (3.0, ValueError, "got scalar"),
    "complex": (GOOD + 1j, ValueError, "Complex data not supported"),
    "str-dtype": (
        np.array([["a", "b"], ["c", "d"], ["e", "f"]]),
        ValueError,
        "must contain numbers",
    ),
    "bytes-dtype": (np.array([[b"a"], [b"b"], [b"c"]]), ValueError, "must contain numbers"),
    "object-none": (
        np.array([[None, 1.0], [2.0, None], [1.0, 1.0]], dtype=object),
        ValueError,
        "contains NaN",
    ),
    "object-str": (
        np.array([["x", 1.0], [2.0, 3.0], [1.0, 1.0]], dtype=object),
        ValueError,
        "must contain numbers",
    ),
    "object-dict": (
        np.array([[{}, 1.0], [2.0, 3.0]], dtype=object),
        TypeError,
        "must contain numbers",
    ),
    "datetime": (
        np.array([["2020-01-01"], ["2021-01-01"]], dtype="datetime64[D]"),
        TypeError,
        "must contain numbers",
    ),
    "ragged": ([[1.0, 2.0], [3.0]], ValueError, "could not be converted"),
    "one-sample": (GOOD[:1], ValueError, "minimum of 2 is required"),
    "fewer-samples-than-components": (GOOD[:3], ValueError, "n_samples >= n_components"),
    "overflowing-float64": (GOOD * 1e160, ValueError, "squared distances overflow float64"),
    "overflowing-float32": ((GOOD * 1e20).astype(np.float32), ValueError, "pass float64 data"),
}


@pytest.mark.parametrize("X, exc, match", FIT_X_CASES.values(), ids=FIT_X_CASES.keys())
def test_fit_rejects_bad_X(X, exc, match):
    inputs = _inputs([X], {})
    with pytest.raises(exc, match=re.escape(match)):
        GaussianMixture(n_components=4, random_state=0).fit(X)
    _assert_untouched(inputs)


def test_fit_rejects_sparse_X():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="dense input.*toarray"):
        GaussianMixture(2).fit(sparse.csr_matrix(GOOD))


# --------------------------------------------------------------- X given to the queries

QUERIES = ("predict", "predict_proba", "score", "score_samples", "bic", "aic")

QUERY_X_CASES = {
    "wrong-n-features": (
        GOOD[:, :2],
        ValueError,
        "X has 2 features, but GaussianMixture is expecting 3",
    ),
    "nan": (_with(np.nan), ValueError, "contains NaN"),
    "inf": (_with(np.inf), ValueError, "contains infinity"),
    "one-d": (GOOD[0].copy(), ValueError, "Expected 2D array, got 1D"),
    "scalar": (2.0, ValueError, "got scalar"),
    "three-d": (GOOD.reshape(40, 3, 1), ValueError, "Expected 2D"),
    "complex": (GOOD + 1j, ValueError, "Complex data not supported"),
    "str-dtype": (np.array([["a", "b", "c"]]), ValueError, "must contain numbers"),
    "no-samples": (np.empty((0, 3)), ValueError, "0 sample"),
    "overflowing": (GOOD * 1e200, ValueError, "Rescale the data"),
}


@pytest.fixture(scope="module")
def fitted():
    return GaussianMixture(2, random_state=0).fit(GOOD)


@pytest.mark.parametrize("method", QUERIES)
@pytest.mark.parametrize("X, exc, match", QUERY_X_CASES.values(), ids=QUERY_X_CASES.keys())
def test_queries_reject_bad_X(fitted, method, X, exc, match):
    inputs = _inputs([X], {})
    with pytest.raises(exc, match=re.escape(match)):
        getattr(fitted, method)(X)
    _assert_untouched(inputs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_queries_name_the_bad_sample_deep_in_a_large_X(fitted, dtype, n_threads):
    # The values of query data are checked block by block inside the core's pass: a bad row far
    # past the first block, in either thread's share, is still found and named.
    big = np.tile(GOOD, (2500, 1)).astype(dtype)  # 100 000 rows
    est = GaussianMixture(2, random_state=0, n_threads=n_threads).fit(GOOD)
    for row, value, match in [
        (73_411, np.nan, "contains NaN (sample 73411)"),
        (99_999, -np.inf, "contains infinity"),
        (5_000, 1e200 if dtype == np.float64 else 1e20, "Rescale the data"),
    ]:
        X = big.copy()
        X[row, 1] = value
        for method in ("predict", "predict_proba", "score_samples"):
            with pytest.raises(ValueError, match=re.escape(match)):
                getattr(est, method)(X)
    if dtype == np.float32:
        X = big.copy()
        X[5_000, 1] = 1e20
        with pytest.raises(ValueError, match="or pass float64 data"):
            est.predict(X)
    np.testing.assert_array_equal(est.predict(big)[:40], est.predict(GOOD.astype(dtype)))


@pytest.mark.parametrize("method", QUERIES + ("sample",))
def test_calls_before_fit_raise_not_fitted(method):
    args = (1,) if method == "sample" else (GOOD,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(GaussianMixture(2), method)(*args)


def test_not_fitted_error_is_sklearns():
    exceptions = pytest.importorskip("sklearn.exceptions")
    assert issubclass(NotFittedError, exceptions.NotFittedError)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_sample_rejects_bad_counts(fitted, n):
    with pytest.raises(ValueError, match="Invalid value for 'n_samples'"):
        fitted.sample(n)


# ----------------------------------------------------------------- constructor params

PARAM_CASES = {
    "n_components-zero": ({"n_components": 0}, "n_components must be >= 1"),
    "n_components-negative": ({"n_components": -2}, "n_components must be >= 1"),
    "n_components-float": ({"n_components": 1.5}, "n_components must be an integer"),
    "n_components-str": ({"n_components": "3"}, "n_components must be an integer"),
    "n_components-bool": ({"n_components": True}, "n_components must be an integer"),
    "reg_covar-negative": ({"reg_covar": -1e-6}, "reg_covar must be a non-negative"),
    "reg_covar-nan": ({"reg_covar": float("nan")}, "reg_covar must be a non-negative finite"),
    "reg_covar-inf": ({"reg_covar": float("inf")}, "reg_covar must be a non-negative finite"),
    "reg_covar-str": ({"reg_covar": "small"}, "reg_covar must be a non-negative real"),
    "tol-negative": ({"tol": -1.0}, "tol must be a non-negative"),
    "tol-nan": ({"tol": float("nan")}, "tol must be a non-negative finite"),
    "max_iter-negative": ({"max_iter": -1}, "max_iter must be >= 0"),
    "max_iter-float": ({"max_iter": 10.0}, "max_iter must be an integer"),
    "n_init-zero": ({"n_init": 0}, "n_init must be >= 1"),
    "covariance_type-unknown": ({"covariance_type": "banana"}, "covariance_type must be one of"),
    "covariance_type-case": ({"covariance_type": "Full"}, "covariance_type must be one of"),
    "init_params-unknown": ({"init_params": "kmeans++"}, "init_params must be one of"),
    "verbose-negative": ({"verbose": -1}, "verbose must be a non-negative integer"),
    "verbose_interval-zero": ({"verbose_interval": 0}, "verbose_interval must be >= 1"),
    "warm_start-str": ({"warm_start": "yes"}, "warm_start must be a boolean"),
    "n_threads-zero": ({"n_threads": 0}, "n_threads must be >= 1"),
    "n_threads-float": ({"n_threads": 2.0}, "n_threads must be an integer"),
    "random_state-str": ({"random_state": "seed"}, "random_state must be None, an integer"),
    "prior-unknown-str": ({"prior": "flat"}, "prior must be None, 'default' or a GaussianPrior"),
    "prior-dict": (
        {"prior": {"mean": 0}},
        "prior must be None, 'default' or a gaussmix.GaussianPrior",
    ),
    "prior-concentration": (
        {"prior": GaussianPrior(weight_concentration=0.5)},
        "prior weight_concentration must be >= 1",
    ),
    "prior-mean-precision": (
        {"prior": GaussianPrior(mean_precision=0.0)},
        "prior mean_precision must be > 0",
    ),
    "prior-dof": (
        {"prior": GaussianPrior(degrees_of_freedom=1.0)},
        "prior degrees_of_freedom must be > 2",
    ),
    "prior-mean-shape": (
        {"prior": GaussianPrior(mean=np.zeros(2))},
        "prior mean must be a finite vector of shape (3,)",
    ),
    "prior-mean-nan": (
        {"prior": GaussianPrior(mean=np.array([0.0, np.nan, 0.0]))},
        "prior mean must be a finite vector",
    ),
    "prior-scale-shape": (
        {"prior": GaussianPrior(scale=np.eye(2))},
        "prior scale must be a scalar",
    ),
    "prior-scale-inf": (
        {"prior": GaussianPrior(scale=np.inf)},
        "prior scale contains NaN or infinity",
    ),
    "prior-scale-not-pd": ({"prior": GaussianPrior(scale=-np.eye(3))}, "scale"),
    "prior-huge-weights": (
        {"prior": "default", "_sample_weight": np.full(40, 1e12)},
        "with a prior, weights must lie between",
    ),
}


@pytest.mark.parametrize("params, match", PARAM_CASES.values(), ids=PARAM_CASES.keys())
def test_fit_rejects_bad_parameters(params, match):
    params = dict(params)
    sample_weight = params.pop("_sample_weight", None)
    est = GaussianMixture(n_components=2, random_state=0).set_params(**params)
    before = est.get_params()
    inputs = _inputs([GOOD], {"w": sample_weight})
    with pytest.raises(ValueError, match=re.escape(match)):
        est.fit(GOOD, sample_weight=sample_weight)
    _assert_untouched(inputs)
    assert not hasattr(est, "means_")
    # Parameters are never rewritten by fit, not even when they are wrong.
    assert est.get_params().keys() == before.keys()
    for key, value in before.items():
        assert est.get_params()[key] is value


# ------------------------------------------------------------------- initial values

K, N = 2, 3
GOOD_PRECISIONS = {
    "full": np.stack([np.eye(N)] * K),
    "tied": np.eye(N),
    "diag": np.ones((K, N)),
    "spherical": np.ones(K),
}
NOT_PD = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

INIT_CASES = {
    "weights-shape": (
        "full",
        {"weights_init": np.array([0.2, 0.3, 0.5])},
        "'weights' should have the shape of (2,), but got (3,)",
    ),
    "weights-2d": (
        "full",
        {"weights_init": np.array([[0.5, 0.5]])},
        "'weights' should have the shape",
    ),
    "weights-negative": (
        "full",
        {"weights_init": np.array([-0.5, 1.5])},
        "should be in the range [0, 1]",
    ),
    "weights-not-normalized": (
        "full",
        {"weights_init": np.array([0.5, 0.6])},
        "should be normalized",
    ),
    "weights-nan": ("full", {"weights_init": np.array([np.nan, 0.5])}, "'weights' contains NaN"),
    "weights-str": (
        "full",
        {"weights_init": np.array(["a", "b"])},
        "'weights' must be an array of numbers",
    ),
    "means-shape": (
        "full",
        {"means_init": np.zeros((2, 2))},
        "'means' should have the shape of (2, 3)",
    ),
    "means-k": (
        "full",
        {"means_init": np.zeros((3, 3))},
        "'means' should have the shape of (2, 3)",
    ),
    "means-inf": (
        "full",
        {"means_init": np.full((2, 3), np.inf)},
        "'means' contains NaN or infinity",
    ),
    "full-shape": (
        "full",
        {"precisions_init": np.eye(3)},
        "'full precision' should have the shape of (2, 3, 3)",
    ),
    "tied-shape": (
        "tied",
        {"precisions_init": GOOD_PRECISIONS["full"]},
        "'tied precision' should have the shape of (3, 3)",
    ),
    "diag-shape": (
        "diag",
        {"precisions_init": np.ones(3)},
        "'diag precision' should have the shape of (2, 3)",
    ),
    "spherical-shape": (
        "spherical",
        {"precisions_init": np.ones((2, 3))},
        "'spherical precision' should have the shape of (2,)",
    ),
    "full-not-pd": (
        "full",
        {"precisions_init": np.stack([np.eye(3), NOT_PD])},
        "should be symmetric, positive-definite (component 1)",
    ),
    "full-asymmetric": (
        "full",
        {"precisions_init": np.stack([np.eye(3), np.triu(np.ones((3, 3)))])},
        "should be symmetric, positive-definite (component 1)",
    ),
    "tied-not-pd": (
        "tied",
        {"precisions_init": NOT_PD},
        "'tied precision' should be symmetric, positive-definite",
    ),
    "tied-zero": ("tied", {"precisions_init": np.zeros((3, 3))}, "positive-definite"),
    "diag-zero": (
        "diag",
        {"precisions_init": np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])},
        "'diag precision' should be positive",
    ),
    "spherical-negative": (
        "spherical",
        {"precisions_init": np.array([1.0, -1.0])},
        "'spherical precision' should be positive",
    ),
    "precisions-nan": (
        "diag",
        {"precisions_init": np.full((2, 3), np.nan)},
        "contains NaN or infinity",
    ),
}


@pytest.mark.parametrize(
    "covariance_type, inits, match", INIT_CASES.values(), ids=INIT_CASES.keys()
)
def test_fit_rejects_bad_initial_values(covariance_type, inits, match):
    inputs = _inputs([GOOD], inits)
    est = GaussianMixture(K, covariance_type=covariance_type, random_state=0, **inits)
    with pytest.raises(ValueError, match=re.escape(match)):
        est.fit(GOOD)
    _assert_untouched(inputs)


# -------------------------------------------------------------------- sample weights

WEIGHT_CASES = {
    "too-short": (np.ones(39), "sample_weight.shape == (39,), expected (40,)"),
    "too-long": (np.ones(41), "expected (40,)"),
    "two-d": (np.ones((40, 1)), "sample_weight must be 1D"),
    "negative": (np.r_[-1.0, np.ones(39)], "sample_weight must be non-negative"),
    "nan": (np.r_[np.nan, np.ones(39)], "sample_weight contains NaN or infinity"),
    "inf": (np.r_[np.inf, np.ones(39)], "sample_weight contains NaN or infinity"),
    "all-zero": (np.zeros(40), "sample_weight sums to zero"),
    "str": (np.array(["1"] * 40), "sample_weight must be numeric"),
    "complex": (np.ones(40) + 0j, "sample_weight must be numeric"),
    "too-few-positive": (np.r_[1.0, np.zeros(39)], "samples with positive weight"),
}


@pytest.mark.parametrize("w, match", WEIGHT_CASES.values(), ids=WEIGHT_CASES.keys())
def test_fit_rejects_bad_sample_weight(w, match):
    inputs = _inputs([GOOD, w], {})
    with pytest.raises(ValueError, match=re.escape(match)):
        GaussianMixture(2, random_state=0).fit(GOOD, sample_weight=w)
    _assert_untouched(inputs)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random_from_data"])
def test_fewer_positive_weights_than_components(init_params):
    w = np.r_[1.0, 1.0, np.zeros(38)]
    with pytest.raises(ValueError, match="at least .*3.* positive weight"):
        GaussianMixture(3, init_params=init_params, random_state=0).fit(GOOD, sample_weight=w)


def test_score_rejects_bad_sample_weight(fitted):
    with pytest.raises(ValueError, match=re.escape("expected (40,)")):
        fitted.score(GOOD, sample_weight=np.ones(3))


# ------------------------------------------------- good input is never modified either


def _variants():
    F = np.asfortranarray(GOOD)
    readonly = GOOD.copy()
    readonly.flags.writeable = False
    strided = np.repeat(GOOD, 2, axis=0)[::2]
    return {
        "float64": GOOD.copy(),
        "float32": GOOD32.copy(),
        "fortran": F,
        "readonly": readonly,
        "strided": strided,
        "int": np.rint(GOOD * 10).astype(np.int64),
        "readonly-float32": np.require(GOOD32.copy(), requirements="C"),
    }


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("name", list(_variants()))
def test_valid_inputs_are_not_modified(name, covariance_type):
    X = _variants()[name]
    if name == "readonly-float32":
        X.flags.writeable = False
    w = RNG.uniform(0.5, 2.0, size=40)
    inits = {
        "weights_init": np.array([0.4, 0.6]),
        "means_init": GOOD[:2].copy(),
        "precisions_init": GOOD_PRECISIONS[covariance_type].copy(),
    }
    inputs = _inputs([X, w], inits)
    est = GaussianMixture(K, covariance_type=covariance_type, max_iter=500, random_state=0, **inits)
    with np.errstate(all="raise"):
        est.fit(X, sample_weight=w)
        est.predict(X), est.predict_proba(X), est.score_samples(X), est.score(X, sample_weight=w)
        est.bic(X), est.aic(X)
    _assert_untouched(inputs)
    # The estimator's own attributes are copies too: changing them leaves the inputs alone.
    est.means_ += 1.0
    _assert_untouched(inputs)


def test_missing_values_say_what_to_do():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"a": pd.array([1.0, None, 3.0] * 10, dtype="Float64"), "b": np.arange(30.0)}
    )
    with pytest.raises(
        ValueError, match=r"contains missing values \(pandas.NA or None\).*SimpleImputer"
    ):
        GaussianMixture(2).fit(frame)
    objects = np.array([[1.0, None], [2.0, 3.0], [4.0, 5.0]], dtype=object)
    with pytest.raises(ValueError, match="missing values"):
        GaussianMixture(1).fit(objects)
    X = np.random.RandomState(0).normal(size=(40, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN\. .*drop the rows"):
        GaussianMixture(2).fit(X)
    gm = GaussianMixture(2, random_state=0).fit(np.nan_to_num(X))
    with pytest.raises(ValueError, match=r"contains NaN \(sample 3\)\. .*SimpleImputer"):
        gm.predict(X)


def test_version_flag_prints_the_version():
    import subprocess
    import sys

    import gaussmix

    out = subprocess.run(
        [sys.executable, "-m", "gaussmix", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"gaussmix {gaussmix.__version__}"
