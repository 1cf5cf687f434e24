"""
Components over the data
========================

Fit three components to draws from three rotated Gaussians. Then draw each fitted component's
1 and 2 standard-deviation ellipses over the data, coloured by the most probable component.
"""

import matplotlib.pyplot as plt
import numpy as np

from gaussmix import GaussianMixture
from gaussmix.plot import plot_mixture

rng = np.random.RandomState(0)
X = np.vstack(
    [
        rng.normal(size=(300, 2)) @ [[1.5, 0.6], [0.0, 0.5]],
        rng.normal(size=(300, 2)) @ [[0.4, 0.0], [0.3, 1.2]] + [5, 3],
        rng.normal(size=(300, 2)) * 0.7 + [0, 5],
    ]
)
gm = GaussianMixture(n_components=3, random_state=0).fit(X)
fig, ax = plt.subplots(figsize=(6, 5))
plot_mixture(gm, X, ax=ax)
ax.set_title("Three full-covariance components")
