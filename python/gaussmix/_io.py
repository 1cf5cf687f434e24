"""Saving and loading fitted models in gaussmix's model file format.

The format (docs/model_format.md) is encoded and decoded by the C++ library, so a file written
here loads in a C++ program with ``gaussmix::load`` and the other way round, with bit-identical
parameters. This module only moves bytes between files and the estimator.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from . import _core
from . import _validation as v
from ._layout import LAYOUTS, layout
from ._sklearn_compat import NotFittedError

if TYPE_CHECKING:
    from ._gaussian_mixture import GaussianMixture

_DTYPES = ("float32", "float64")


def _dtype_name(dtype):
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.")
    return name


# The metadata gaussmix's Python side stores in a model file (format version 2): the
# estimator's hyper-parameters and feature names, as JSON. The C++ library keeps it as opaque
# bytes, so files written from Python load in C++ and the other way round.
_METADATA_KIND = "gaussmix.GaussianMixture/1"


def _encode_value(value):
    """A constructor argument as JSON, or raise TypeError for one that has no file form."""
    from ._priors import GaussianPrior

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        return {"array": np.asarray(value, dtype=np.float64).tolist()}
    if isinstance(value, GaussianPrior):
        return {
            "prior": {
                f: _encode_value(getattr(value, f))
                for f in (
                    "weight_concentration",
                    "mean",
                    "mean_precision",
                    "degrees_of_freedom",
                    "scale",
                )
            }
        }
    raise TypeError(type(value).__name__)


def _decode_value(value):
    from ._priors import GaussianPrior

    if isinstance(value, dict) and set(value) == {"array"}:
        return np.asarray(value["array"], dtype=np.float64)
    if isinstance(value, dict) and set(value) == {"prior"}:
        return GaussianPrior(**{k: _decode_value(v) for k, v in value["prior"].items()})
    return value


def _metadata(estimator):
    params = {}
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = _encode_value(value)
        except TypeError:
            # A RandomState instance has no faithful file form; the loaded model gets None.
            params[name] = None
    meta = {"kind": _METADATA_KIND, "params": params}
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        meta["feature_names_in"] = [str(n) for n in names]
    return json.dumps(meta, sort_keys=True).encode("utf-8")


def _apply_metadata(model, raw, where):
    if not raw:
        return  # a version 1 file, or one written by a C++ program without metadata
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError(
            f"the model file's metadata is not valid JSON (reading {where!r})"
        ) from None
    if not isinstance(meta, dict) or meta.get("kind") != _METADATA_KIND:
        return  # another writer's metadata: the parameters alone define the model
    valid = set(model._get_param_names())
    params = {k: _decode_value(v) for k, v in meta.get("params", {}).items() if k in valid}
    # The stored n_components and covariance_type describe the parameters, which win.
    params.pop("n_components", None)
    written = params.pop("covariance_type", None)
    model.set_params(**params)
    # mclust's name of one of scikit-learn's four (e.g. 'VII' for spherical) is kept.
    if (
        isinstance(written, str)
        and written in LAYOUTS
        and layout(written).core_type == layout(model.covariance_type).core_type
    ):
        model.covariance_type = written
    names = meta.get("feature_names_in")
    if names is not None:
        if len(names) != model.n_features_in_:
            raise ValueError(
                f"the model file's feature names do not match its means (reading {where!r})"
            )
        model.feature_names_in_ = np.asarray(names, dtype=object)


def save(
    estimator: GaussianMixture, file: str | os.PathLike | BinaryIO, *, dtype: str = "float64"
) -> None:
    """Write a fitted GaussianMixture to `file` (a path or a binary file object).

    See :meth:`GaussianMixture.save`.
    """
    v.check_is_fitted(estimator, NotFittedError)
    name = _dtype_name(dtype)
    data = _core.encode_model(
        estimator._mixture(),
        int(estimator.n_iter_),
        bool(estimator.converged_),
        float(estimator.lower_bound_),
        name,
        _metadata(estimator),
    )
    if hasattr(file, "write"):
        file.write(data)
        return
    # Written beside the target and renamed over it: a failed save leaves no half-written file.
    path = os.fspath(file)
    temporary = f"{path}.partial"
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load(file: str | os.PathLike | BinaryIO) -> GaussianMixture:
    """Read a model written by :meth:`GaussianMixture.save` or by the C++ library.

    Parameters
    ----------
    file : str, path-like or binary file object

    Returns
    -------
    model : GaussianMixture
        A fitted estimator equal to the saved one in ``get_params()`` (a ``random_state``
        that was a RandomState instance comes back as None) and ``feature_names_in_``, with the
        stored ``weights_``, ``means_``, ``covariances_``, ``precisions_cholesky_``,
        ``converged_``, ``n_iter_`` and ``lower_bound_``. ``precisions_`` is computed from the
        stored Cholesky factors; ``lower_bounds_`` (the per-iteration history) is not stored.
        Files of format version 1, and files written by C++ programs, carry no
        hyper-parameters: those models get the constructor's defaults.

    Raises
    ------
    ValueError
        When the file is not a gaussmix model, is truncated or corrupted (checksum), was
        written in another byte order or by an unsupported format version, or holds invalid
        parameters. Nothing is returned half-loaded.
    OSError
        When the file cannot be read (FileNotFoundError for a missing path).

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> import gaussmix
    >>> X = np.random.RandomState(0).normal(size=(300, 2))
    >>> buffer = io.BytesIO()
    >>> gaussmix.GaussianMixture(2, random_state=0).fit(X).save(buffer)
    >>> gaussmix.load(io.BytesIO(buffer.getvalue())).means_.shape
    (2, 2)
    """
    from ._gaussian_mixture import GaussianMixture

    if hasattr(file, "read"):
        data, where = file.read(), getattr(file, "name", "file object")
    else:
        path = os.fspath(file)
        with open(path, "rb") as handle:
            data = handle.read()
        where = path
    if not isinstance(data, bytes):
        raise TypeError(
            f"a model file must be opened in binary mode, got {type(data).__name__} data."
        )
    try:
        mixture, n_iter, converged, lower_bound, _, metadata = _core.decode_model(data)
    except ValueError as exc:
        raise ValueError(f"{exc} (reading {where!r})") from None
    model = GaussianMixture(
        n_components=int(mixture.n_components), covariance_type=mixture.covariance_type.name
    )
    model._set_mixture(mixture)
    model.converged_ = bool(converged)
    model.n_iter_ = int(n_iter)
    model.lower_bound_ = float(lower_bound)
    model.lower_bounds_ = []
    model.n_features_in_ = int(mixture.n_features)
    _apply_metadata(model, metadata, where)
    return model
