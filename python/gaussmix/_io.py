"""Saving and loading fitted models in gaussmix's model file format.

The format (docs/model_format.md) is encoded and decoded by the C++ library, so a file written
here loads in a C++ program with ``gaussmix::load`` and the other way round, with bit-identical
parameters. This module only moves bytes between files and the estimator.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from . import _core

if TYPE_CHECKING:
    from ._gaussian_mixture import GaussianMixture
from . import _validation as v
from ._sklearn_compat import NotFittedError

_DTYPES = ("float32", "float64")


def _dtype_name(dtype):
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.")
    return name


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
    )
    if hasattr(file, "write"):
        file.write(data)
    else:
        with open(os.fspath(file), "wb") as handle:
            handle.write(data)


def load(file: str | os.PathLike | BinaryIO) -> GaussianMixture:
    """Read a model written by :meth:`GaussianMixture.save` or by the C++ library.

    Parameters
    ----------
    file : str, path-like or binary file object

    Returns
    -------
    model : GaussianMixture
        A fitted estimator with the stored ``n_components`` and ``covariance_type`` (other
        constructor arguments at their defaults) and the stored ``weights_``, ``means_``,
        ``covariances_``, ``precisions_cholesky_``, ``converged_``, ``n_iter_`` and
        ``lower_bound_``. ``precisions_`` is computed from the stored Cholesky factors;
        ``lower_bounds_`` (the per-iteration history) and ``feature_names_in_`` are not stored.

    Raises
    ------
    ValueError
        When the file is not a gaussmix model, is truncated or corrupted (checksum), was
        written in another byte order or by an unsupported format version, or holds invalid
        parameters. Nothing is returned half-loaded.
    OSError
        When the file cannot be read (FileNotFoundError for a missing path).
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
        mixture, n_iter, converged, lower_bound, _ = _core.decode_model(data)
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
    return model
