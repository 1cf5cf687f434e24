"""k-means++ seeding: the D^2 draws across row blocks, weights, and thread independence."""

import numpy as np
import pytest

from gaussmix import _core

FAR_ROWS = (100, 700, 730, 1100)  # two share the third 256-row block of the seeding passes


def _origin_and_four_far_rows():
    # 1200 rows at the origin, weight 100 each, so the first seed lands there (1 in 10^4 it
    # does not); four rows at squared distance 100 on different axes with weights 1, 2, 3, 4.
    X = np.zeros((1200, 4))
    w = np.full(len(X), 100.0)
    for axis, (row, weight) in enumerate(zip(FAR_ROWS, (1.0, 2.0, 3.0, 4.0))):
        X[row, axis] = 10.0
        w[row] = weight
    return X, w


def test_second_seed_follows_the_weighted_squared_distance_draw():
    # Each candidate is drawn with probability w * d^2, here 1:2:3:4 for the far rows; taking
    # far row j removes its own share from the potential, so the better of the two candidates
    # drawn for k = 2 is the heavier one. P(heaviest of two draws is j) is then known exactly.
    X, w = _origin_and_four_far_rows()
    shares = np.array([1.0, 2.0, 3.0, 4.0]) / 10.0
    below = np.concatenate([[0.0], np.cumsum(shares)])
    expected = below[1:] ** 2 - below[:-1] ** 2  # 0.01, 0.08, 0.27, 0.64

    draws = 3000
    counts = dict.fromkeys(FAR_ROWS, 0)
    for seed in range(draws):
        first, second = _core.kmeans_plusplus(X, w, 2, seed, 1)
        if X[first].any():  # the rare first draw outside the origin: not this test's case
            continue
        counts[int(second)] += 1
    total = sum(counts.values())
    assert total > draws - 10
    observed = np.array([counts[r] for r in FAR_ROWS]) / total
    sigma = np.sqrt(expected * (1 - expected) / total)
    np.testing.assert_array_less(np.abs(observed - expected), 5 * sigma + 1e-3)


def test_zero_weight_rows_are_never_drawn_however_far():
    X, w = _origin_and_four_far_rows()
    X[600] = 1e6  # the farthest row by far, in a block of its own, but of no weight
    w[600] = 0.0
    for seed in range(200):
        chosen = _core.kmeans_plusplus(X, w, 5, seed, 2)
        assert 600 not in chosen
        assert len(set(chosen.tolist())) == 5
        assert set(FAR_ROWS) <= set(chosen.tolist())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [7, 23])  # a compiled feature count, and the general one
def test_seeds_do_not_depend_on_the_thread_count(dtype, n_features):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20_000, n_features)).astype(dtype)
    w = rng.uniform(0.1, 2.0, size=len(X))
    one = _core.kmeans_plusplus(X, w, 12, 5, 1)
    two = _core.kmeans_plusplus(X, w, 12, 5, 2)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("n_features", [3, 16, 17, 40])
def test_seeds_are_the_same_for_float32_and_float64_data_of_exact_values(n_features):
    # Small integers are exact in both types and so are their squared distances: the compiled
    # (n <= 16) and general distance code must then draw the very same seeds for both.
    rng = np.random.default_rng(n_features)
    X = rng.integers(-20, 20, size=(5_000, n_features)).astype(np.float64)
    seeds64 = _core.kmeans_plusplus(X, np.empty(0), 9, 11, 2)
    seeds32 = _core.kmeans_plusplus(X.astype(np.float32), np.empty(0), 9, 11, 2)
    np.testing.assert_array_equal(seeds64, seeds32)


def test_first_seed_is_drawn_in_proportion_to_the_weights():
    X = np.arange(12.0).reshape(-1, 1)
    w = np.zeros(len(X))
    w[[2, 5, 9]] = [1.0, 3.0, 6.0]
    picks = np.array([_core.kmeans_plusplus(X, w, 1, seed, 1)[0] for seed in range(3000)])
    assert set(np.unique(picks)) <= {2, 5, 9}
    observed = np.array([(picks == r).mean() for r in (2, 5, 9)])
    np.testing.assert_allclose(observed, [0.1, 0.3, 0.6], atol=0.04)
