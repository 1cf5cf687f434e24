"""Conjugate priors for MAP estimation: the user-facing GaussianPrior and the data-driven default."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import ArrayLike

from . import _core
from ._layout import COVARIANCE_TYPES, PRIOR_TYPES, layout
from ._missing import observed_means

__all__ = ["GaussianPrior", "default_prior"]


@dataclass(frozen=True, eq=False)
class GaussianPrior:
    """Conjugate prior on a Gaussian mixture's parameters, for MAP estimation by EM.

    The prior follows Fraley & Raftery (2007), "Bayesian regularization for normal mixture
    estimation and model-based clustering" (the regularisation of R's mclust):

    - weights ~ Dirichlet(weight_concentration, ..., weight_concentration);
    - 'full': each covariance ~ InverseWishart(degrees_of_freedom, scale) and each mean given
      its covariance ~ Normal(mean, covariance / mean_precision);
    - 'tied': the shared covariance ~ InverseWishart(degrees_of_freedom, scale), means as above;
    - 'diag': every variance ~ InverseGamma(degrees_of_freedom / 2, scale_j / 2), each mean
      coordinate given its variance ~ Normal(mean_j, variance / mean_precision);
    - 'spherical': each variance ~ InverseGamma(degrees_of_freedom / 2, scale / 2), the mean
      given it ~ Normal(mean, variance * I / mean_precision).

    mclust's names VII, VVI, EEE and VVV are these four. Six of its constrained models take a
    prior under the same rule (a covariance every component shares carries it once, the others
    one each): 'EII' spherical's on its one variance, 'EEI' diag's on its shared variances,
    'VEI' and 'EVI' diag's on each component's variances, 'EEV' and 'VEV' full's on each
    component's covariance, restricted to the model's covariances. 'VEE', 'EVE', 'VVE' and
    'EVV' have no conjugate form and refuse a prior.

    Every field left as None is filled from the data when the mixture is fitted (see
    :func:`default_prior`); the filled prior is stored on the estimator as ``prior_``.

    Parameters
    ----------
    weight_concentration : float, default=1.0
        Dirichlet concentration, >= 1. 1 is flat (the weights are estimated as without a prior);
        larger values pull the weights towards equal ones, as if each component had
        ``weight_concentration - 1`` extra samples.
    mean : array-like of shape (n_features,), default=None
        Prior centre of the component means. None: the (weighted) data mean.
    mean_precision : float, default=0.01
        Shrinkage kappa > 0: the prior mean counts as ``kappa`` samples in every component.
    degrees_of_freedom : float, default=None
        nu; must exceed n_features - 1 with a matrix scale ('full', 'tied', 'EEV', 'VEV'), and
        0 otherwise. None: n_features + 2.
    scale : float or array-like, default=None
        Scale of the (inverse-Wishart or inverse-gamma) covariance prior: an
        (n_features, n_features) symmetric positive definite matrix, a vector of shape
        (n_features,) (its diagonal) or a scalar (times the identity). It is reduced to what the
        covariance type needs: its diagonal for 'diag', 'EEI', 'VEI' and 'EVI', the mean of its
        diagonal for 'spherical' and 'EII'. None: the data covariance divided by
        ``n_components ** (2 / n_features)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture, GaussianPrior
    >>> X = np.random.RandomState(0).normal(size=(300, 2))
    >>> gm = GaussianMixture(2, prior=GaussianPrior(mean_precision=0.1), random_state=0).fit(X)
    >>> gm.prior_.mean_precision
    0.1
    """

    weight_concentration: float = 1.0
    mean: object = None
    mean_precision: float = 0.01
    degrees_of_freedom: object = None
    scale: object = None

    def __repr__(self):
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value = np.array2string(value, precision=4, threshold=8)
            parts.append(f"{f.name}={value}")
        return f"GaussianPrior({', '.join(parts)})"


def _positive_real(value, name, minimum=0.0, strict=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"prior {name} must be a finite real number, got {value!r}.")
    if (strict and not value > minimum) or (not strict and not value >= minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"prior {name} must be {relation} {minimum}, got {value}.")
    return float(value)


def _data_moments(X, sample_weight):
    """Weighted mean (n,) and covariance (n, n) of X, with the total weight as denominator.

    With missing values (NaN): the mean of each feature over the rows observing it, and the
    covariance of the data completed by those means, its diagonal replaced by the observed
    variances (filling in means shrinks them; raising the diagonal keeps it positive definite).
    """
    w = None if sample_weight is None or sample_weight.size == 0 else sample_weight
    holes = np.isnan(X)
    if holes.any():
        mean = observed_means(X, w)
        filled = np.where(holes, mean, X)
        cov = np.atleast_2d(np.cov(filled, rowvar=False, aweights=w, bias=True, dtype=np.float64))
        ones = np.ones(X.shape[0]) if w is None else w
        weights = ~holes * ones[:, np.newaxis]
        totals = np.maximum(weights.sum(axis=0), np.finfo(np.float64).tiny)
        observed_var = (weights * np.square(filled - mean)).sum(axis=0) / totals
        np.fill_diagonal(cov, np.maximum(observed_var, np.diag(cov)))
        return mean, cov
    mean = np.average(X, axis=0, weights=w).astype(np.float64)
    cov = np.cov(X, rowvar=False, aweights=w, bias=True, dtype=np.float64)
    return mean, np.atleast_2d(cov)


def _default_scale_matrix(cov):
    """The data covariance, or its diagonal when it is singular.

    With fewer samples than features (or collinear features) the covariance has no inverse and
    cannot be an inverse-Wishart scale; the diagonal keeps each feature's own spread and is
    positive definite unless a feature is constant.
    """
    # A Cholesky test is not enough: rounding can leave a singular covariance (collinear
    # features) barely positive definite here and not in the core's factorisation, or so ill
    # conditioned that every MAP covariance built on it is too.
    eigenvalues = np.linalg.eigvalsh(cov)
    if eigenvalues.min() > 1e-10 * eigenvalues.max():
        return cov
    return np.diag(np.diag(cov))


def _scale_matrix(scale, n_features):
    """A user or default scale as an (n_features, n_features) matrix."""
    s = np.array(scale, dtype=np.float64)  # a copy: the user's array stays untouched
    if not np.isfinite(s).all():
        raise ValueError("prior scale contains NaN or infinity.")
    if s.ndim == 0:
        return float(s) * np.eye(n_features)
    if s.shape == (n_features,):
        return np.diag(s)
    if s.shape == (n_features, n_features):
        return s
    raise ValueError(
        f"prior scale must be a scalar, shaped ({n_features},) or "
        f"({n_features}, {n_features}); got shape {s.shape}."
    )


def default_prior(
    X: ArrayLike,
    n_components: int,
    covariance_type: str = "full",
    sample_weight: ArrayLike | None = None,
) -> GaussianPrior:
    """The data-driven default prior of Fraley & Raftery (2007), fully filled in.

    mean = the (weighted) data mean, mean_precision = 0.01, degrees_of_freedom =
    n_features + 2, weight_concentration = 1 (flat), and scale = the (weighted, maximum
    likelihood) data covariance divided by ``n_components ** (2 / n_features)``: the volume of
    the data split evenly among the components. For 'diag', 'EEI', 'VEI' and 'EVI' the scale
    keeps the covariance's diagonal, for 'spherical' and 'EII' the mean of its diagonal. When
    the data covariance is singular (fewer samples than features, collinear features) the
    matrix scales use its diagonal; a
    constant feature has no spread at all, and then a scale must be passed.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : int
    covariance_type : str, default='full'
        Any covariance type that takes a prior: scikit-learn's four and mclust's EII, EEI, VEI,
        EVI, EEV, VEV (and VII, VVI, EEE, VVV, their names for the four).
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    prior : GaussianPrior
        With every field set; ``scale`` has the type's shape: (n_features, n_features),
        (n_features,) for one variance per feature, a float for one variance.

    Examples
    --------
    >>> import numpy as np
    >>> import gaussmix
    >>> X = np.random.RandomState(0).normal(size=(300, 2))
    >>> prior = gaussmix.default_prior(X, 2, "full")
    >>> prior.scale.shape
    (2, 2)
    """
    from . import _validation as v

    data = v.check_array(X)
    w = v.check_sample_weight(sample_weight, data.shape[0])
    return resolve_prior(GaussianPrior(), data, w, covariance_type, n_components)[0]


def resolve_prior(prior, X, sample_weight, covariance_type, n_components, data_moments=None):
    """Fill a prior's missing fields from the data and build the core's Prior.

    Parameters
    ----------
    prior : None, 'default' or GaussianPrior
    X : ndarray of shape (n_samples, n_features), already checked
    sample_weight : ndarray of shape (n_samples,) or empty (all ones)
    covariance_type : str
    n_components : int
    data_moments : callable, optional
        Returns the data's (mean, covariance) when the prior needs them, instead of computing
        them from X in memory (a Dask fit passes one that sums them over the chunks).

    Returns
    -------
    (filled, core) : (GaussianPrior, gaussmix._core.Prior), or (None, None) without a prior.
    """
    if prior is None:
        return None, None
    if isinstance(prior, str):
        if prior != "default":
            raise ValueError(f"prior must be None, 'default' or a GaussianPrior, got {prior!r}.")
        prior = GaussianPrior()
    if not isinstance(prior, GaussianPrior):
        raise ValueError(
            f"prior must be None, 'default' or a gaussmix.GaussianPrior, got {type(prior).__name__}."
        )
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}."
        )
    structure = layout(covariance_type)
    if structure.prior is None:
        raise ValueError(
            f"priors are not available for covariance_type '{covariance_type}' (its M-step has no "
            f"conjugate form); fit it by maximum likelihood, or choose one of {PRIOR_TYPES}."
        )
    n_features = X.shape[1]
    need_data = prior.mean is None or prior.scale is None
    if not need_data:
        data_mean, data_cov = None, None
    elif data_moments is not None:
        data_mean, data_cov = data_moments()
    else:
        data_mean, data_cov = _data_moments(X, sample_weight)

    alpha = _positive_real(prior.weight_concentration, "weight_concentration", 1.0, strict=False)
    kappa = _positive_real(prior.mean_precision, "mean_precision")
    if prior.mean is None:
        mean = data_mean
    else:
        mean = np.array(prior.mean, dtype=np.float64)
        if mean.shape != (n_features,) or not np.isfinite(mean).all():
            raise ValueError(
                f"prior mean must be a finite vector of shape ({n_features},), got shape {mean.shape}."
            )
    min_dof = n_features - 1.0 if structure.matrix_prior else 0.0
    if prior.degrees_of_freedom is None:
        dof = n_features + 2.0
    else:
        dof = _positive_real(prior.degrees_of_freedom, "degrees_of_freedom", min_dof)
    if prior.scale is None:
        scale = _default_scale_matrix(data_cov) / float(n_components) ** (2.0 / n_features)
    else:
        scale = prior.scale
    core_scale, public_scale = structure.prior_scale(_scale_matrix(scale, n_features))
    core = _core.Prior(
        weight_concentration=alpha,
        mean=mean,
        mean_precision=kappa,
        degrees_of_freedom=dof,
        scale=core_scale,
    )
    try:
        core.validate(structure.core_type, n_features)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    filled = replace(
        prior,
        weight_concentration=alpha,
        mean=mean,
        mean_precision=kappa,
        degrees_of_freedom=dof,
        scale=public_scale,
    )
    return filled, core
