"""Plots of fitted mixtures: ellipses over the data, pair grids, density contours,
responsibilities, and model selection curves. Needs matplotlib (``pip install 'gaussmix[plot]'``).

Every function draws on the Axes (or Figure) it is given, or on new ones, returns them, and never
calls ``show()``. Each works on the marginal of the chosen features: the marginal of a Gaussian
mixture on some features is the mixture of the components' marginals, with the same weights.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._decomposition import mclust_name
from ._layout import MCLUST_MODELS, layout

__all__ = [
    "marginal_parameters",
    "plot_density",
    "plot_mixture",
    "plot_mixture_grid",
    "plot_responsibilities",
    "plot_selection",
]

# The ellipses drawn per component: 1 and 2 standard deviations along each principal axis.
SIGMAS = (1.0, 2.0)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "gaussmix.plot needs matplotlib; install it with `pip install matplotlib` "
            '(or `pip install ".[plot]"` from a gaussmix checkout).'
        ) from exc
    return plt


def _fitted(gm):
    if not hasattr(gm, "means_"):
        raise ValueError("the mixture is not fitted yet; call fit first.")
    return gm


def _dims(gm, dims, count):
    n_features = gm.means_.shape[1]
    dims = tuple(int(d) for d in dims)
    if len(dims) != count:
        raise ValueError(f"dims must name {count} features, got {dims}.")
    for d in dims:
        if not 0 <= d < n_features:
            raise ValueError(f"feature {d} is out of range for {n_features} features.")
    if len(set(dims)) != len(dims):
        raise ValueError(f"dims must be distinct features, got {dims}.")
    return dims


def marginal_parameters(gm: Any, dims: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (k,), means (k, d) and full covariances (k, d, d) of the mixture's marginal on
    the features `dims`, whatever the covariance type.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> from gaussmix.plot import marginal_parameters
    >>> gm = GaussianMixture(2, random_state=0).fit(np.random.RandomState(0).normal(size=(100, 3)))
    >>> weights, means, covs = marginal_parameters(gm, (0, 2))
    >>> covs.shape
    (2, 2, 2)
    """
    _fitted(gm)
    n_features = gm.means_.shape[1]
    dims = list(dims)
    full = layout(gm.covariance_type).full_matrices(gm.covariances_, gm.n_components, n_features)
    return (
        np.asarray(gm.weights_, dtype=np.float64),
        np.asarray(gm.means_, dtype=np.float64)[:, dims],
        full[:, dims][:, :, dims],
    )


def ellipse_geometry(mean, cov, sigma):
    """(centre, width, height, angle in degrees) of the `sigma` contour of N(mean, cov) in 2-D:
    the axes are 2 sigma sqrt(eigenvalue) along the eigenvectors, the first the largest."""
    values, vectors = np.linalg.eigh(cov)
    values, vectors = values[::-1], vectors[:, ::-1]
    angle = float(np.degrees(np.arctan2(vectors[1, 0], vectors[0, 0])))
    width, height = 2.0 * sigma * np.sqrt(np.maximum(values, 0.0))
    return np.asarray(mean, dtype=np.float64), float(width), float(height), angle


def plot_mixture(
    gm: Any,
    X: ArrayLike | None = None,
    dims: Sequence[int] = (0, 1),
    ax: Any = None,
    *,
    point_size: float = 8.0,
) -> Any:
    """The fitted components over the data, on two features.

    The rows of X (if given) are coloured by their most probable component; each component
    gets the ellipses of its marginal at 1 and 2 standard deviations and a cross at its mean,
    with its weight in the legend.

    Parameters
    ----------
    gm : fitted GaussianMixture
    X : array-like of shape (n_samples, n_features), default=None
    dims : pair of int, default=(0, 1)
        The features on the horizontal and vertical axes.
    ax : matplotlib Axes, default=None
        None draws on new axes.
    point_size : float, default=8
        Marker area of the data points.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> from gaussmix.plot import plot_mixture
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> ax = plot_mixture(GaussianMixture(2, random_state=0).fit(X), X)
    >>> len(ax.patches)
    4
    """
    plt = _pyplot()
    from matplotlib.patches import Ellipse

    _fitted(gm)
    dims = _dims(gm, dims, 2)
    if ax is None:
        _, ax = plt.subplots()
    weights, means, covs = marginal_parameters(gm, dims)
    colors = [f"C{c % 10}" for c in range(gm.n_components)]
    if X is not None:
        data = np.asarray(X, dtype=np.float64)
        labels = gm.predict(data)
        ax.scatter(
            data[:, dims[0]],
            data[:, dims[1]],
            c=[colors[c] for c in labels],
            s=point_size,
            alpha=0.5,
            linewidths=0,
        )
    for c in range(gm.n_components):
        for sigma in SIGMAS:
            centre, width, height, angle = ellipse_geometry(means[c], covs[c], sigma)
            ax.add_patch(
                Ellipse(
                    tuple(centre),
                    width,
                    height,
                    angle=angle,
                    fill=False,
                    edgecolor=colors[c],
                    linewidth=1.5 if sigma == SIGMAS[0] else 0.8,
                    linestyle="-" if sigma == SIGMAS[0] else "--",
                )
            )
        ax.plot(
            [means[c, 0]],
            [means[c, 1]],
            marker="x",
            color=colors[c],
            markersize=9,
            markeredgewidth=2,
            linestyle="none",
            label=f"component {c} (weight {weights[c]:.2f})",
        )
    ax.autoscale_view()
    names = getattr(gm, "feature_names_in_", None)
    ax.set_xlabel(str(names[dims[0]]) if names is not None else f"feature {dims[0]}")
    ax.set_ylabel(str(names[dims[1]]) if names is not None else f"feature {dims[1]}")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_mixture_grid(
    gm: Any, X: ArrayLike | None = None, dims: Sequence[int] | None = None, fig: Any = None
) -> Any:
    """A pair-plot grid: `plot_mixture` on every pair of the chosen features below the
    diagonal, each feature's marginal density (and the data's histogram) on the diagonal.

    Parameters
    ----------
    gm : fitted GaussianMixture
    X : array-like of shape (n_samples, n_features), default=None
    dims : sequence of int, default=None
        The features to show (at least 2); None shows all of them.
    fig : matplotlib Figure, default=None
        None draws on a new figure.

    Returns
    -------
    fig : matplotlib Figure
        Its axes are ``fig.axes``, row by row; those above the diagonal are hidden.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> from gaussmix.plot import plot_mixture_grid
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> fig = plot_mixture_grid(GaussianMixture(2, random_state=0).fit(X), X)
    >>> len(fig.axes)
    9
    """
    plt = _pyplot()
    _fitted(gm)
    n_features = gm.means_.shape[1]
    dims = tuple(range(n_features)) if dims is None else tuple(int(d) for d in dims)
    if len(dims) < 2:
        raise ValueError("plot_mixture_grid needs at least 2 features; use plot_mixture.")
    _dims(gm, dims, len(dims))
    d = len(dims)
    if fig is None:
        fig = plt.figure(figsize=(2.6 * d, 2.6 * d))
    axes = fig.subplots(d, d, squeeze=False)
    data = None if X is None else np.asarray(X, dtype=np.float64)
    for i, row_dim in enumerate(dims):
        for j, col_dim in enumerate(dims):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
            elif i == j:
                _plot_marginal_1d(gm, data, col_dim, ax)
            else:
                plot_mixture(gm, data, (col_dim, row_dim), ax, point_size=4.0)
                legend = ax.get_legend()
                if legend is not None and (i, j) != (1, 0):
                    legend.remove()
    fig.tight_layout()
    return fig


def _plot_marginal_1d(gm, data, dim, ax):
    weights, means, covs = marginal_parameters(gm, [dim])
    sd = np.sqrt(covs[:, 0, 0])
    lo = float(np.min(means[:, 0] - 4 * sd))
    hi = float(np.max(means[:, 0] + 4 * sd))
    if data is not None:
        lo, hi = min(lo, float(data[:, dim].min())), max(hi, float(data[:, dim].max()))
        ax.hist(data[:, dim], bins=40, density=True, color="0.8")
    grid = np.linspace(lo, hi, 400)
    parts = (
        weights
        * np.exp(-0.5 * ((grid[:, None] - means[:, 0]) / sd) ** 2)
        / (sd * np.sqrt(2 * np.pi))
    )
    ax.plot(grid, parts.sum(axis=1), color="black", linewidth=1.2)
    ax.set_xlabel(f"feature {dim}")


def plot_density(
    gm: Any,
    dims: Sequence[int] = (0, 1),
    ax: Any = None,
    *,
    X: ArrayLike | None = None,
    levels: int = 12,
    resolution: int = 150,
) -> Any:
    """Contours of the log-density of the mixture's marginal on two features.

    Parameters
    ----------
    gm : fitted GaussianMixture
    dims : pair of int, default=(0, 1)
    ax : matplotlib Axes, default=None
    X : array-like, default=None
        Data drawn as points under the contours (and used for the plotted range).
    levels : int, default=12
        Number of contour levels.
    resolution : int, default=150
        Grid points per axis.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> from gaussmix.plot import plot_density
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> ax = plot_density(GaussianMixture(2, random_state=0).fit(X))
    """
    plt = _pyplot()
    from ._gaussian_mixture import GaussianMixture

    _fitted(gm)
    dims = _dims(gm, dims, 2)
    if ax is None:
        _, ax = plt.subplots()
    weights, means, covs = marginal_parameters(gm, dims)
    marginal = GaussianMixture(gm.n_components, covariance_type="full")
    # Covariances alone: the model computes its precision factors from them.
    marginal.weights_, marginal.means_, marginal.covariances_ = weights, means, covs
    marginal.n_features_in_ = 2
    sd = np.sqrt(np.stack([covs[:, 0, 0], covs[:, 1, 1]], axis=1))
    lo, hi = (means - 3 * sd).min(axis=0), (means + 3 * sd).max(axis=0)
    data = None if X is None else np.asarray(X, dtype=np.float64)[:, list(dims)]
    if data is not None:
        lo, hi = np.minimum(lo, data.min(axis=0)), np.maximum(hi, data.max(axis=0))
        ax.scatter(data[:, 0], data[:, 1], s=4, color="0.5", alpha=0.4, linewidths=0)
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    density = marginal.score_samples(np.column_stack([gx.ravel(), gy.ravel()]))
    contours = ax.contour(gx, gy, density.reshape(gx.shape), levels=levels, cmap="viridis")
    ax.figure.colorbar(contours, ax=ax, label="log-density")
    ax.set_xlabel(f"feature {dims[0]}")
    ax.set_ylabel(f"feature {dims[1]}")
    return ax


def plot_responsibilities(gm: Any, X: ArrayLike, ax: Any = None) -> Any:
    """Each row's posterior probabilities as a stacked bar, rows sorted by their most probable
    component and then by its probability.

    Parameters
    ----------
    gm : fitted GaussianMixture
    X : array-like of shape (n_samples, n_features)
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> from gaussmix.plot import plot_responsibilities
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> ax = plot_responsibilities(GaussianMixture(2, random_state=0).fit(X), X)
    """
    plt = _pyplot()
    _fitted(gm)
    if ax is None:
        _, ax = plt.subplots()
    resp = np.asarray(gm.predict_proba(X), dtype=np.float64)
    labels = resp.argmax(axis=1)
    order = np.lexsort((-resp[np.arange(len(resp)), labels], labels))
    resp = resp[order]
    rows = np.arange(len(resp))
    bottom = np.zeros(len(resp))
    for c in range(resp.shape[1]):
        ax.fill_between(
            rows,
            bottom,
            bottom + resp[:, c],
            step="mid",
            color=f"C{c % 10}",
            label=f"component {c}",
        )
        bottom += resp[:, c]
    ax.set_xlim(0, max(len(resp) - 1, 1))
    ax.set_ylim(0, 1)
    ax.set_xlabel("samples (sorted by most probable component)")
    ax.set_ylabel("responsibility")
    ax.legend(loc="upper right", fontsize="small")
    return ax


# Each covariance type keeps one marker and colour in every selection plot, as in mclust's BIC
# plot (fourteen models need more than the default cycle's ten colours).
_MODEL_STYLES = dict(
    zip(
        MCLUST_MODELS,
        zip(
            ("o", "s", "^", "v", "<", ">", "D", "p", "h", "8", "P", "X", "d", "*"),
            [f"C{i}" for i in range(10)] + ["#17becf80", "black", "#8c564b80", "#ff7f0e80"],
        ),
    )
)


def plot_selection(
    result: Any, ax: Any = None, criterion: str | None = None, mclust_sign: bool = False
) -> Any:
    """A criterion against n_components, one line per covariance type, the selected model marked.

    What ``select_model(...).plot()`` draws: mclust's BIC plot, each covariance type with its
    own marker and colour (the same in every plot; scikit-learn's names share those of their
    mclust aliases).

    Parameters
    ----------
    result : ModelSelectionResult
    ax : matplotlib Axes, default=None
    criterion : {'bic', 'aic', 'icl'}, default=None
        None plots the criterion the model was selected by.
    mclust_sign : bool, default=False
        False plots scikit-learn's sign (-2 log L + penalty, lower is better); True plots
        mclust's, 2 log L - penalty (higher is better), as R's ``plot(mclustBIC(...))`` does.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import gaussmix
    >>> from gaussmix.plot import plot_selection
    >>> X = np.random.RandomState(0).normal(size=(200, 2))
    >>> ax = plot_selection(gaussmix.select_model(X, n_components=[1, 2], random_state=0))
    """
    from ._model_selection import _check_criterion

    plt = _pyplot()
    criterion = result.criterion if criterion is None else _check_criterion(criterion)
    sign = -1.0 if mclust_sign else 1.0
    if ax is None:
        ax = plt.gca()
    table = result.table
    for cov_type in dict.fromkeys(table["covariance_type"]):
        rows = table[table["covariance_type"] == cov_type]
        rows = rows[np.argsort(rows["n_components"], kind="stable")]
        finite = np.isfinite(rows[criterion])
        marker, color = _MODEL_STYLES[mclust_name(str(cov_type))]
        ax.plot(
            rows["n_components"][finite],
            sign * rows[criterion][finite],
            marker=marker,
            color=color,
            label=str(cov_type),
        )
    best = table[result.best_index_]
    if criterion == result.criterion:
        ax.plot(
            [best["n_components"]],
            [sign * best[criterion]],
            marker="o",
            markersize=16,
            markerfacecolor="none",
            markeredgecolor="red",
            linestyle="none",
            label="selected",
        )
    ax.set_xlabel("n_components")
    better = "higher" if mclust_sign else "lower"
    ax.set_ylabel(f"{criterion.upper()} ({better} is better)")
    ax.legend(title="covariance_type", ncol=2 if len(ax.lines) > 8 else 1, fontsize="small")
    return ax
