"""The eigen-decomposition of fitted covariances in mclust's terms: Sigma_c = lambda_c D_c A_c
D_c^T, a volume lambda_c = det(Sigma_c)^(1/n), an orientation D_c (orthogonal, columns the
axes) and a shape A_c (diagonal, determinant 1) (Celeux & Govaert 1995).

How the axes are reported follows the model's orientation, the third letter of its mclust
name (spherical = VII, diag = VVI, tied = EEE, full = VVV):

- I (EII, VII, EEI, VEI, EVI, VVI): the identity; the shape is the diagonal of Sigma_c / lambda_c
  in feature order;
- E (EEE, VEE, EVE, VVE): one orientation for every component, the axes that diagonalise them
  all, and each shape along those axes in one order (decreasing for the first component);
- V (EEV, VEV, EVV, VVV): each component's own eigenvectors, shapes in decreasing order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# mclust's names of scikit-learn's four structures.
_MCLUST_NAME = {"spherical": "VII", "diag": "VVI", "tied": "EEE", "full": "VVV"}


@dataclass(frozen=True)
class CovarianceDecomposition:
    """Each covariance as ``volumes[c] * orientations[c] @ np.diag(shapes[c]) @
    orientations[c].T``.

    Attributes
    ----------
    volumes : ndarray of shape (n_components,)
        det(Sigma_c) ** (1 / n_features).
    shapes : ndarray of shape (n_components, n_features)
        The diagonal of each A_c; the product of each row is 1.
    orientations : ndarray of shape (n_components, n_features, n_features)
        Each D_c, orthogonal, its columns the principal axes.
    model : str
        mclust's name of the covariance model.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> X = np.random.RandomState(1).normal(size=(400, 3)) * [4.0, 2.0, 1.0]
    >>> d = GaussianMixture(1, covariance_type="VVV").fit(X).decomposition()
    >>> sigma = d.volumes[0] * d.orientations[0] @ np.diag(d.shapes[0]) @ d.orientations[0].T
    >>> bool(np.allclose(sigma, GaussianMixture(1).fit(X).covariances_[0]))
    True
    """

    volumes: NDArray[np.float64]
    shapes: NDArray[np.float64]
    orientations: NDArray[np.float64]
    model: str


def mclust_name(covariance_type: str) -> str:
    """mclust's name of a covariance_type (its own for mclust's names)."""
    return _MCLUST_NAME.get(covariance_type, covariance_type)


def decompose(covariance_type: str, covariances: NDArray[np.float64]) -> CovarianceDecomposition:
    """The decomposition of full covariance matrices (k, n, n) of a model of this type."""
    model = mclust_name(covariance_type)
    k, n, _ = covariances.shape
    orientation = model[2]
    if orientation == "I":
        axes = np.broadcast_to(np.eye(n), (k, n, n)).copy()
        scales = np.diagonal(covariances, axis1=1, axis2=2).copy()
    elif orientation == "E":
        common = _common_axes(covariances)
        scales = np.einsum("ji,cjl,li->ci", common, covariances, common)
        axes = np.broadcast_to(common, (k, n, n)).copy()
    else:
        values, vectors = np.linalg.eigh(covariances)
        scales, axes = values[:, ::-1], vectors[:, :, ::-1]
    volumes = np.exp(np.mean(np.log(scales), axis=1))
    return CovarianceDecomposition(volumes, scales / volumes[:, None], axes, model)


def _common_axes(covariances):
    """The axes shared by covariances D Lambda_c D^T: the eigenvectors of a combination with
    unequal coefficients (distinct eigenvalues unless every component's shape ties two axes,
    and then any turn of them serves), ordered by the first component's scales."""
    k = covariances.shape[0]
    coefficients = (1.0 + 0.6180339887498949 * np.arange(k)) / np.trace(
        covariances, axis1=1, axis2=2
    )
    _, vectors = np.linalg.eigh(np.einsum("c,cij->ij", coefficients, covariances))
    first = np.einsum("ji,jl,li->i", vectors, covariances[0], vectors)
    return vectors[:, np.argsort(-first, kind="stable")]
