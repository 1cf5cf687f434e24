"""GaussianMixtureImputer: missing values filled from a Gaussian mixture fitted to the
incomplete data itself, as a scikit-learn transformer."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validation as v
from ._gaussian_mixture import GaussianMixture
from ._sklearn_compat import BaseEstimator, NotFittedError, OneToOneFeatureMixin, TransformerMixin


class GaussianMixtureImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill missing values (NaN) from a Gaussian mixture fitted by EM on incomplete data.

    A drop-in for :class:`sklearn.impute.SimpleImputer` or
    :class:`sklearn.impute.IterativeImputer` in a Pipeline. `fit` runs
    ``GaussianMixture(missing='marginalize')`` on the data as they are (no row dropped, no
    value filled first), so the mixture models the joint distribution of the features,
    clusters and correlations included; `transform` replaces each NaN by its conditional
    expectation given the row's observed values (``method='mean'``), or by a draw from the
    conditional distribution (``method='sample'``, for multiple imputation).

    Parameters
    ----------
    n_components : int, default=1
        Components of the mixture. One component is the classic EM imputation under a single
        multivariate normal.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Only correlated structures ('full', 'tied') let observed features inform the missing
        ones within a component; with 'diag' and 'spherical' they act through the posterior.
    method : {'mean', 'sample'}, default='mean'
    tol, reg_covar, max_iter, n_init, init_params, random_state, n_threads, prior
        Passed to :class:`gaussmix.GaussianMixture`. `random_state` also seeds the draws of
        method='sample' (each `transform` call with an integer seed draws the same values).

    Attributes
    ----------
    mixture_ : GaussianMixture
        The fitted mixture.
    n_iter_ : int
        EM iterations of the mixture's best initialisation.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixtureImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=500)
    >>> X[::5, 1] = np.nan
    >>> filled = GaussianMixtureImputer(random_state=0).fit_transform(X)
    >>> bool(np.isnan(filled).any())
    False
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        method: str = "mean",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        random_state: int | np.random.RandomState | None = None,
        n_threads: int | None = None,
        prior: Any = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.method = method
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state
        self.n_threads = n_threads
        self.prior = prior

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _more_tags(self):  # scikit-learn before 1.6
        return {"allow_nan": True}

    def fit(
        self, X: ArrayLike, y: object = None, *, sample_weight: ArrayLike | None = None
    ) -> GaussianMixtureImputer:
        """Fit the mixture to X, NaN read as "not observed".

        Returns
        -------
        self : GaussianMixtureImputer

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixtureImputer
        >>> X = np.random.RandomState(0).normal(size=(200, 3))
        >>> X[::4, 0] = np.nan
        >>> GaussianMixtureImputer(2, random_state=0).fit(X).n_features_in_
        3
        """
        if self.method not in ("mean", "sample"):
            raise ValueError(f"method must be 'mean' or 'sample', got {self.method!r}.")
        v.check_feature_names(self, X, reset=True)
        mixture = GaussianMixture(
            self.n_components,
            covariance_type=self.covariance_type,
            tol=self.tol,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            n_init=self.n_init,
            init_params=self.init_params,
            random_state=self.random_state,
            n_threads=self.n_threads,
            prior=self.prior,
            missing="marginalize",
        )
        self.mixture_ = mixture.fit(X, sample_weight=sample_weight)
        self.n_features_in_ = self.mixture_.n_features_in_
        self.n_iter_ = self.mixture_.n_iter_
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """X with every NaN filled: ndarray of shape (n_samples, n_features).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixtureImputer
        >>> X = np.random.RandomState(0).normal(size=(200, 3))
        >>> X[::4, 0] = np.nan
        >>> imputer = GaussianMixtureImputer(2, random_state=0).fit(X)
        >>> bool(np.isnan(imputer.transform(X)).any())
        False
        """
        if not hasattr(self, "mixture_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
        v.check_feature_names(self, X, reset=False)
        X = v.check_array(X, allow_nan=True, check_values=False)
        v.check_n_features(self, X, reset=False)
        return self.mixture_._impute(X, self.method, self.random_state)
