"""One table of covariance structures: what each means on the Python side.

Everything the Python layer needs to know about a covariance type lives in its entry here: the
core's enum value, the shape of the public (scikit-learn) arrays and their conversion to and
from the core's 2-D storage, the expansion to full (k, n, n) matrices and back, the form of a
prior's scale, and how samples are drawn. A new structure is one more entry (and its C++ home,
``cpp/src/structures/``); no other module tests the type's name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core


@dataclass(frozen=True)
class Layout:
    """What a covariance structure is, for arrays in Python.

    Attributes
    ----------
    name : str
        The ``covariance_type`` string.
    shared : bool
        One covariance for every component (tied).
    diagonal : bool
        Covariances without correlations (diag, spherical): stored as variances.
    per_feature : bool
        For diagonal structures: one variance per feature (diag) or per component (spherical).
    core : str
        The core's structure: the name itself, or for mclust's names of scikit-learn's four
        (VII, VVI, EEE, VVV) the one they are exact aliases of.
    prior : str or None
        The form of a prior's covariance scale: 'matrix' (inverse-Wishart, degrees of freedom
        > n - 1), 'diagonal' (one inverse-gamma scale per feature), 'scalar' (one for all
        features), or None where the structure has no conjugate prior (VEE, EVE, VVE, EVV).
    """

    name: str
    shared: bool
    diagonal: bool
    per_feature: bool
    core: str = ""
    prior: str | None = "matrix"

    @property
    def core_type(self):
        """The core's CovarianceType value."""
        return getattr(_core.CovarianceType, self.core or self.name)

    @property
    def matrix_prior(self):
        """Whether the covariance prior is inverse-Wishart (a matrix scale, dof > n - 1)."""
        return self.prior == "matrix"

    def public_shape(self, n_components, n_features):
        """Shape of covariances_, precisions_ and precisions_cholesky_ (scikit-learn's)."""
        if self.shared:
            return (n_features, n_features)
        if self.diagonal:
            return (n_components, n_features) if self.per_feature else (n_components,)
        return (n_components, n_features, n_features)

    def to_storage(self, array, n_features):
        """Public shape -> the core's 2-D storage (C-contiguous float64; a view when possible)."""
        a = np.asarray(array, dtype=np.float64)
        if not self.diagonal and not self.shared:
            a = a.reshape(-1, n_features)
        elif self.diagonal and not self.per_feature:
            a = a.reshape(-1, 1)
        return np.ascontiguousarray(a)

    def to_public(self, storage, n_features, dtype=np.float64):
        """The core's 2-D storage -> a new array of the public shape."""
        a = np.array(storage, dtype=dtype)
        if not self.diagonal and not self.shared:
            return a.reshape(-1, n_features, n_features)
        if self.diagonal and not self.per_feature:
            return a.reshape(-1)
        return a

    def full_matrices(self, covariances, n_components, n_features):
        """Public covariances -> every component's (n, n) matrix: (k, n, n)."""
        cov = np.asarray(covariances, dtype=np.float64)
        if self.shared:
            return np.broadcast_to(cov, (n_components, n_features, n_features))
        if not self.diagonal:
            return cov
        if self.per_feature:
            return cov[:, :, None] * np.eye(n_features)
        return cov[:, None, None] * np.eye(n_features)

    def storage_of_full(self, cov_full):
        """(k, r, r) matrices of this structure (e.g. conditioned ones) -> the core's storage."""
        k, r, _ = cov_full.shape
        if self.shared:
            return np.ascontiguousarray(cov_full[0])
        if not self.diagonal:
            return np.ascontiguousarray(cov_full.reshape(k * r, r))
        diagonal = np.diagonal(cov_full, axis1=1, axis2=2)
        return np.ascontiguousarray(diagonal if self.per_feature else diagonal[:, :1])

    def prior_scale(self, matrix):
        """An (n, n) prior scale -> (core storage, public form) for this structure: the matrix,
        its diagonal, or the mean of its diagonal."""
        if self.matrix_prior:
            core = np.ascontiguousarray(matrix)
            return core, core
        diagonal = np.diag(matrix).copy()
        if self.prior == "diagonal":
            return diagonal.reshape(1, -1), diagonal
        return np.array([[diagonal.mean()]]), float(diagonal.mean())

    def draw(self, rng, mean, covariances, component, count):
        """`count` rows from one component, drawn as scikit-learn draws them (same stream)."""
        if not self.diagonal:
            cov = covariances if self.shared else covariances[component]
            return rng.multivariate_normal(mean, cov, int(count))
        std = np.sqrt(covariances[component])
        return mean + rng.standard_normal(size=(int(count), mean.shape[0])) * std


def _entry(name, kind, core="", prior=None):
    """A table entry: `kind` is the storage of one of scikit-learn's four, whose prior form it
    takes unless `prior` says otherwise ('none': no prior)."""
    shared, diagonal, per_feature, kind_prior = {
        "full": (False, False, False, "matrix"),
        "tied": (True, False, False, "matrix"),
        "diag": (False, True, True, "diagonal"),
        "spherical": (False, True, False, "scalar"),
    }[kind]
    return Layout(
        name,
        shared=shared,
        diagonal=diagonal,
        per_feature=per_feature,
        core=core,
        prior=None if prior == "none" else prior or kind_prior,
    )


LAYOUTS = {
    layout.name: layout
    for layout in (
        _entry("full", "full"),
        _entry("tied", "tied"),
        _entry("diag", "diag"),
        _entry("spherical", "spherical"),
        # mclust's names for scikit-learn's four: the same structures, the same arrays.
        _entry("VVV", "full", core="full"),
        _entry("EEE", "tied", core="tied"),
        _entry("VVI", "diag", core="diag"),
        _entry("VII", "spherical", core="spherical"),
        # mclust's constrained models: full (k, n, n) arrays. Their priors (the core's
        # structures/mclust.cpp): EII spherical's form, EEI, EVI and VEI diag's, EEV and VEV
        # full's; the other four have none.
        _entry("EII", "full", prior="scalar"),
        _entry("EEI", "full", prior="diagonal"),
        _entry("EVI", "full", prior="diagonal"),
        _entry("EEV", "full", prior="matrix"),
        _entry("EVV", "full", prior="none"),
        _entry("VEI", "full", prior="diagonal"),
        _entry("VEE", "full", prior="none"),
        _entry("VEV", "full", prior="matrix"),
        _entry("EVE", "full", prior="none"),
        _entry("VVE", "full", prior="none"),
    )
}

#: The covariance types that admit a prior (MAP): scikit-learn's four and six of mclust's.
PRIOR_TYPES = tuple(name for name, entry in LAYOUTS.items() if entry.prior is not None)
#: scikit-learn's four covariance types, select_model's default.
SKLEARN_TYPES = ("full", "tied", "diag", "spherical")
#: mclust's names of the models gaussmix fits (select_model's covariance_types="all").
MCLUST_MODELS = (
    "EII",
    "VII",
    "EEI",
    "VEI",
    "EVI",
    "VVI",
    "EEE",
    "VEE",
    "EVE",
    "VVE",
    "EEV",
    "VEV",
    "EVV",
    "VVV",
)
COVARIANCE_TYPES = tuple(LAYOUTS)


def layout(covariance_type):
    """The Layout of a covariance type name (KeyError for an unknown one: validate first)."""
    return LAYOUTS[covariance_type]
