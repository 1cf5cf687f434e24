"""
Fitting incomplete data
=======================

Hide 30% of the cells at random. The marginalising fit uses every observed value and recovers
the components; ``impute`` then fills the holes with their conditional expectations.
"""

import matplotlib.pyplot as plt
import numpy as np

from gaussmix import GaussianMixture
from gaussmix.plot import plot_mixture

rng = np.random.RandomState(2)
X = np.vstack(
    [
        rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], 400),
        rng.multivariate_normal([4, -1], [[1, -0.6], [-0.6, 1]], 400),
    ]
)
holed = X.copy()
holed[rng.uniform(size=X.shape) < 0.3] = np.nan
gm = GaussianMixture(2, missing="marginalize", random_state=0).fit(holed)
filled = gm.impute(holed)
rmse = np.sqrt(np.mean((filled - X)[np.isnan(holed)] ** 2))
print(f"RMSE on the hidden cells: {rmse:.3f}")

fig, ax = plt.subplots(figsize=(6, 5))
complete = ~np.isnan(holed).any(axis=1)
plot_mixture(gm, holed[complete], ax=ax)
ax.set_title("Fit from incomplete rows (complete rows shown)")
