"""The hierarchical start (init_params='hc'): the core's agglomeration against a NumPy reference
written from the criterion, against R mclust's own partitions (tests/data/mclust_hc_*.csv, made
by tools/mclust_reference.R), the scaled SVD against its formula, and the start in a fit."""

import os
import warnings

import numpy as np
import pytest

from gaussmix import GaussianMixture, _core, _hierarchical

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
NO_WEIGHTS = np.empty(0)


def reference_agglomerate(Z, mass):
    """Brute force: every step evaluates every pair's increase of
    sum_c l_c log(det(W_c / l_c) + (tr W_c + alpha) / l_c) (the determinant only once
    l_c > n_features) and merges the smallest. Returns the merges as (a, b), a < b."""
    m, n = Z.shape
    mass = mass * (m / mass.sum())
    centre = mass @ Z / mass.sum()
    alpha = float(mass @ np.square(Z - centre).sum(axis=1)) / (mass.sum() * n)
    clusters = {i: [i] for i in range(m)}

    def term(members):
        l_c = mass[members].sum()
        mean = mass[members] @ Z[members] / l_c
        D = Z[members] - mean
        W = (D * mass[members, None]).T @ D
        t = (np.trace(W) + alpha) / l_c
        if l_c > n:
            sign, logdet = np.linalg.slogdet(W / l_c)
            if sign > 0:
                return l_c * np.log(np.exp(logdet) + t)
        return l_c * np.log(t)

    merges = []
    while len(clusters) > 1:
        names = sorted(clusters)
        best = None
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                cost = term(clusters[a] + clusters[b]) - term(clusters[a]) - term(clusters[b])
                if best is None or cost < best[0]:
                    best = (cost, a, b)
        _, a, b = best
        clusters[a] += clusters.pop(b)
        merges.append((a, b))
    return np.array(merges)


def test_scaled_svd_is_mclusts_transform():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4)) @ rng.normal(size=(4, 4)) + 100.0
    Z = _core.scaled_svd(X, NO_WEIGHTS)
    S = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    _, d, Vt = np.linalg.svd(S, full_matrices=False)
    expected = S @ Vt.T / np.sqrt(d)
    # Columns are defined up to sign.
    signs = np.sign(np.sum(Z * expected, axis=0))
    np.testing.assert_allclose(Z * signs, expected, rtol=1e-9, atol=1e-12)


def test_scaled_svd_drops_constant_and_null_directions():
    rng = np.random.RandomState(1)
    a = rng.normal(size=(30, 2))
    X = np.column_stack([a, np.full(30, 7.0), a[:, 0] + a[:, 1]])
    Z = _core.scaled_svd(X, NO_WEIGHTS)
    assert Z.shape == (30, 2)
    assert np.all(np.isfinite(Z))
    assert _core.scaled_svd(np.ones((5, 3)), NO_WEIGHTS).shape == (5, 1)


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
def test_agglomerate_equals_the_reference(n_features):
    rng = np.random.RandomState(n_features)
    Z = np.vstack(
        [rng.normal(size=(12, n_features)), rng.normal(size=(13, n_features)) * 0.5 + 3.0]
    )
    tree = _core.agglomerate(Z, NO_WEIGHTS)
    np.testing.assert_array_equal(tree.merges, reference_agglomerate(Z, np.ones(len(Z))))
    assert tree.costs.shape == (len(Z) - 1,)


def test_weights_are_masses_of_mean_one():
    rng = np.random.RandomState(3)
    Z = rng.normal(size=(20, 3))
    w = rng.randint(1, 4, size=20).astype(float)
    tree = _core.agglomerate(Z, w)
    np.testing.assert_array_equal(tree.merges, reference_agglomerate(Z, w))
    # Only the ratios count, as in the fits: equal weights are no weights.
    np.testing.assert_array_equal(_core.agglomerate(Z, 7.5 * w).merges, tree.merges)
    plain = _core.agglomerate(Z, NO_WEIGHTS)
    np.testing.assert_array_equal(_core.agglomerate(Z, np.full(20, 0.1)).merges, plain.merges)


def test_identical_rows_merge_first_in_row_order():
    Z = np.array([[0.0, 0.0], [5.0, 1.0], [0.0, 0.0], [3.0, 3.0], [5.0, 1.0], [0.0, 0.0]])
    tree = _core.agglomerate(Z, NO_WEIGHTS)
    np.testing.assert_array_equal(tree.merges[:3], [[0, 2], [1, 4], [0, 5]])
    np.testing.assert_array_equal(tree.labels(3), [0, 1, 0, 2, 1, 0])


def test_labels_cut_the_tree():
    rng = np.random.RandomState(4)
    tree = _core.agglomerate(rng.normal(size=(40, 2)), NO_WEIGHTS)
    for k in (1, 2, 7, 40):
        labels = tree.labels(k)
        assert sorted(set(labels)) == list(range(k))
        assert labels[0] == 0  # numbered by first row
    # Each coarser cut is a union of the finer one's clusters.
    fine, coarse = tree.labels(6), tree.labels(3)
    for c in range(6):
        assert len(set(coarse[fine == c])) == 1
    for k in (0, 41):
        with pytest.raises(ValueError, match="1 to 40 clusters"):
            tree.labels(k)


def test_agglomerate_does_not_depend_on_threads():
    rng = np.random.RandomState(5)
    Z = rng.normal(size=(700, 4))
    one = _core.agglomerate(Z, NO_WEIGHTS, 1)
    two = _core.agglomerate(Z, NO_WEIGHTS, 2)
    np.testing.assert_array_equal(one.merges, two.merges)
    np.testing.assert_array_equal(one.costs, two.costs)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN or infinity"),
        (np.empty((0, 2)), "at least one row"),
    ],
)
def test_agglomerate_refuses_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        _core.agglomerate(bad, NO_WEIGHTS)
    with pytest.raises(ValueError, match="positive weights"):
        _core.agglomerate(np.ones((3, 2)), np.array([1.0, 0.0, 1.0]))


# faithful is left out: its rounded values tie many merges, which mclust's Fortran breaks in an
# order of its own.
@pytest.mark.parametrize("name", ["iris", "wine", "diabetes", "banknote"])
def test_partitions_are_mclusts(name):
    X = np.loadtxt(os.path.join(DATA, f"{name}.csv"), delimiter=",")
    expected = np.loadtxt(os.path.join(DATA, f"mclust_hc_{name}.csv"), delimiter=",", dtype=int)
    tree = _core.agglomerate(_core.scaled_svd(X, NO_WEIGHTS), NO_WEIGHTS)
    for k in range(1, 7):
        ours, theirs = tree.labels(k), expected[:, k - 1]
        # The same partition: a one-to-one map between the labels.
        pairs = set(zip(ours.tolist(), theirs.tolist()))
        assert len(pairs) == k == len(set(theirs.tolist()))


def test_hc_start_fits_as_mclust_starts():
    X = np.loadtxt(os.path.join(DATA, "iris.csv"), delimiter=",")
    gm = GaussianMixture(3, init_params="hc", random_state=0, tol=1e-8, max_iter=1000).fit(X)
    # mclust's VVV, k = 3 on iris from the same start (tests/data/mclust_reference.csv).
    assert gm.score(X) * len(X) == pytest.approx(-180.1858, abs=1e-3)
    again = GaussianMixture(3, init_params="hc", random_state=7, tol=1e-8, max_iter=1000).fit(X)
    np.testing.assert_array_equal(gm.means_, again.means_)  # no draw below 2000 rows


def test_hc_start_subsamples_large_data_and_honours_weights():
    rng = np.random.RandomState(6)
    X = np.vstack([rng.normal(size=(1500, 2)), rng.normal(size=(1500, 2)) + 8.0])
    w = np.ones(len(X))
    w[:200] = 0.0
    gm = GaussianMixture(2, init_params="hc", random_state=0, max_iter=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X, sample_weight=w)
    np.testing.assert_allclose(np.sort(gm.means_[:, 0]), [0.0, 8.0], atol=0.2)
    for dtype in (np.float32, np.float64):
        fitted = GaussianMixture(2, init_params="hc", random_state=0).fit(X.astype(dtype))
        np.testing.assert_allclose(np.sort(fitted.means_[:, 0]), [0.0, 8.0], atol=0.1)
    with pytest.raises(ValueError, match="init_params='hc' needs at least n_components"):
        GaussianMixture(3, init_params="hc").fit(X[:4], sample_weight=[1.0, 1.0, 0.0, 0.0])


def test_restarts_begin_with_the_hierarchical_start():
    X = np.loadtxt(os.path.join(DATA, "wine.csv"), delimiter=",")
    kwargs = dict(covariance_type="VVV", random_state=0, tol=1e-8, max_iter=2000, reg_covar=0)
    hc = GaussianMixture(3, init_params="hc", **kwargs).fit(X)
    best = GaussianMixture(3, n_init=3, **kwargs).fit(X)
    # wine, VVV, k = 3: mclust's optimum (tests/data/mclust_reference.csv), which k-means starts
    # miss: ten of them ended at -2797.9.
    assert best.lower_bound_ >= hc.lower_bound_ - 1e-12
    assert best.score(X) * len(X) >= -2788.42985785247 - 1e-6 * 2788.4


def test_a_singular_restart_is_skipped_unless_all_are():
    X = np.loadtxt(os.path.join(DATA, "iris.csv"), delimiter=",")
    kwargs = dict(covariance_type="VVV", reg_covar=0.0, tol=1e-8, max_iter=2000, random_state=0)
    with pytest.warns(UserWarning, match=r"of the 10 initialisations ended in a singular"):
        GaussianMixture(6, n_init=10, **kwargs).fit(X)
    # Three distinct points, three components: every start is singular.
    collapsed = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 5, axis=0)
    for n_init in (1, 3):
        with pytest.raises(_core.NotPositiveDefiniteError):
            GaussianMixture(3, n_init=n_init, **kwargs).fit(collapsed)


def test_one_tree_serves_every_k_type_and_restart():
    rng = np.random.RandomState(9)
    X = np.vstack([rng.normal(size=(1300, 3)), rng.normal(size=(1300, 3)) + 6.0])
    _hierarchical._TREES.clear()
    starts = []
    for seed, k, covariance_type in [(0, 2, "full"), (1, 3, "VEV"), (2, 4, "diag")]:
        gm = GaussianMixture(
            k, covariance_type=covariance_type, init_params="hc", random_state=seed, max_iter=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm.fit(X)
        starts.append(gm.means_)
    # 2600 rows: one subsample (a fixed draw, whatever random_state), one tree for all three.
    assert len(_hierarchical._TREES) == 1
    again = GaussianMixture(2, init_params="hc", random_state=5, max_iter=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again.fit(X)
    np.testing.assert_array_equal(again.means_, starts[0])
