"""Stepwise EM (partial_fit), and the pieces of the seam it and Dask use: statistics re-expressed
about other shifts and scaled, moments about given shifts, one Lloyd assignment, and mixtures
that pickle."""

import pickle

import numpy as np
import pytest

from gaussmix import GaussianMixture, _core

from conftest import COVARIANCE_TYPES, make_mixture_data


def _direct_stats(X, resp, cov_type, shift):
    """The statistics from their definition (stats.hpp), as full matrices."""
    k = resp.shape[1]
    n_k = resp.sum(axis=0)
    s1 = np.stack([(resp[:, c, None] * (X - shift[c])).sum(axis=0) for c in range(k)])
    if cov_type == "full":
        s2 = np.concatenate(
            [(X - shift[c]).T @ (resp[:, c, None] * (X - shift[c])) for c in range(k)]
        )
    elif cov_type == "tied":
        d = X - shift[0]
        s2 = d.T @ (resp.sum(axis=1)[:, None] * d)
    elif cov_type == "diag":
        s2 = np.stack([(resp[:, c, None] * (X - shift[c]) ** 2).sum(axis=0) for c in range(k)])
    else:
        s2 = np.stack([[(resp[:, c] * ((X - shift[c]) ** 2).sum(axis=1)).sum()] for c in range(k)])
    return n_k, s1, s2


def _lower(s2, cov_type, n):
    if cov_type in ("full", "tied"):
        return np.concatenate([np.tril(b) for b in s2.reshape(-1, n, n)])
    return s2


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_stats_about_other_shifts_match_their_definition(cov_type):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4)) + 50.0
    k = 3
    resp = rng.dirichlet(np.ones(k), size=300)
    kind = getattr(_core.CovarianceType, cov_type)
    first = rng.normal(size=(k, 4)) + 50.0
    second = rng.normal(size=(k, 4)) + 49.0
    if cov_type == "tied":
        first[:] = first[0]
        second[:] = second[0]
    stats = _core.moments_from_responsibilities_about(
        X, np.empty(0), resp, kind, first, _core.PassOptions(1)
    )
    moved = stats.about(second)
    n_k, s1, s2 = _direct_stats(X, resp, cov_type, second)
    np.testing.assert_allclose(moved.n_k, n_k, rtol=1e-12)
    np.testing.assert_allclose(moved.s1, s1, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        _lower(np.array(moved.s2), cov_type, 4), _lower(s2, cov_type, 4), rtol=1e-9
    )
    np.testing.assert_array_equal(moved.shift, second)
    half = moved.scaled(0.5)
    np.testing.assert_allclose(half.s2, np.array(moved.s2) / 2, rtol=1e-15)
    assert half.weight_sum == pytest.approx(moved.weight_sum / 2)
    with pytest.raises(ValueError, match="scale factor"):
        moved.scaled(-1.0)
    with pytest.raises(ValueError, match="shift"):
        moved.about(second[:2])


def test_moments_about_given_shifts_merge_over_chunks():
    X = make_mixture_data(seed=1)
    labels = np.random.RandomState(1).randint(3, size=len(X)).astype(np.int64)
    shift = np.ascontiguousarray(np.tile(X.mean(axis=0), (3, 1)))
    whole = _core.moments_from_labels_about(
        X, np.empty(0), labels, 3, _core.CovarianceType.full, shift, _core.PassOptions(1)
    )
    parts = [
        _core.moments_from_labels_about(
            np.ascontiguousarray(X[a:b]),
            np.empty(0),
            labels[a:b],
            3,
            _core.CovarianceType.full,
            shift,
            _core.PassOptions(1),
        )
        for a, b in ((0, 100), (100, 101), (101, 600))
    ]
    merged = parts[0] + parts[1] + parts[2]
    np.testing.assert_allclose(merged.s2, whole.s2, rtol=1e-12)
    with pytest.raises(ValueError, match="same point"):
        _core.moments_from_labels_about(
            X, np.empty(0), labels, 3, _core.CovarianceType.tied, X[:3].copy(), _core.PassOptions(1)
        )


def test_assign_to_centers_is_one_lloyd_step():
    X = make_mixture_data(seed=2) + 1e4
    w = np.random.RandomState(2).uniform(0, 2, size=len(X))
    centers = X[[0, 250, 500]].copy()
    a = _core.assign_to_centers(X, w, centers, X.mean(axis=0), 2)
    d = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(a.labels, d.argmin(axis=1))
    np.testing.assert_allclose(a.sq_distances, d.min(axis=1), rtol=1e-8, atol=1e-8)
    for c in range(3):
        rows = a.labels == c
        assert a.counts[c] == pytest.approx(w[rows].sum())
        np.testing.assert_allclose(
            a.sums[c], (w[rows, None] * (X[rows] - X.mean(axis=0))).sum(axis=0), rtol=1e-9
        )
    assert a.inertia == pytest.approx(float(w @ d.min(axis=1)), rel=1e-9)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_mixtures_pickle(cov_type):
    gm = GaussianMixture(3, covariance_type=cov_type, random_state=0).fit(make_mixture_data())
    mix = gm._mixture()
    back = pickle.loads(pickle.dumps(mix))
    for field in ("weights", "means", "covariances", "precisions_cholesky"):
        np.testing.assert_array_equal(getattr(back, field), getattr(mix, field))
    assert back.covariance_type == mix.covariance_type


# ------------------------------------------------------------------ partial_fit


def _stream(seed, n_chunks, rows):
    rng = np.random.RandomState(seed)
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 2.0], [0.0, 7.0, -3.0]])
    scales = [
        np.diag([1.0, 2.0, 0.5]),
        np.array([[1.0, 0.8, 0], [0, 1.0, 0], [0, 0, 1.5]]),
        np.eye(3),
    ]
    weights = np.array([0.5, 0.3, 0.2])

    def draw(m):
        comp = rng.choice(3, size=m, p=weights)
        z = rng.normal(size=(m, 3))
        return np.stack([means[c] + z[i] @ scales[c] for i, c in enumerate(comp)])

    return [draw(rows) for _ in range(n_chunks)], draw(5000)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
def test_one_pass_over_100_chunks_is_within_1_percent_of_batch(cov_type):
    chunks, held_out = _stream(0, 100, 300)
    online = GaussianMixture(3, covariance_type=cov_type, random_state=0)
    for chunk in chunks:
        online.partial_fit(chunk)
    batch = GaussianMixture(3, covariance_type=cov_type, random_state=0).fit(np.vstack(chunks))
    assert online.n_steps_ == 100
    # The first chunk's fit, then one bound per call (the first included).
    first = GaussianMixture(3, covariance_type=cov_type, random_state=0).fit(chunks[0])
    assert len(online.lower_bounds_) == first.n_iter_ + 100
    assert online.lower_bounds_[-1] == online.lower_bound_
    ratio = online.score(held_out) / batch.score(held_out)
    assert abs(ratio - 1.0) < 0.01, (online.score(held_out), batch.score(held_out))


def test_partial_fit_with_weights_missing_values_and_prior():
    chunks, held_out = _stream(1, 60, 300)
    rng = np.random.RandomState(1)
    gm = GaussianMixture(3, missing="marginalize", prior="default", random_state=0)
    for chunk in chunks:
        holed = chunk.copy()
        holed[rng.uniform(size=chunk.shape) < 0.1] = np.nan
        before = holed.copy()
        gm.partial_fit(holed, sample_weight=rng.uniform(0.5, 1.5, size=len(chunk)))
        np.testing.assert_array_equal(holed, before)  # the chunk is not touched
    batch = GaussianMixture(3, random_state=0).fit(np.vstack(chunks))
    assert abs(gm.score(held_out) / batch.score(held_out) - 1.0) < 0.02
    assert np.isfinite(gm.covariances_).all()


def test_partial_fit_follows_fit_and_fit_starts_over():
    chunks, _ = _stream(2, 5, 400)
    gm = GaussianMixture(3, random_state=0).fit(chunks[0])
    means = gm.means_.copy()
    gm.partial_fit(chunks[1])
    assert gm.n_steps_ == 1 and not np.array_equal(gm.means_, means)
    gm.partial_fit(chunks[2])
    assert gm.n_steps_ == 2
    gm.fit(chunks[3])
    assert not hasattr(gm, "n_steps_")


def test_partial_fit_bad_input():
    chunks, _ = _stream(3, 3, 200)
    gm = GaussianMixture(3, random_state=0).partial_fit(chunks[0])
    with pytest.raises(ValueError, match="features"):
        gm.partial_fit(chunks[1][:, :2])
    with pytest.raises(ValueError, match="NaN"):
        bad = chunks[1].copy()
        bad[0, 0] = np.nan
        gm.partial_fit(bad)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        GaussianMixture(5).partial_fit(chunks[0][:3])
    with pytest.raises(ValueError, match="learning_decay"):
        GaussianMixture(3, learning_decay=0.4).partial_fit(chunks[0])
    with pytest.raises(ValueError, match="learning_offset"):
        GaussianMixture(3, learning_offset=-1).partial_fit(chunks[0])
    # A chunk with fewer rows than components is fine after the first.
    gm.partial_fit(chunks[1][:2])
    assert np.isfinite(gm.means_).all()


def test_step_sizes_follow_the_schedule():
    from gaussmix._stepwise import step_size

    assert step_size(1, 0.7, 10.0) == pytest.approx(11.0**-0.7)
    assert step_size(100, 1.0, 0.0) == pytest.approx(0.01)


@pytest.mark.parametrize("cov_type", COVARIANCE_TYPES)
@pytest.mark.filterwarnings("ignore:Best performing initialization did not converge")
def test_statistics_and_update_from_are_one_em_iteration(cov_type):
    import gaussmix

    X = make_mixture_data(seed=4)
    gm = GaussianMixture(3, covariance_type=cov_type, random_state=0, max_iter=3).fit(X)
    start = dict(weights_init=gm.weights_, means_init=gm.means_, precisions_init=gm.precisions_)
    one = GaussianMixture(3, covariance_type=cov_type, max_iter=1, **start)
    with pytest.warns(Warning, match="did not converge"):
        one.fit(X)
    parts = [gm.statistics(X[a : a + 150]) for a in range(0, len(X), 150)]
    stats = pickle.loads(pickle.dumps(sum(parts[1:], parts[0])))
    assert isinstance(stats, gaussmix.SufficientStats)
    gm.update_from(stats)
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(gm, name), getattr(one, name), rtol=1e-10, atol=1e-13)
    assert gm.lower_bound_ == pytest.approx(one.lower_bound_, rel=1e-12)
    with pytest.raises(ValueError, match="components"):
        GaussianMixture(2, covariance_type=cov_type, random_state=0).fit(X).update_from(stats)
