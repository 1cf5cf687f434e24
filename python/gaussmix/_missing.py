"""Missing values (NaN) in the data: the checks, and the completed copy the initialisation uses.

The EM itself (marginal densities of the observed features, conditional moments of the missing
ones) runs in the core's incomplete-rows kernel; see GaussianMixture's ``missing`` parameter.
"""

from __future__ import annotations

import numpy as np

from . import _validation as v

MISSING_OPTIONS = ("error", "marginalize")


def check_missing_option(value):
    if not isinstance(value, str) or value not in MISSING_OPTIONS:
        raise ValueError(f"missing must be one of {MISSING_OPTIONS}, got {value!r}.")


def check_incomplete(X, n_components=None, name="X"):
    """Checks data in which NaN marks a value not observed; returns whether any is missing.

    Infinity and overflowing magnitudes are refused as for complete data; so are a feature
    observed in no row and (with n_components) fewer rows holding any observation than
    components, which leave parameters that no data inform.
    """
    mask = np.isnan(X)
    if not mask.any():
        v.check_range(X, name)
        return False
    check_observed_values(X, name)
    empty = np.flatnonzero(mask.all(axis=0))
    if empty.size:
        raise ValueError(
            f"Input {name} has no observed value in feature(s) {empty.tolist()}: every row is "
            "NaN there, so nothing can be learnt about it. Drop the column(s)."
        )
    observed = mask.shape[0] - int(np.count_nonzero(mask.all(axis=1)))
    if n_components is not None and observed < n_components:
        raise ValueError(
            f"Input {name} has {observed} row(s) with any observed value, fewer than "
            f"n_components = {n_components}."
        )
    return True


def check_observed_values(X, name="X"):
    """Refuses infinity and magnitudes whose squared distances overflow X's dtype, NaN allowed."""
    if np.isinf(X).any():
        raise ValueError(
            f"Input {name} contains infinity or a value too large for dtype({X.dtype.name!r})."
        )
    if not X.size or np.isnan(X).all():
        return
    top = float(np.nanmax(np.abs(X)))
    limit = v.max_magnitude(X.dtype, X.shape[1])
    if top > limit:
        raise ValueError(
            f"Input {name} has values up to {top:.3g} in magnitude: their squared distances "
            f"overflow {X.dtype.name} (the limit for {X.shape[1]} feature(s) is about "
            f"{limit:.3g}). Rescale the data (e.g. divide by its standard deviation)."
        )


def observed_means(X, sample_weight=None):
    """Each feature's (weighted) mean over the rows where it is observed, in float64."""
    mask = ~np.isnan(X)
    w = (
        np.ones(X.shape[0])
        if sample_weight is None or sample_weight.size == 0
        else np.asarray(sample_weight, dtype=np.float64)
    )
    weights = mask * w[:, np.newaxis]
    totals = weights.sum(axis=0)
    # A feature observed only in rows of weight zero falls back to its unweighted mean.
    plain = np.nanmean(X, axis=0, dtype=np.float64)
    sums = np.where(mask, X, 0.0).astype(np.float64).T @ w
    return np.where(totals > 0, sums / np.where(totals > 0, totals, 1.0), plain)


def mean_filled(X, sample_weight=None):
    """A copy of X with each NaN replaced by its feature's observed mean (X's dtype)."""
    means = observed_means(X, sample_weight).astype(X.dtype)
    return np.where(np.isnan(X), means, X)
