"""The Python table of covariance structures (_layout.py): its conversions agree with each other
and with the core, for every structure."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import GaussianMixture, _core
from gaussmix._layout import COVARIANCE_TYPES, LAYOUTS, layout

from conftest import make_mixture_data


def test_the_table_names_every_core_type():
    assert COVARIANCE_TYPES[:4] == ("full", "tied", "diag", "spherical")
    core_names = set(_core.CovarianceType.__members__)
    assert {entry.core_type.name for entry in LAYOUTS.values()} == core_names
    for name, entry in LAYOUTS.items():
        assert entry.name == name
        # Each name is its own core structure, or mclust's alias of one of scikit-learn's four.
        assert entry.core_type.name == (entry.core or name)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_conversions_round_trip_and_match_the_fitted_attributes(covariance_type):
    X = make_mixture_data(n_samples=300, n_features=3, seed=4)
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    entry = layout(covariance_type)
    k, n = gm.means_.shape
    assert gm.covariances_.shape == entry.public_shape(k, n)
    storage = entry.to_storage(gm.covariances_, n)
    assert storage.ndim == 2 and storage.flags.c_contiguous
    assert storage.shape == tuple(gm._mixture().covariances.shape)
    assert_array_equal(entry.to_public(storage, n), gm.covariances_)
    full = entry.full_matrices(gm.covariances_, k, n)
    assert full.shape == (k, n, n)
    assert_array_equal(entry.storage_of_full(np.array(full)), storage)
    # Full matrices agree with the core's own covariance for every component.
    core = _core.Mixture.from_covariances(entry.core_type, gm.weights_, gm.means_, storage)
    assert_allclose(entry.to_public(core.precisions(), n), gm.precisions_, rtol=1e-12)

    # The prior's scale takes the core's shape for the structure (the core checks it).
    def core_prior(scale):
        return _core.Prior(
            weight_concentration=1.0,
            mean=np.zeros(3),
            mean_precision=0.01,
            degrees_of_freedom=5.0,
            scale=scale,
        )

    if entry.prior is None:
        with pytest.raises(ValueError, match="priors are not available"):
            core_prior(np.eye(3)).validate(entry.core_type, n)
        return
    core_scale, public_scale = entry.prior_scale(np.diag([1.0, 2.0, 3.0]))
    expected = {"matrix": (3, 3), "diagonal": (1, 3), "scalar": (1, 1)}[entry.prior]
    assert core_scale.shape == expected
    core_prior(core_scale).validate(entry.core_type, n)
    if entry.prior == "scalar":
        assert public_scale == 2.0
