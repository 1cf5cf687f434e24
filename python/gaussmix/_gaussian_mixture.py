"""GaussianMixture: scikit-learn's estimator API over the compiled EM core."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from . import _hierarchical as hierarchical
from . import _stepwise as stepwise
from . import _validation as v
from ._dask import is_dask_array, query_output
from ._decomposition import CovarianceDecomposition, decompose
from ._layout import layout
from ._missing import check_incomplete, check_missing_option, mean_filled
from ._priors import resolve_prior
from ._sklearn_compat import BaseEstimator, ConvergenceWarning, DensityMixin, NotFittedError
from ._stepwise import check_schedule


def _rows_from_data(random_state, w, n_samples, k):
    """k distinct seed rows for 'random_from_data'.

    Without weights (or with all weights equal) this is scikit-learn's uniform draw, random
    stream included. With weights, distinct rows are drawn with probability proportional to
    their weight, so zero-weight rows are never seeds and heavy rows are the likeliest ones.
    """
    if w.size == 0 or np.all(w == w[0]):
        return random_state.choice(n_samples, size=k, replace=False)
    n_positive = int(np.count_nonzero(w))
    if n_positive < k:
        raise ValueError(
            f"init_params='random_from_data' needs at least n_components = {k} samples with "
            f"positive weight, got {n_positive}."
        )
    return random_state.choice(n_samples, size=k, replace=False, p=w / w.sum())


# Rows the k-means start's standardisation estimates each feature's spread from: evenly spaced,
# so the same data give the same start; any fair estimate of the scale serves the purpose.
_SCALE_ROWS = 65536


def _standardized(X, w):
    """X with each feature centred and divided by its (weighted) standard deviation, in X's
    dtype: what the k-means start clusters, so that a feature's units do not decide the
    clusters (on the wine data, one feature in the thousands otherwise dominates the others).
    The mean and spread come from at most _SCALE_ROWS evenly spaced rows; the copy is made in
    one pass."""
    step = max(1, X.shape[0] // _SCALE_ROWS)
    rows = X[::step].astype(np.float64)
    weights = None if w.size == 0 else w[::step]
    if weights is not None and not weights.sum() > 0:
        weights = None
    mean = np.average(rows, axis=0, weights=weights)
    std = np.sqrt(np.average(np.square(rows - mean), axis=0, weights=weights))
    std[~(std > 0)] = 1.0  # a constant feature stays constant
    Z = np.subtract(X, mean.astype(X.dtype))
    Z /= std.astype(X.dtype)
    return Z


# Restarts that are the hierarchical start when init_params='kmeans' and n_init > 1.
_HC_RESTARTS = (0,)


# The k-means start in the hierarchical start's coordinates (see _start_method).
_KMEANS_SVD = "kmeans in scaled SVD coordinates"


def _scaled_svd(X, w):
    """X in mclust's scaled SVD coordinates (see _hierarchical), in X's dtype, for a k-means
    start; rows of zero weight are placed like the others."""
    if w.size and not np.all(w > 0):
        w = np.where(w > 0, w, np.finfo(np.float64).tiny)
    return np.ascontiguousarray(_core.scaled_svd(X, w), dtype=X.dtype)


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture model fitted by Expectation-Maximization.

    A drop-in replacement for :class:`sklearn.mixture.GaussianMixture`: the same constructor
    arguments, defaults, fitted attributes and methods, computed by a multi-threaded C++ core.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : str, default='full'
        'full': each component has its own covariance matrix; 'tied': all share one;
        'diag': each has a diagonal covariance; 'spherical': each has a single variance.
        Also mclust's names, from Sigma_c = lambda_c D_c A_c D_c^T (volume, orientation, shape
        with det A_c = 1; each Equal across components, Variable, or the Identity): 'VVV',
        'EEE', 'VVI' and 'VII' are exact aliases of 'full', 'tied', 'diag' and 'spherical';
        'EII' (one spherical covariance), 'EEI' (one diagonal covariance), 'EVI' (equal
        volumes, axis-aligned shapes of their own), 'EEV' (equal volume and shape, own
        orientations) and 'EVV' (equal volumes, own shapes and orientations) have closed-form
        M-steps (Celeux & Govaert 1995); 'VEI' (own volumes, one axis-aligned shape), 'VEE'
        (own volumes, one shape and orientation) and 'VEV' (own volumes and orientations, one
        shape) alternate between the volumes and the shared part inside each M-step; 'EVE'
        (equal volumes, own shapes, one orientation) and 'VVE' (own volumes and shapes, one
        orientation) find their common orientation by sweeps of plane rotations started from
        the E-step's orientation. For these ten, ``covariances_``, ``precisions_`` and
        ``precisions_cholesky_`` are (k, n, n) arrays and bic()/aic() count parameters as
        mclust's nVarParams; they take no prior.
    tol : float, default=1e-3
        EM stops when the per-sample lower bound changes by less than this.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance so that it stays positive definite.
    max_iter : int, default=100
        EM iterations at most per initialisation.
    n_init : int, default=1
        Number of initialisations; the one with the highest lower bound is kept. One that meets
        a singular covariance is skipped with a warning, unless all do.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hc'}, default='kmeans'
        How the initial responsibilities are chosen. 'kmeans' clusters the data standardised
        feature by feature (weighted mean and standard deviation), so that no feature dominates
        by its units, and takes the initial moments from the data as they are. 'hc' is R
        mclust's start: model-based hierarchical agglomeration (mclust's VVV criterion on its
        scaled SVD coordinates) of at most 2000 rows (a subsample of larger data drawn with a
        fixed seed, so one tree serves every fit of the same data), cut into n_components
        clusters. With 'kmeans' and n_init > 1 the restarts vary: the first
        is 'hc', the others k-means alternately on standardised and on scaled SVD coordinates;
        on mclust's reference data (416 cases) n_init=10 then always reaches mclust's optimum.
    weights_init : array-like of shape (n_components,), default=None
    means_init : array-like of shape (n_components, n_features), default=None
    precisions_init : array-like, default=None
        User-provided initial parameters; precisions are inverse covariances, shaped
        (n_components, n_features, n_features) for 'full', (n_features, n_features) for 'tied',
        (n_components, n_features) for 'diag' and (n_components,) for 'spherical'.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation (and `sample`).
    warm_start : bool, default=False
        Continue from the last fit's parameters on the next call to `fit`; n_init is ignored then.
    verbose : int, default=0
        1 prints each initialisation and iteration; 2 adds timings and lower-bound changes.
    verbose_interval : int, default=10
        Iterations between progress messages.
    n_threads : int or None, default=None
        Threads of the C++ core (keyword-only, beyond scikit-learn). None uses every core.
        Results are identical for any thread count.
    prior : None, 'default' or GaussianPrior, default=None
        Keyword-only, beyond scikit-learn. None fits by maximum likelihood (scikit-learn's
        behaviour). 'default' or a :class:`gaussmix.GaussianPrior` fits the posterior mode (MAP)
        under conjugate priors (Fraley & Raftery 2007); fields of the GaussianPrior left as None
        are filled from the data (see :func:`gaussmix.default_prior`). The prior keeps small or
        collapsing components from producing singular covariances. reg_covar is still added
        to every covariance after the MAP step; set it to 0 for the exact posterior mode.
        Every covariance type takes a prior except mclust's VEE, EVE, VVE and EVV, which have
        no conjugate form (a ValueError names the model).
    missing : {'error', 'marginalize'}, default='error'
        Keyword-only, beyond scikit-learn. 'error' refuses NaN as scikit-learn does.
        'marginalize' reads NaN as "not observed" and fits by EM for incomplete data: a row's
        responsibilities come from the marginal density of its observed features, and the
        M-step uses each row's conditional expectation of its missing features given the
        observed ones under each component, with their conditional covariance added to the
        second moments (what filling in means leaves out). The queries (`score_samples`,
        `score`, `predict`, `predict_proba`, `bic`, `aic`) then accept NaN too and use the
        marginal density of the observed features; a row with nothing observed has
        log-density 0 and the weights as its posterior. Every `init_params` starts from the
        data with each NaN replaced by its feature's observed mean (k-means and the seeding
        run on that completed copy); the first EM iteration already uses the exact marginal
        densities. Without NaN the fit is bit-for-bit the one of missing='error'.
    learning_decay : float in (0.5, 1], default=0.7
    learning_offset : float >= 0, default=10.0
        Keyword-only: the step sizes of `partial_fit`, g_t = (t + learning_offset) **
        -learning_decay for the t-th chunk (stepwise EM; see `partial_fit`). `fit` ignores them.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shaped like `precisions_init`.
    precisions_ : ndarray
        Inverse covariances, same shape.
    precisions_cholesky_ : ndarray
        Upper-triangular U with U @ U.T = precision (1/sqrt(variance) for diag and spherical).
    converged_ : bool
    n_iter_ : int
        EM iterations of the best initialisation.
    lower_bound_ : float
        Weighted mean log-likelihood per sample of the best initialisation (evaluated with the
        parameters before its last M-step, as in scikit-learn); with missing values, of the
        observed data (the marginal densities). With a prior it is the
        log-posterior per unit of sample weight, (log-likelihood + log-prior) / total weight,
        the objective MAP-EM never decreases; `score` stays the plain log-likelihood.
    lower_bounds_ : list of float
        The lower bound after every iteration of the best initialisation.
    prior_ : GaussianPrior
        Only with a prior: the prior used, every field filled in.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.

    Notes
    -----
    With a prior, `bic` and `aic` use the log-likelihood at the MAP estimate and the usual
    parameter count (as R's mclust does); they no longer bound anything exactly but remain the
    customary way to compare MAP fits.

    float32 input gives float32 ``predict_proba`` and ``score_samples`` (as scikit-learn 1.7 and
    later; half the memory): the large per-sample products run in float32, the sums and the
    M-step in float64. The fitted attributes stay float64 whatever the input: a float32 mean
    could not hold a cluster's position far from the origin to within its spread (at 1e6 float32
    resolves 0.06), which the float64 M-step does; scikit-learn 1.7 returns float32 attributes.

    A component that loses all its samples during EM is kept: its weight drops to about 1e-16,
    its mean stays where it was (with 'tied', it moves to the common centre the moments are
    taken about) and its covariance becomes ``reg_covar * I``. With ``reg_covar=0`` that
    covariance is singular and fitting raises a ValueError naming the component.

    Input is validated before any computation: NaN, infinity, values whose squared distances
    overflow the dtype, and malformed parameters raise ValueError or TypeError; the caller's
    arrays are never modified. Results are bit-identical for any ``n_threads``; long calls
    release the GIL and stop on Ctrl-C (KeyboardInterrupt) within a fraction of a second.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 6])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> [int(round(m)) for m in np.sort(gm.means_[:, 0])]
    [0, 6]
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: ArrayLike | None = None,
        means_init: ArrayLike | None = None,
        precisions_init: ArrayLike | None = None,
        random_state: int | np.random.RandomState | None = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
        n_threads: int | None = None,
        prior: Any = None,
        missing: str = "error",
        learning_decay: float = 0.7,
        learning_offset: float = 10.0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_threads = n_threads
        self.prior = prior
        self.missing = missing
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._marginalizes()
        return tags

    def _more_tags(self):  # scikit-learn before 1.6
        return {"allow_nan": self._marginalizes()}

    # ------------------------------------------------------------------ fitting

    def fit(
        self, X: ArrayLike, y: object = None, *, sample_weight: ArrayLike | None = None
    ) -> GaussianMixture:
        """Estimate the parameters with EM (n_init restarts, best lower bound kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or a dask.array.Array
            A Dask array is fitted where its chunks are: each EM iteration is one Dask
            computation (a pass per chunk, the statistics merged, the M-step here), on the
            active scheduler (a distributed Client's cluster, or Dask's threads); the result
            equals the in-memory fit from the same start to rounding. Its queries then
            return lazy Dask arrays. Needs ``pip install 'gaussmix[dask]'``.
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; an integer weight counts like repeating the row.

        Returns
        -------
        self : GaussianMixture

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> gm.means_.shape
        (2, 2)
        """
        self._fit(X, sample_weight)
        return self

    def fit_predict(
        self, X: ArrayLike, y: object = None, *, sample_weight: ArrayLike | None = None
    ) -> NDArray[np.int64]:
        """Fit, then return the most probable component of each row of X.

        Returns
        -------
        labels : ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> labels = GaussianMixture(2, random_state=0).fit_predict(X)
        >>> labels.shape
        (300,)
        """
        X = self._fit(X, sample_weight)
        # Labels from the final parameters, so fit_predict(X) == fit(X).predict(X).
        return self._query(X, "predict")

    def partial_fit(
        self, X: ArrayLike, y: object = None, *, sample_weight: ArrayLike | None = None
    ) -> GaussianMixture:
        """Update the model with one chunk of data, for data that arrive in chunks (stepwise EM).

        The first call fits the chunk as `fit` does (every restart and init option); each later
        call is one E-step on its chunk and an M-step from running statistics that blend the
        chunk's in with step g_t = (t + learning_offset) ** -learning_decay (Cappe & Moulines
        2009): old chunks are forgotten gradually and no data are kept. A model fitted by `fit`
        continues from its parameters. `n_features_in_` is fixed by the first call; a chunk of
        another width is a ValueError. `missing`, `prior` and sample weights work as in `fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMixture

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> rng = np.random.RandomState(0)
        >>> gm = GaussianMixture(2, random_state=0)
        >>> for _ in range(5):
        ...     gm = gm.partial_fit(rng.normal(size=(500, 2)))
        >>> gm.n_steps_
        5
        """
        check_schedule(self.learning_decay, self.learning_offset)
        if is_dask_array(X):
            X = X.compute()  # type: ignore[union-attr]  # a stream's chunk is held in memory
        rows: Any
        if not hasattr(self, "means_"):
            rows = self._fit(X, sample_weight)
            mixture = self._mixture()
            self.n_steps_ = 0
        else:
            v.check_parameters(self)
            check_missing_option(self.missing)
            mixture = self._mixture()
            v.check_feature_names(self, X, reset=False)
            rows = v.check_array(X, allow_nan=self._marginalizes())
            v.check_n_features(self, rows, reset=False)
        w = v.check_sample_weight(sample_weight, rows.shape[0])
        has_nan = self._marginalizes() and check_incomplete(rows)
        stats = _core.accumulate(rows, w, mixture, _core.PassOptions(self._n_threads(), has_nan))
        if not stats.weight_sum > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one sample needs positive weight."
            )
        chunk = stepwise.per_unit(stats)
        self.n_steps_ = getattr(self, "n_steps_", 0) + 1
        running = getattr(self, "_running_stats", None)
        if running is None or self.n_steps_ == 1:
            running, self._weight_seen = chunk, 0.0
        else:
            gamma = stepwise.step_size(self.n_steps_, self.learning_decay, self.learning_offset)
            running = stepwise.update(running, chunk, gamma)
        self._running_stats = running
        self._weight_seen += stats.weight_sum
        core_prior = self._fitted_core_prior()
        log_prior = _core.log_prior(mixture, core_prior) if core_prior is not None else 0.0
        scale = self._weight_seen if core_prior is not None else 1.0
        self._set_mixture(
            _core.maximize(
                running.scaled(scale), float(self.reg_covar), core_prior, previous=mixture
            )
        )
        # The chunk's log-likelihood per unit of weight under the parameters it was scored with.
        self.lower_bound_ = (stats.log_likelihood + log_prior) / stats.weight_sum
        self.lower_bounds_ = [*getattr(self, "lower_bounds_", []), self.lower_bound_]
        return self

    def _fit(self, X, sample_weight):
        """EM with restarts; returns the validated X. fit() needs no labels, so it skips the
        extra pass over the data that fit_predict() makes for them."""
        v.check_parameters(self)
        check_missing_option(self.missing)
        if is_dask_array(X):
            return self._fit_dask(X, sample_weight)
        marginalize = self.missing == "marginalize"
        v.check_feature_names(self, X, reset=True)
        X = v.check_array(X, min_samples=2, allow_nan=marginalize)
        v.check_n_features(self, X, reset=True)
        n_samples, n_features = X.shape
        if n_samples < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {n_samples}"
            )
        has_nan = marginalize and check_incomplete(X, self.n_components)
        w = v.scale_sample_weight(
            v.check_sample_weight(sample_weight, n_samples), self.prior is not None
        )
        # The initialisation runs on a completed copy; EM on the data as they are.
        X_init = mean_filled(X, w) if has_nan else X
        inits = self._checked_inits(X)
        filled_prior, core_prior = resolve_prior(
            self.prior, X, w, self.covariance_type, self.n_components
        )
        n_threads = self._n_threads()

        def start(random_state, init):
            method = self._start_method(init)
            return self._initial_mixture(
                X_init, w, random_state, inits, n_threads, core_prior, method
            )

        def em(mixture, start_bound):
            result = _core.run_em(
                X,
                w,
                mixture,
                float(self.tol),
                float(self.reg_covar),
                int(self.max_iter),
                n_threads,
                float(start_bound),
                self._verbose_iteration if self.verbose else None,
                core_prior,
                has_nan,
            )
            bounds = list(result.lower_bounds)
            return (
                result.mixture,
                result.n_iter,
                result.converged,
                result.lower_bound,
                bounds,
                (result.unsettled_m_steps, result.last_m_step_unsettled),
            )

        self._restarts(start, em, filled_prior)
        return X

    def _fit_dask(self, X, sample_weight):
        """fit() of a Dask array: the same restarts, each pass one Dask computation."""
        from . import _dask, _dask_init

        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        data = _dask.DaskData(
            X,
            sample_weight,
            allow_nan=self.missing == "marginalize",
            n_components=self.n_components,
            has_prior=self.prior is not None,
            n_threads=1 if self.n_threads is None else int(self.n_threads),
        )
        self.n_features_in_ = data.n_features
        inits = self._checked_inits(data)
        filled_prior, core_prior = resolve_prior(
            self.prior,
            data,
            None,
            self.covariance_type,
            self.n_components,
            data_moments=lambda: _dask_init.data_moments(data),
        )

        def start(random_state, init):
            if all(inits[key] is not None for key in ("weights", "means", "precisions")):
                return self._start_from_stats(None, inits, data.n_features, core_prior)
            # On Dask every k-means restart clusters in the coordinates of n_init=1 (a k-means
            # in scaled SVD coordinates would need the chunks transformed; not built).
            method = self._start_method(init)
            stats = _dask_init.initial_stats(
                data,
                "kmeans" if method == _KMEANS_SVD else method,
                self.n_components,
                self.covariance_type,
                random_state,
            )
            return self._start_from_stats(stats, inits, data.n_features, core_prior)

        def em(mixture, start_bound):
            return _dask.run_em(
                data,
                mixture,
                tol=float(self.tol),
                reg_covar=float(self.reg_covar),
                max_iter=int(self.max_iter),
                prior=core_prior,
                missing=data.has_nan,
                start_bound=float(start_bound),
                callback=self._verbose_iteration if self.verbose else None,
            )

        self._restarts(start, em, filled_prior)
        return data.X

    def _restarts(self, start, em, filled_prior):
        """The n_init starts, EM from each, the best kept; sets the fitted attributes.

        start(random_state, init) gives an initial Mixture; em(mixture, start_bound) runs EM
        from it and returns (mixture, n_iter, converged, lower_bound, lower_bounds, unsettled),
        unsettled = (how many M-steps' inner iterations stopped at their cap, whether the last
        one's did).
        """
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = self.n_init if do_init else 1
        random_state = v.check_random_state(self.random_state)

        best = None
        max_lower_bound = -np.inf
        self.converged_ = False
        singular = []
        for init in range(n_init):
            self._verbose_init_start(init)
            try:
                if do_init:
                    mixture = start(random_state, init)
                    start_bound = -np.inf
                else:
                    mixture = self._mixture()
                    start_bound = self.lower_bound_
                if self.max_iter == 0:
                    # No EM: the initial parameters are the result (scikit-learn keeps the last).
                    best = (mixture, 0, False, [], (0, False))
                    continue
                mixture, n_iter, converged, lower_bound, bounds, unsettled = em(
                    mixture, start_bound
                )
            except _core.NotPositiveDefiniteError as error:
                # One restart collapsing onto a singular covariance (possible with a small
                # reg_covar) says nothing about the others: it is skipped, as mclust leaves
                # such a start out; only when every restart fails is the fit an error.
                if n_init == 1:
                    raise
                singular.append(error)
                continue
            self._verbose_init_end(lower_bound, converged)
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound
                best = (mixture, n_iter, converged, bounds, unsettled)

        if best is None:
            raise singular[0]
        if singular:
            warnings.warn(
                f"{len(singular)} of the {n_init} initialisations ended in a singular "
                f"covariance and were skipped ({singular[0]})",
                UserWarning,
            )
        mixture, self.n_iter_, self.converged_, self.lower_bounds_, unsettled = best
        n_unsettled, last_unsettled = unsettled
        if last_unsettled:
            # Earlier capped M-steps only slowed EM down (each still raised the likelihood);
            # a capped last one leaves the parameters short of its optimum.
            warnings.warn(
                f"covariance_type={self.covariance_type!r}: the last M-step's inner iteration "
                "(the alternation of volumes and shared part, or the search for the common "
                "orientation) stopped at its cap of 500 steps before it settled (so did "
                f"{n_unsettled} of the {self.n_iter_} EM iterations' M-steps). Its last iterate "
                "was kept: the parameters may be slightly short of that M-step's optimum. "
                "Fitting longer (a smaller tol, a larger max_iter) lets it settle.",
                ConvergenceWarning,
            )
        self.lower_bound_ = max_lower_bound
        if filled_prior is not None:
            self.prior_ = filled_prior
        elif hasattr(self, "prior_"):
            del self.prior_
        self._set_mixture(mixture)
        # A new fit starts partial_fit's running statistics over.
        self._running_stats = None
        if hasattr(self, "n_steps_"):
            del self.n_steps_
        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
            )

    def _start_method(self, init):
        """How restart number `init` starts. With init_params='kmeans' and n_init > 1 the
        restarts vary: the first is the hierarchical start (mclust's), the others k-means, on
        odd restarts in standardised coordinates (the start of n_init=1) and on even ones in the
        hierarchical start's scaled SVD coordinates, whose different clusterings reach optima
        that the first coordinates miss (on mclust's reference data: tests/test_mclust_reference.py)."""
        if self.init_params == "kmeans" and self.n_init > 1:
            if init in _HC_RESTARTS:
                return "hc"
            if init % 2 == 0:
                return _KMEANS_SVD
        return self.init_params

    def _n_threads(self):
        return 0 if self.n_threads is None else int(self.n_threads)

    def _checked_inits(self, X):
        n_features = X.shape[1]
        k = self.n_components
        return {
            "weights": None
            if self.weights_init is None
            else v.check_weights_init(self.weights_init, k, X.dtype),
            "means": None
            if self.means_init is None
            else v.check_means_init(self.means_init, k, n_features),
            "precisions": None
            if self.precisions_init is None
            else v.check_precisions_init(self.precisions_init, self.covariance_type, k, n_features),
        }

    def _initial_mixture(self, X, w, random_state, inits, n_threads, prior=None, method=None):
        """Initial parameters: user-given ones, completed from initial responsibilities."""
        structure = layout(self.covariance_type)
        cov_type = structure.core_type
        n_samples, n_features = X.shape
        k = self.n_components
        if all(inits[key] is not None for key in ("weights", "means", "precisions")):
            return self._start_from_stats(None, inits, n_features, prior)
        options = _core.PassOptions(n_threads)
        method = self.init_params if method is None else method
        if method == "hc":
            stats = hierarchical.initial_stats(X, w, k, cov_type, n_threads)
        elif method in ("kmeans", _KMEANS_SVD):
            seed = random_state.randint(np.iinfo(np.int32).max)
            Z = _standardized(X, w) if method == "kmeans" else _scaled_svd(X, w)
            labels = _core.kmeans(Z, w, k, seed, n_threads=n_threads).labels
            stats = _core.moments_from_labels(X, w, labels, k, cov_type, options)
        elif method == "random":
            resp = random_state.uniform(size=(n_samples, k))
            resp /= resp.sum(axis=1)[:, np.newaxis]
            stats = _core.moments_from_responsibilities(X, w, resp, cov_type, options)
        else:
            # One row per component: the other rows have zero responsibility, so the moments
            # of the chosen rows alone are the same and cost nothing.
            if method == "random_from_data":
                indices = _rows_from_data(random_state, w, n_samples, k)
            else:  # k-means++
                seed = random_state.randint(np.iinfo(np.int32).max)
                indices = _core.kmeans_plusplus(X, w, k, seed, n_threads)
            rows = np.ascontiguousarray(X[indices])
            # A seed stands for one sample whatever its weight: a row of weight 3 is three
            # repeated rows of which the draw picked one, so equal initial weights either way.
            stats = _core.moments_from_labels(
                rows, np.empty(0), np.arange(k, dtype=np.int64), k, cov_type, options
            )
        return self._start_from_stats(stats, inits, n_features, prior)

    def _start_from_stats(self, stats, inits, n_features, prior):
        """The initial Mixture: the M-step of the initial moments, overridden by the user's
        weights_init, means_init and precisions_init (stats may be None when all three are given)."""
        structure = layout(self.covariance_type)
        cov_type = structure.core_type
        if stats is None:
            return _core.Mixture.from_precisions(
                cov_type,
                inits["weights"],
                inits["means"],
                structure.to_storage(inits["precisions"], n_features),
            )
        start = _core.maximize(stats, float(self.reg_covar), prior)
        weights = start.weights if inits["weights"] is None else inits["weights"]
        means = start.means if inits["means"] is None else inits["means"]
        if inits["precisions"] is None:
            return _core.Mixture.from_covariances(cov_type, weights, means, start.covariances)
        return _core.Mixture.from_precisions(
            cov_type, weights, means, structure.to_storage(inits["precisions"], n_features)
        )

    # ------------------------------------------------------- parameters <-> core

    def _set_mixture(self, mixture, dtype=np.float64):
        """The fitted attributes from a core mixture (float64 unless `dtype` says otherwise)."""
        n_features = mixture.n_features
        structure = layout(self.covariance_type)
        self.weights_ = np.array(mixture.weights, dtype=dtype)
        self.means_ = np.array(mixture.means, dtype=dtype)
        self.covariances_ = structure.to_public(mixture.covariances, n_features, dtype)
        self.precisions_cholesky_ = structure.to_public(
            mixture.precisions_cholesky, n_features, dtype
        )
        self.precisions_ = structure.to_public(mixture.precisions(), n_features, dtype)

    def _mixture(self):
        """The core's view of the fitted attributes (so attributes set by hand are honoured).

        Parameters set by hand may give the covariances or the precision Cholesky factors
        alone, as scikit-learn's queries need only the factors and its sample() only the
        covariances: the other is computed from the one given.
        """
        means = np.ascontiguousarray(self.means_, dtype=np.float64)
        n_features = means.shape[1]
        structure = layout(self.covariance_type)
        weights = np.ascontiguousarray(self.weights_, dtype=np.float64)
        has_cov = getattr(self, "covariances_", None) is not None
        has_chol = getattr(self, "precisions_cholesky_", None) is not None
        if has_cov and has_chol:
            return _core.Mixture(
                structure.core_type,
                weights,
                means,
                structure.to_storage(self.covariances_, n_features),
                structure.to_storage(self.precisions_cholesky_, n_features),
            )
        if has_cov:
            return _core.Mixture.from_covariances(
                structure.core_type,
                weights,
                means,
                structure.to_storage(self.covariances_, n_features),
            )
        if has_chol:
            chol = structure.full_matrices(self.precisions_cholesky_, len(weights), n_features)
            precisions = (
                structure.storage_of_full(chol @ np.swapaxes(chol, 1, 2))
                if not structure.diagonal
                else structure.to_storage(np.square(self.precisions_cholesky_), n_features)
            )
            return _core.Mixture.from_precisions(structure.core_type, weights, means, precisions)
        raise AttributeError(
            f"{type(self).__name__} has means_ but neither covariances_ nor precisions_cholesky_; "
            "set one of them (or call fit)."
        )

    def _marginalizes(self):
        # Models loaded from files written before the parameter existed have no attribute.
        return getattr(self, "missing", "error") == "marginalize"

    def _query(self, X, output, mixture=None):
        if is_dask_array(X):
            from . import _dask

            n_threads = 1 if self.n_threads is None else int(self.n_threads)
            return _dask.query(
                X, mixture or self._mixture(), output, n_threads, self._marginalizes()
            )
        out = _core.log_prob(
            X, mixture or self._mixture(), output, self._n_threads(), self._marginalizes()
        )
        return query_output(out, output)

    def _checked_X(self, X):
        v.check_is_fitted(self, NotFittedError)
        if is_dask_array(X):
            # Values are checked per chunk by the core's query pass when it runs.
            if X.ndim != 2:
                raise ValueError(f"Expected a 2D Dask array, got {X.ndim} dimension(s).")
            if X.dtype.kind not in "biuf":
                raise ValueError(f"X must contain real numbers, got dtype {X.dtype}.")
            v.check_n_features(self, X, reset=False)
            return X
        v.check_feature_names(self, X, reset=False)
        # Values (NaN, infinity, overflowing magnitudes) are checked by the core's query pass.
        X = v.check_array(X, check_values=False)
        v.check_n_features(self, X, reset=False)
        return X

    # ------------------------------------------------------------------ queries

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """Log of the mixture density at each row of X: ndarray of shape (n_samples,).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> GaussianMixture(2, random_state=0).fit(X).score_samples(X[:4]).shape
        (4,)
        """
        return self._query(self._checked_X(X), "score_samples")

    def score(
        self, X: ArrayLike, y: object = None, sample_weight: ArrayLike | None = None
    ) -> float:
        """Mean log-likelihood per sample of X (weighted by sample_weight when given).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> bool(np.isclose(gm.score(X), gm.score_samples(X).mean()))
        True
        """
        log_density = self.score_samples(X)
        if sample_weight is None:
            return float(log_density.mean())
        if is_dask_array(log_density):
            weights: Any = sample_weight  # a Dask or NumPy vector, summed lazily with the rows
            return float((log_density * weights).sum() / weights.sum())
        w = v.check_sample_weight(sample_weight, log_density.shape[0])
        return float(np.dot(w, log_density) / w.sum())

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """Most probable component of each row: ndarray of shape (n_samples,).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> GaussianMixture(2, random_state=0).fit(X).predict(X[:4]).shape
        (4,)
        """
        return self._query(self._checked_X(X), "predict")

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Posterior probability of each component: ndarray of shape (n_samples, n_components).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> proba = GaussianMixture(2, random_state=0).fit(X).predict_proba(X[:4])
        >>> bool(np.allclose(proba.sum(axis=1), 1.0))
        True
        """
        return self._query(self._checked_X(X), "predict_proba")

    def impute(
        self, X: ArrayLike, *, method: str = "mean", random_state: object = None
    ) -> NDArray[np.floating]:
        """A copy of X with every NaN filled in under the fitted mixture.

        Works whatever `missing` the model was fitted with (a model of complete data can fill
        the holes of new rows); X itself is never modified.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            NaN marks the values to fill; the others are kept exactly.
        method : {'mean', 'sample'}, default='mean'
            'mean': the conditional expectation, sum_c p(c | x_obs) E[x_mis | x_obs, c], with
            each component's posterior from the observed features alone and its conditional
            mean mu_mis + S_mo S_oo^-1 (x_obs - mu_obs). 'sample': a draw from the conditional
            mixture (a component from that posterior, then the component's conditional normal
            distribution), for multiple imputation: different `random_state`, different draws.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws of method='sample'.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            float32 for float32 input, float64 otherwise. A row with nothing observed gets the
            mixture's mean ('mean') or a draw from the whole mixture ('sample').

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(200, 3))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> filled = gm.impute(np.array([[0.5, np.nan, -1.0]]))
        >>> bool(np.isnan(filled).any())
        False
        """
        return self._impute(self._checked_X(X), method, random_state)

    def _impute(self, X, method, random_state):
        """impute() of an X already checked (C-contiguous float, right width)."""
        if method not in ("mean", "sample"):
            raise ValueError(f"method must be 'mean' or 'sample', got {method!r}.")
        mixture = self._mixture()
        if method == "mean":
            return _core.impute(X, mixture, self._n_threads())
        rng = v.check_random_state(random_state)
        uniforms = rng.uniform(size=X.shape[0])
        normals = np.zeros(X.shape, dtype=np.float64)
        holes = np.isnan(X)
        normals[holes] = rng.standard_normal(int(np.count_nonzero(holes)))
        return _core.impute(X, mixture, self._n_threads(), uniforms, normals)

    def sample(self, n_samples: int = 1) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Draw samples from the fitted mixture, grouped by component.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            The component each sample came from (sorted: all of component 0 first, ...).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> X_new, y_new = GaussianMixture(2, random_state=0).fit(X).sample(5)
        >>> X_new.shape, y_new.shape
        ((5, 2), (5,))
        """
        v.check_is_fitted(self, NotFittedError)
        if (
            isinstance(n_samples, bool)
            or not isinstance(n_samples, (int, np.integer))
            or n_samples < 1
        ):
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires at least "
                "one sample."
            )
        rng = v.check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        structure = layout(self.covariance_type)
        covariances = getattr(self, "covariances_", None)
        if covariances is None:  # parameters set by hand, factors only
            covariances = structure.to_public(self._mixture().covariances, self.means_.shape[1])
        parts = [
            structure.draw(rng, mean, covariances, c, count)
            for c, (mean, count) in enumerate(zip(self.means_, counts))
        ]
        labels = np.repeat(np.arange(self.n_components, dtype=np.int64), counts)
        return np.vstack(parts), labels

    def statistics(
        self, X: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> _core.SufficientStats:
        """The sufficient statistics of X under the fitted parameters (one E-step), to merge.

        The E-step and the moment sums of EM in one pass over X. The result is a small
        picklable object (`gaussmix.SufficientStats`). Statistics of different chunks merge with
        `+`, because all of them are taken about the same shifts (the fitted means).
        `update_from` then makes the M-step. Together they are one EM iteration over data held
        anywhere, such as files read one at a time or a pipeline of your own. NaN is allowed
        with missing='marginalize'.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(1000, 2))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> stats = gm.statistics(X[:500]) + gm.statistics(X[500:])
        >>> gm = gm.update_from(stats)
        >>> round(stats.weight_sum)
        1000
        """
        rows: Any = self._checked_X(X)
        if is_dask_array(rows):
            raise TypeError("statistics() takes an in-memory array; pass each chunk in turn.")
        has_nan = self._marginalizes() and check_incomplete(rows)
        if not self._marginalizes():
            v.check_range(rows)
        w = v.check_sample_weight(sample_weight, rows.shape[0])
        options = _core.PassOptions(self._n_threads(), has_nan)
        return _core.accumulate(rows, w, self._mixture(), options)

    def update_from(self, stats: _core.SufficientStats) -> GaussianMixture:
        """The M-step: sets the parameters from merged sufficient statistics and returns self.

        It uses this model's reg_covar and, when it was fitted with a prior, that prior
        (`prior_`). `lower_bound_` becomes the statistics' log-likelihood per unit of weight,
        that is, of the parameters they were computed with.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> gm = gm.update_from(gm.statistics(X[:150]) + gm.statistics(X[150:]))
        """
        v.check_is_fitted(self, NotFittedError)
        if not isinstance(stats, _core.SufficientStats):
            raise TypeError(f"stats must be gaussmix.SufficientStats, got {type(stats).__name__}.")
        if stats.n_features != self.means_.shape[1] or stats.n_components != self.n_components:
            raise ValueError(
                f"stats are for {stats.n_components} components and {stats.n_features} features; "
                f"this model has {self.n_components} and {self.means_.shape[1]}."
            )
        if stats.covariance_type != layout(self.covariance_type).core_type:
            raise ValueError(
                f"stats are of covariance type {stats.covariance_type.name!r}, this model's is "
                f"{self.covariance_type!r}."
            )
        if not stats.weight_sum > 0:
            raise ValueError("stats hold no sample weight.")
        core_prior = self._fitted_core_prior()
        mixture = self._mixture()
        log_prior = _core.log_prior(mixture, core_prior) if core_prior is not None else 0.0
        self._set_mixture(
            _core.maximize(stats, float(self.reg_covar), core_prior, previous=mixture)
        )
        self.lower_bound_ = (stats.log_likelihood + log_prior) / stats.weight_sum
        return self

    def _fitted_core_prior(self):
        """The core's Prior of the fitted prior_ (all fields filled), or None without one."""
        if getattr(self, "prior_", None) is None:
            return None
        width = np.empty((0, self.means_.shape[1]))
        return resolve_prior(
            self.prior_, width, np.empty(0), self.covariance_type, self.n_components
        )[1]

    def save(self, file: str | os.PathLike | BinaryIO, *, dtype: str = "float64") -> None:
        """Write the fitted model to `file` in gaussmix's model file format.

        The file loads with :func:`gaussmix.load` or, in C++, ``gaussmix::load`` with
        bit-identical parameters (docs/model_format.md describes the format).

        Parameters
        ----------
        file : str, path-like or binary file object
        dtype : {'float64', 'float32'}, default='float64'
            Element type of the stored arrays. float32 halves the file; the parameters are
            then rounded to float32 once, when written.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> import io, gaussmix
        >>> buffer = io.BytesIO()
        >>> GaussianMixture(2, random_state=0).fit(X).save(buffer)
        >>> gaussmix.load(io.BytesIO(buffer.getvalue())).n_components
        2
        """
        from ._io import save

        save(self, file, dtype=dtype)

    # ------------------------------------------------------------ conditioning

    def condition(self, indices: object, values: ArrayLike) -> GaussianMixture:
        """The mixture of the remaining features given that features `indices` equal `values`.

        Each component's weight is multiplied by its marginal density at `values` and the
        weights renormalised; means and covariances follow the Gaussian conditioning formulas
        mu_r + S_rg S_gg^-1 (values - mu_g) and S_rr - S_rg S_gg^-1 S_gr. The result keeps the
        covariance type: a tied covariance conditions to the same matrix for every component,
        and diag and spherical components have no cross-covariances, so conditioning leaves
        their means and (restricted) variances unchanged and only re-weights them.

        Parameters
        ----------
        indices : int, str or array-like of int or str
            The conditioning features (column positions, or names when fitted on a dataframe).
        values : float or array-like of shape (len(indices),)

        Returns
        -------
        conditional : GaussianMixture
            A fitted mixture over the remaining features, in their original order
            (``n_features_in_ = n_features - len(indices)``). It was computed, not fitted:
            ``n_iter_`` is 0, ``converged_`` True and ``lower_bound_`` -inf.

        Raises
        ------
        ValueError
            On repeated, out-of-range or non-integer indices, when no feature remains, or when
            `values` has the wrong length, is not finite, or has zero density.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> given = GaussianMixture(2, random_state=0).fit(X).condition([0], [1.5])
        >>> given.means_.shape
        (2, 1)
        """
        from ._conditioning import condition

        return condition(self, indices, values)

    def conditional_mean(self, X_given: ArrayLike, given_indices: object) -> NDArray[np.float64]:
        """Regression: E[x_rest | x_given] for every row of X_given, vectorised.

        Parameters
        ----------
        X_given : array-like of shape (n_samples, len(given_indices))
            Values of the given features, columns in the order of `given_indices`.
        given_indices : array-like of int or str

        Returns
        -------
        mean : ndarray of shape (n_samples, n_features - len(given_indices))
            The conditional mean of the remaining features (in their original order): the
            components' conditional means averaged with their posterior probabilities given
            the given features alone.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> gm.conditional_mean(X[:3, [0]], given_indices=[0]).shape
        (3, 1)
        """
        from ._conditioning import conditional_mean

        return conditional_mean(self, X_given, given_indices)

    def decomposition(self) -> CovarianceDecomposition:
        """Each fitted covariance as volume, shape and orientation, in mclust's terms.

        Sigma_c = lambda_c D_c A_c D_c^T with lambda_c = det(Sigma_c) ** (1 / n_features), D_c
        orthogonal and A_c diagonal with determinant 1 (mclust's normalisation). Models whose
        orientation is the identity (mclust's third letter I: spherical, diag, EII, EEI, VEI,
        EVI) report it with the shapes in feature order; models with one orientation (E:
        tied, VEE, EVE, VVE) report that one for every component; the others each
        component's eigenvectors with the shapes in decreasing order. The covariances include
        reg_covar.

        Returns
        -------
        CovarianceDecomposition
            ``volumes`` (k,), ``shapes`` (k, n), ``orientations`` (k, n, n), and ``model``,
            mclust's name of the covariance type.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> rng = np.random.RandomState(0)
        >>> X = np.vstack([rng.normal(size=(300, 2)) * [3, 1], rng.normal(size=(300, 2)) + 9])
        >>> gm = GaussianMixture(2, covariance_type="EVI", random_state=0).fit(X)
        >>> d = gm.decomposition()
        >>> d.model, bool(np.isclose(d.volumes[0], d.volumes[1]))
        ('EVI', True)
        >>> bool(np.allclose(np.prod(d.shapes, axis=1), 1.0))
        True
        """
        v.check_is_fitted(self, NotFittedError)
        k, n = self.means_.shape
        full = layout(self.covariance_type).full_matrices(self.covariances_, k, n)
        return decompose(self.covariance_type, np.asarray(full, dtype=np.float64))

    def _n_parameters(self):
        """Number of free parameters of the model (as scikit-learn counts them)."""
        return int(self._mixture().n_parameters())

    def bic(self, X: ArrayLike) -> float:
        """Bayesian information criterion on X (lower is better).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> bics = [GaussianMixture(k, random_state=0).fit(X).bic(X) for k in (1, 2, 3)]
        >>> len(bics)
        3
        """
        log_density = self.score_samples(X)  # validates X before its length is used
        n_samples = log_density.shape[0]
        return -2 * float(log_density.sum()) + self._n_parameters() * np.log(n_samples)

    def aic(self, X: ArrayLike) -> float:
        """Akaike information criterion on X (lower is better).

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> gm = GaussianMixture(2, random_state=0).fit(X)
        >>> bool(gm.aic(X) < gm.bic(X))
        True
        """
        return -2 * float(self.score_samples(X).sum()) + 2 * self._n_parameters()

    # ----------------------------------------------------------------- verbose

    def _verbose_init_start(self, n_init):
        if self.verbose >= 1:
            print(f"Initialization {n_init}")
            self._init_time = self._iter_time = time.time()

    def _verbose_iteration(self, n_iter, lower_bound, change):
        if self.verbose >= 1 and n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            else:
                now = time.time()
                print(
                    f"  Iteration {n_iter}\t time lapse {now - self._iter_time:.5f}s\t ll change {change:.5f}"
                )
                self._iter_time = now

    def _verbose_init_end(self, lower_bound, converged):
        if self.verbose == 1:
            print(f"Initialization {'converged' if converged else 'did not converge'}.")
        elif self.verbose >= 2:
            state = "converged" if converged else "did not converge"
            print(
                f"Initialization {state}. time lapse {time.time() - self._init_time:.5f}s\t "
                f"lower bound {lower_bound:.5f}."
            )
