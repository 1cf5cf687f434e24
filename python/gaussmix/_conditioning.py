"""Conditioning a fitted mixture on some features' values, and the conditional-mean regression."""

import numbers

import numpy as np

from . import _core
from . import _validation as v
from ._layout import layout

__all__ = ["condition", "conditional_mean"]


def _check_indices(gm, indices):
    """Given-feature indices as a sorted-as-given int array, plus the remaining ones (ascending)."""
    n_features = gm.means_.shape[1]
    names = getattr(gm, "feature_names_in_", None)
    raw = (
        [indices]
        if isinstance(indices, (numbers.Integral, str))
        else list(np.ravel(np.asarray(indices, dtype=object)))
    )
    if not raw:
        raise ValueError("indices must name at least one feature to condition on.")
    out = []
    for item in raw:
        if isinstance(item, str):
            if names is None:
                raise ValueError(
                    f"feature name {item!r} given, but the mixture was fitted without feature names."
                )
            hits = np.flatnonzero(names == item)
            if hits.size == 0:
                raise ValueError(
                    f"feature name {item!r} is not one of the fitted features {list(names)}."
                )
            out.append(int(hits[0]))
            continue
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise ValueError(f"indices must be integers (or feature names), got {item!r}.")
        if not -n_features <= item < n_features:
            raise ValueError(f"feature index {item} is out of range for {n_features} features.")
        out.append(int(item) % n_features)
    given = np.asarray(out, dtype=np.int64)
    if np.unique(given).size != given.size:
        raise ValueError(f"indices must not repeat a feature, got {out}.")
    if given.size >= n_features:
        raise ValueError(
            "indices name every feature; at least one feature must remain to condition the "
            "mixture on the others."
        )
    rest = np.setdiff1d(np.arange(n_features), given)
    return given, rest


class _Split:
    """The blocks of every component's mean and covariance for given (g) and rest (r) features.

    gain[c] = S_c,rg S_c,gg^{-1} (shape (k, r, g)), the regression of the rest on the given
    features inside component c; cond_cov[c] = S_c,rr - gain[c] S_c,gr.
    """

    def __init__(self, gm, given, rest):
        k, n = gm.means_.shape
        cov = layout(gm.covariance_type).full_matrices(gm.covariances_, k, n)
        self.mean_g = gm.means_[:, given]
        self.mean_r = gm.means_[:, rest]
        self.cov_gg = cov[:, given][:, :, given]
        cov_rg = cov[:, rest][:, :, given]
        cov_rr = cov[:, rest][:, :, rest]
        # Solve with S_gg (symmetric) rather than forming its inverse: gain^T = S_gg^{-1} S_gr.
        self.gain = np.transpose(
            np.linalg.solve(self.cov_gg, np.transpose(cov_rg, (0, 2, 1))), (0, 2, 1)
        )
        cond = cov_rr - self.gain @ np.transpose(cov_rg, (0, 2, 1))
        self.cond_cov = 0.5 * (cond + np.transpose(cond, (0, 2, 1)))  # exact symmetry for Cholesky

    def marginal_mixture(self, gm, given):
        """The core mixture of the given features alone (same weights, marginal blocks)."""
        structure = layout(gm.covariance_type)
        return _core.Mixture.from_covariances(
            structure.core_type,
            np.ascontiguousarray(gm.weights_, dtype=np.float64),
            np.ascontiguousarray(self.mean_g),
            structure.storage_of_full(self.cov_gg),
        )


def condition(gm, indices, values):
    """The mixture of the remaining features given ``X[:, indices] == values``.

    See :meth:`GaussianMixture.condition`.
    """
    v.check_is_fitted(gm, _not_fitted_error())
    given, rest = _check_indices(gm, indices)
    x_g = v.check_float_array(values, "values").reshape(-1) if np.ndim(values) <= 1 else None
    if x_g is None or x_g.shape[0] != given.size:
        raise ValueError(
            f"values must hold one number per conditioning feature: {given.size} expected, got "
            f"shape {np.shape(values)}."
        )
    split = _Split(gm, given, rest)
    # New weights: w_c N(x_g | component c's marginal), normalised in log space.
    log_w = _core.log_prob(
        np.ascontiguousarray(x_g[None, :]),
        split.marginal_mixture(gm, given),
        "weighted_log_prob",
        gm._n_threads(),
    )[0]
    if not np.isfinite(log_w).any():
        raise ValueError(
            "values have zero density under every component; cannot condition on them."
        )
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    means = split.mean_r + np.einsum("crg,cg->cr", split.gain, x_g[None, :] - split.mean_g)

    params = gm.get_params(deep=False)
    params.update(
        n_components=len(weights),
        weights_init=None,
        means_init=None,
        precisions_init=None,
        prior=None,
    )
    out = type(gm)(**params)
    mixture = _core.Mixture.from_covariances(
        layout(gm.covariance_type).core_type,
        weights,
        np.ascontiguousarray(means),
        layout(gm.covariance_type).storage_of_full(split.cond_cov),
    )
    out._set_mixture(mixture)
    out.converged_ = True
    out.n_iter_ = 0
    out.lower_bound_ = -np.inf
    out.lower_bounds_ = []
    out.n_features_in_ = int(rest.size)
    names = getattr(gm, "feature_names_in_", None)
    if names is not None:
        out.feature_names_in_ = names[rest]
    return out


def conditional_mean(gm, X_given, given_indices):
    """E[x_rest | x_given] for every row of X_given. See :meth:`GaussianMixture.conditional_mean`."""
    v.check_is_fitted(gm, _not_fitted_error())
    given, rest = _check_indices(gm, given_indices)
    X = v.check_array(X_given, name="X_given")
    if X.shape[1] != given.size:
        raise ValueError(
            f"X_given has {X.shape[1]} columns but given_indices names {given.size} features."
        )
    split = _Split(gm, given, rest)
    # Component posteriors from the given features alone, by the compiled blocked pass.
    resp = _core.log_prob(X, split.marginal_mixture(gm, given), "predict_proba", gm._n_threads())
    X64 = X.astype(np.float64, copy=False)
    out = np.zeros((X.shape[0], rest.size))
    for c in range(split.gain.shape[0]):  # a loop over components, not rows
        mean_c = split.mean_r[c] + (X64 - split.mean_g[c]) @ split.gain[c].T
        out += resp[:, c : c + 1] * mean_c
    return out


def _not_fitted_error():
    from ._sklearn_compat import NotFittedError

    return NotFittedError
