"""The hierarchical start (``init_params='hc'``): R mclust's start for EM.

The rows are put in mclust's "scaled SVD" coordinates (each feature standardised, then the
principal axes each divided by the square root of its singular value) and agglomerated by the
core (``_core.agglomerate``): from single rows, each step merges the two clusters whose union
least increases the unconstrained Gaussian classification criterion (Banfield & Raftery 1993;
Fraley 1998). The tree is cut into k clusters, and the initial parameters are the M-step of
their moments on the data as they are. Time and memory grow as the square of the rows, so at
most ``HC_ROWS`` rows are agglomerated: larger data give a random subsample, as mclust does.
"""

from __future__ import annotations

import numpy as np

from . import _core

# Rows agglomerated at most: about 2 s and 32 MB for the tree of 2000 rows with 8 features.
HC_ROWS = 2000


def subsample(n_samples, random_state):
    """Indices (sorted) of the rows to agglomerate among n_samples candidates: all of them, or
    HC_ROWS drawn without replacement from random_state."""
    if n_samples <= HC_ROWS:
        return np.arange(n_samples)
    return np.sort(random_state.choice(n_samples, size=HC_ROWS, replace=False))


def labels(rows, w_rows, k, n_threads):
    """The k-cluster cut of the merge tree of `rows` (weights w_rows, or empty)."""
    if rows.shape[0] < k:
        raise ValueError(
            f"init_params='hc' needs at least n_components = {k} samples with positive weight, "
            f"got {rows.shape[0]}."
        )
    Z = _core.scaled_svd(rows, w_rows)
    return _core.agglomerate(Z, w_rows, n_threads).labels(k)


def initial_stats(X, w, k, cov_type, random_state, n_threads):
    """The hierarchical start's moments on in-memory data X (weights w, or empty): the rows
    with positive weight, subsampled when there are more than HC_ROWS."""
    candidates = np.arange(X.shape[0]) if w.size == 0 else np.flatnonzero(w > 0)
    chosen = candidates[subsample(candidates.size, random_state)]
    rows = np.ascontiguousarray(X[chosen])
    w_rows = np.empty(0) if w.size == 0 else np.ascontiguousarray(w[chosen])
    cut = labels(rows, w_rows, k, n_threads)
    return _core.moments_from_labels(rows, w_rows, cut, k, cov_type, _core.PassOptions(n_threads))
