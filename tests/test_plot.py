"""gaussmix.plot: what is drawn (ellipse centres and axes from each component's marginal,
lines, labels), with matplotlib's Agg backend."""

import numpy as np
import pytest

import gaussmix
from gaussmix import GaussianMixture
from gaussmix import plot as gplot

from conftest import COVARIANCE_TYPES, make_mixture_data

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    return make_mixture_data(n_samples=600, n_features=3, n_components=3, seed=0)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_ellipses_are_the_components_marginals(data, cov_type):
    gm = GaussianMixture(3, covariance_type=cov_type, random_state=0).fit(data)
    dims = (2, 0)
    ax = gplot.plot_mixture(gm, data, dims=dims)
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 3 * len(gplot.SIGMAS)
    _, _, covs = gplot.marginal_parameters(gm, dims)
    for c in range(3):
        cov = covs[c]
        values, vectors = np.linalg.eigh(cov)
        for s, sigma in enumerate(gplot.SIGMAS):
            e = ellipses[c * len(gplot.SIGMAS) + s]
            np.testing.assert_allclose(e.center, gm.means_[c, list(dims)], rtol=1e-12)
            np.testing.assert_allclose(
                sorted([e.width, e.height]), sorted(2 * sigma * np.sqrt(values)), rtol=1e-10
            )
            # The width runs along the principal eigenvector (any direction for a circle).
            if values.max() > values.min() * (1 + 1e-9):
                major = vectors[:, np.argmax(values)]
                angle = np.radians(e.angle)
                assert abs(abs(np.array([np.cos(angle), np.sin(angle)]) @ major) - 1.0) < 1e-10
            assert e.width >= e.height
    # Means marked, weights in the legend, the data drawn and coloured by label.
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"component {c} (weight {gm.weights_[c]:.2f})" for c in range(3)]
    marks = [line for line in ax.lines if line.get_marker() == "x"]
    assert len(marks) == 3
    for c, line in enumerate(marks):
        np.testing.assert_allclose(
            [line.get_xdata()[0], line.get_ydata()[0]], gm.means_[c, list(dims)]
        )
    points = ax.collections[0]
    assert points.get_offsets().shape == (len(data), 2)
    assert ax.get_xlabel() == "feature 2" and ax.get_ylabel() == "feature 0"


def test_marginal_parameters_match_the_full_covariances(data):
    for cov_type in COVARIANCE_TYPES:
        gm = GaussianMixture(3, covariance_type=cov_type, random_state=0).fit(data)
        weights, means, covs = gplot.marginal_parameters(gm, (0, 2))
        expanded = gaussmix._layout.layout(cov_type).full_matrices(gm.covariances_, 3, 3)
        np.testing.assert_allclose(covs, expanded[:, [0, 2]][:, :, [0, 2]])
        np.testing.assert_array_equal(weights, gm.weights_)
        np.testing.assert_array_equal(means, gm.means_[:, [0, 2]])


def test_grid_has_a_panel_per_pair(data):
    gm = GaussianMixture(3, random_state=0).fit(data)
    fig = gplot.plot_mixture_grid(gm, data)
    assert len(fig.axes) == 9
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    # Diagonal panels: a histogram and the marginal density; below: ellipses.
    diag = fig.axes[0]
    assert len(diag.lines) == 1 and len(diag.patches) > 0
    lower = fig.axes[3]
    assert sum(isinstance(p, Ellipse) for p in lower.patches) == 6
    with pytest.raises(ValueError, match="at least 2"):
        gplot.plot_mixture_grid(gm, data, dims=[1])


def test_density_contours_follow_score_samples(data):
    gm = GaussianMixture(3, random_state=0).fit(data[:, :2])
    ax = gplot.plot_density(gm, X=data[:, :2], levels=8)
    contour_sets = [c for c in ax.collections if hasattr(c, "levels")]
    assert contour_sets
    levels = np.asarray(contour_sets[0].levels)
    density = gm.score_samples(data[:, :2])
    # Levels lie within the log-density's range over the plotted grid.
    assert levels.min() < density.max() and levels.max() > density.min() - 50
    assert ax.figure.axes[-1].get_ylabel() == "log-density"


def test_responsibilities_stack_to_one(data):
    gm = GaussianMixture(3, random_state=0).fit(data)
    ax = gplot.plot_responsibilities(gm, data)
    assert len(ax.collections) == 3
    top = ax.collections[-1].get_paths()[0].vertices[:, 1]
    assert np.isclose(top.max(), 1.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"component {c}" for c in range(3)
    ]


def test_selection_plot_one_line_per_type(data):
    result = gaussmix.select_model(data, n_components=[1, 2, 3], random_state=0)
    fig, ax = plt.subplots()
    out = result.plot(ax=ax)
    assert out is ax
    lines = [line for line in ax.lines if line.get_label() != "selected"]
    assert [line.get_label() for line in lines] == list(gaussmix._layout.SKLEARN_TYPES)
    for line in lines:
        rows = result.table[result.table["covariance_type"] == line.get_label()]
        expected = rows["bic"][np.argsort(rows["n_components"], kind="stable")]
        np.testing.assert_allclose(line.get_ydata(), expected)
    star = [line for line in ax.lines if line.get_label() == "selected"][0]
    assert star.get_ydata()[0] == result.table["bic"][result.best_index_]


def test_selection_plot_is_mclusts_bic_plot(data):
    models = list(gaussmix._layout.MCLUST_MODELS)
    result = gaussmix.select_model(
        data, n_components=[1, 2, 3], covariance_types="all", random_state=0
    )
    fig, ax = plt.subplots()
    result.plot(ax=ax, mclust_sign=True)
    lines = {line.get_label(): line for line in ax.lines}
    assert set(models) <= set(lines)
    # One marker and colour per model, each pair distinct.
    styles = {(lines[m].get_marker(), str(lines[m].get_color())) for m in models}
    assert len(styles) == 14
    for m in models:
        rows = result.table[result.table["covariance_type"] == m]
        expected = -rows["bic"][np.argsort(rows["n_components"], kind="stable")]
        np.testing.assert_allclose(lines[m].get_ydata(), expected)
    assert lines["selected"].get_ydata()[0] == -result.table["bic"][result.best_index_]
    assert "higher is better" in ax.get_ylabel()
    # scikit-learn's names are drawn as their mclust aliases are.
    fig, ax2 = plt.subplots()
    gaussmix.select_model(data, n_components=[1, 2], random_state=0).plot(ax=ax2)
    full = [line for line in ax2.lines if line.get_label() == "full"][0]
    assert (full.get_marker(), full.get_color()) == (
        lines["VVV"].get_marker(),
        lines["VVV"].get_color(),
    )


def test_bad_arguments(data):
    gm = GaussianMixture(3, random_state=0).fit(data)
    with pytest.raises(ValueError, match="out of range"):
        gplot.plot_mixture(gm, dims=(0, 5))
    with pytest.raises(ValueError, match="distinct"):
        gplot.plot_mixture(gm, dims=(1, 1))
    with pytest.raises(ValueError, match="not fitted"):
        gplot.plot_mixture(GaussianMixture(2))


def test_figures_are_not_shown(data, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("show() was called")

    monkeypatch.setattr(plt, "show", refuse)
    gm = GaussianMixture(3, random_state=0).fit(data)
    gplot.plot_mixture(gm, data)
    gplot.plot_mixture_grid(gm, data)
    gplot.plot_density(gm)
    gplot.plot_responsibilities(gm, data)
