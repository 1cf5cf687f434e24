"""
Density and responsibilities
============================

The log-density of a fitted mixture as contours, and every row's posterior probabilities as a
stacked band, with the rows sorted by their most probable component.
"""

import matplotlib.pyplot as plt
import numpy as np

from gaussmix import GaussianMixture
from gaussmix.plot import plot_density, plot_responsibilities

rng = np.random.RandomState(3)
X = np.vstack([rng.normal(size=(300, 2)), rng.normal(size=(300, 2)) * 0.6 + [2.5, 1.0]])
gm = GaussianMixture(2, random_state=0).fit(X)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
plot_density(gm, X=X, ax=left)
plot_responsibilities(gm, X, ax=right)
