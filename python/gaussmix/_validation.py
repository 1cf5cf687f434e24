"""All checking of user input, in one place.

Messages follow scikit-learn's wording where a user may be matching on them. Nothing here
writes into the caller's arrays: conversions return new arrays, and arrays that are already
C-contiguous float32/float64 are passed through untouched (and only read).
"""

import numbers
import warnings

import numpy as np

from ._layout import COVARIANCE_TYPES, layout

__all__ = ["COVARIANCE_TYPES", "INIT_PARAMS"]
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data", "hc")


# What to do about missing values, said wherever they are refused.
MISSING_HINT = (
    "GaussianMixture needs complete data: drop the rows with missing values or fill them "
    "first (e.g. with sklearn.impute.SimpleImputer)."
)


def _holds_missing(arr):
    """Whether an object array holds pandas.NA or None (what nullable dataframe columns give)."""
    return any(value is None or type(value).__name__ == "NAType" for value in arr.ravel())


def _is_sparse(X):
    return type(X).__module__.startswith("scipy.sparse")


def feature_names_of(X):
    """Column names of a dataframe-like X when they are all strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    if names.size == 0:
        return None
    kinds = {isinstance(name, str) for name in names}
    if kinds == {True}:
        return names
    if kinds == {True, False}:
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {sorted({type(n).__name__ for n in names})} as feature name "
            "types. Convert all feature names to strings, e.g. X.columns = X.columns.astype(str)."
        )
    return None


def check_array(X, *, name="X", min_samples=1, allow_nan=False, check_values=True):
    """Return X as a C-contiguous 2-D float32 or float64 array, or raise a clear error.

    float32 stays float32 (the core computes in it); every other real dtype becomes float64.
    ``check_values=False`` leaves the NaN, infinity and range check to the core: its query pass
    checks each block of rows while it reads them, which saves a pass over X.
    """
    if _is_sparse(X):
        raise TypeError(
            f"gaussmix needs dense input, but {name} is a sparse matrix; "
            f"convert it with {name}.toarray()."
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to a numeric array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}.")
    if kind in "mM":
        # NumPy would turn dates into arbitrary-epoch counts without complaint.
        raise TypeError(
            f"{name} must contain numbers (dtype {arr.dtype}): convert dates and durations "
            "explicitly, e.g. to seconds."
        )
    if kind in "OUSV" or kind not in "biuf":
        # Object arrays of numbers are accepted; anything else keeps the exception type
        # NumPy raised (TypeError for non-numbers, ValueError for non-numeric strings).
        try:
            arr = arr.astype(np.float64)
        except TypeError as exc:
            if _holds_missing(arr):
                raise ValueError(
                    f"Input {name} contains missing values (pandas.NA or None). {MISSING_HINT}"
                ) from None
            raise TypeError(f"{name} must contain numbers (dtype {arr.dtype}): {exc}") from None
        except ValueError as exc:
            raise ValueError(f"{name} must contain numbers (dtype {arr.dtype}): {exc}") from None
    if arr.ndim == 0:
        raise ValueError(
            f"Expected 2D array, got scalar array instead:\n{name}={arr!r}.\n"
            "Reshape your data to (n_samples, n_features)."
        )
    if arr.ndim == 1:
        raise ValueError(
            f"Expected 2D array, got 1D array instead:\n{name}={arr!r}.\n"
            "Reshape your data either using array.reshape(-1, 1) if your data has a single "
            "feature or array.reshape(1, -1) if it contains a single sample."
        )
    if arr.ndim > 2:
        raise ValueError(f"Found array with dim {arr.ndim}. Expected 2D (n_samples, n_features).")
    dtype = np.float32 if arr.dtype == np.float32 else np.float64
    arr = np.ascontiguousarray(arr, dtype=dtype)
    n_samples, n_features = arr.shape
    if n_samples < min_samples:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={arr.shape}) while a minimum of "
            f"{min_samples} is required."
        )
    if n_features < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required."
        )
    if check_values and not allow_nan:
        check_range(arr, name)
    return arr


def max_magnitude(dtype, n_features):
    """Largest |value| whose squared distances (sums of n_features squares of differences) stay
    finite in `dtype`, the precision in which the core forms them."""
    return float(np.sqrt(np.finfo(dtype).max / (4.0 * max(n_features, 1))))


def check_range(arr, name="X"):
    """Refuse NaN, infinity, and values so large that squared distances would overflow."""
    if arr.size == 0:
        return
    # max/min propagate NaN and need no temporary as large as the data.
    top, bottom = arr.max(), arr.min()
    if not (np.isfinite(top) and np.isfinite(bottom)):
        if np.isnan(arr).any():
            raise ValueError(f"Input {name} contains NaN. {MISSING_HINT}")
        raise ValueError(
            f"Input {name} contains infinity or a value too large for dtype({arr.dtype.name!r})."
        )
    magnitude = max(float(top), -float(bottom))
    limit = max_magnitude(arr.dtype, arr.shape[-1])
    if magnitude > limit:
        hint = " or pass float64 data" if arr.dtype == np.float32 else ""
        raise ValueError(
            f"Input {name} has values up to {magnitude:.3g} in magnitude: their squared distances "
            f"overflow {arr.dtype.name} (the limit for {arr.shape[-1]} feature(s) is about "
            f"{limit:.3g}). Rescale the data (e.g. divide by its standard deviation){hint}."
        )


def check_sample_weight(sample_weight, n_samples):
    """Sample weights as a float64 vector; an empty vector stands for "all ones"."""
    if sample_weight is None:
        return np.empty(0, dtype=np.float64)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {w.dtype}.")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"sample_weight must be 1D, got shape {w.shape}.")
    if w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {w.shape}, expected ({n_samples},): one weight per sample."
        )
    if not np.isfinite(w).all():
        raise ValueError("sample_weight contains NaN or infinity.")
    if (w < 0).any():
        raise ValueError("sample_weight must be non-negative; negative weights were given.")
    if not w.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs positive weight.")
    return w


# The core sums weights in float32 for float32 data; weights of magnitude 2**30 at most keep
# every product with a responsibility and every per-block sum far from float32's limits.
_SAFE_WEIGHT_EXPONENT = 30


def scale_sample_weight(w, has_prior):
    """Weights rescaled by a power of two so that the largest is in [0.5, 1) (exact: only the
    exponent changes), when they are so large or small that the core's sums would overflow or
    lose them. Maximum-likelihood fits depend only on the ratios of the weights. With a prior the
    weights count samples against the prior's pseudo-counts, so they are never rescaled; weights
    out of the safe range are then an error."""
    if w.size == 0:
        return w
    exponent = int(np.frexp(w.max())[1])
    if abs(exponent) <= _SAFE_WEIGHT_EXPONENT:
        return w
    if has_prior:
        raise ValueError(
            f"sample_weight reaches {w.max():.3g}: with a prior, weights must lie between about "
            f"2**-{_SAFE_WEIGHT_EXPONENT} and 2**{_SAFE_WEIGHT_EXPONENT} (they count samples "
            "against the prior). Rescale the weights, choosing the prior's strength accordingly."
        )
    return np.ldexp(w, -exponent)


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")


def _check_real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a non-negative real number, got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value}.")


def check_parameters(est):
    """Check the scalar constructor parameters of a GaussianMixture."""
    _check_int(est.n_components, "n_components", 1)
    _check_real(est.tol, "tol")
    _check_real(est.reg_covar, "reg_covar")
    _check_int(est.max_iter, "max_iter", 0)
    _check_int(est.n_init, "n_init", 1)
    _check_int(est.verbose_interval, "verbose_interval", 1)
    if not isinstance(est.verbose, numbers.Integral) or est.verbose < 0:
        raise ValueError(f"verbose must be a non-negative integer, got {est.verbose!r}.")
    if est.covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {est.covariance_type!r}."
        )
    if est.init_params not in INIT_PARAMS:
        raise ValueError(f"init_params must be one of {INIT_PARAMS}, got {est.init_params!r}.")
    if not isinstance(est.warm_start, (bool, np.bool_)):
        raise ValueError(f"warm_start must be a boolean, got {est.warm_start!r}.")
    if est.n_threads is not None:
        _check_int(est.n_threads, "n_threads", 1)
    rs = est.random_state
    if not (
        rs is None
        or isinstance(rs, np.random.RandomState)
        or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool))
    ):
        raise ValueError(
            f"random_state must be None, an integer or a numpy RandomState, got {rs!r}."
        )


def check_random_state(seed):
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


def _as_float_array(value, name, shape):
    arr = check_float_array(value, name)
    if arr.shape != shape:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {shape}, but got {arr.shape}"
        )
    return arr


def check_float_array(value, name):
    try:
        arr = np.array(value, dtype=np.float64)  # a copy: the user's array is never touched
    except (TypeError, ValueError):
        raise ValueError(f"The parameter '{name}' must be an array of numbers.") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"The parameter '{name}' contains NaN or infinity.")
    return arr


def check_weights_init(weights, n_components, dtype):
    w = _as_float_array(weights, "weights", (n_components,))
    if (w < 0).any() or (w > 1).any():
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got max value "
            f"{w.max():.5f}, min value {w.min():.5f}"
        )
    atol = 1e-6 if dtype == np.float32 else 1e-8
    if abs(1.0 - w.sum()) > atol:
        raise ValueError(
            f"The parameter 'weights' should be normalized, but got sum(weights) = {w.sum():.5f}"
        )
    return w


def check_means_init(means, n_components, n_features):
    return _as_float_array(means, "means", (n_components, n_features))


def check_precisions_init(precisions, covariance_type, n_components, n_features):
    structure = layout(covariance_type)
    p = _as_float_array(
        precisions, f"{covariance_type} precision", structure.public_shape(n_components, n_features)
    )
    if structure.diagonal:
        if (p <= 0).any():
            raise ValueError(f"'{covariance_type} precision' should be positive")
        return p
    for i, matrix in enumerate(p.reshape(-1, n_features, n_features)):
        if not np.allclose(matrix, matrix.T) or not (np.linalg.eigvalsh(matrix) > 0).all():
            where = "" if structure.shared else f" (component {i})"
            raise ValueError(
                f"'{covariance_type} precision' should be symmetric, positive-definite{where}"
            )
    return p


def check_feature_names(est, X, *, reset):
    """Record (reset=True) or compare the column names of dataframe input."""
    names = feature_names_of(X)
    if reset:
        if names is not None:
            est.feature_names_in_ = names
        elif hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
        return
    fitted = getattr(est, "feature_names_in_", None)
    cls = type(est).__name__
    if fitted is None and names is None:
        return
    if names is not None and fitted is None:
        warnings.warn(
            f"X has feature names, but {cls} was fitted without feature names", UserWarning
        )
        return
    if names is None and fitted is not None:
        warnings.warn(
            f"X does not have valid feature names, but {cls} was fitted with feature names",
            UserWarning,
        )
        return
    if len(names) != len(fitted) or not np.array_equal(names, fitted):
        raise ValueError(
            "The feature names should match those that were passed during fit.\n"
            f"Fitted with: {list(fitted)}\nGot: {list(names)}"
        )


def check_n_features(est, X, *, reset):
    n_features = X.shape[1]
    if reset:
        est.n_features_in_ = n_features
        return
    # A model whose parameters were set by hand (as scikit-learn users do to score known
    # parameters) has no n_features_in_: its means say how many features it expects.
    expected = getattr(est, "n_features_in_", None)
    if expected is None:
        expected = np.shape(est.means_)[1]
    if n_features != expected:
        raise ValueError(
            f"X has {n_features} features, but {type(est).__name__} is expecting "
            f"{expected} features as input."
        )


def check_is_fitted(est, not_fitted_error):
    if not hasattr(est, "means_"):
        raise not_fitted_error(
            f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )
