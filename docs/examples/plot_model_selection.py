"""
Choosing the number of components by BIC
========================================

``select_model`` fits every number of components and covariance type and ranks them by BIC.
The plot shows BIC against k, one line per covariance type, with the selected model starred.
"""

import matplotlib.pyplot as plt
import numpy as np

import gaussmix

rng = np.random.RandomState(1)
X = np.vstack([rng.normal(size=(250, 2)) + c for c in ([0, 0], [4, 4], [0, 6], [6, 0])])
result = gaussmix.select_model(X, n_components=range(1, 7), random_state=0)
print(result.format_table())
fig, ax = plt.subplots(figsize=(6, 4))
result.plot(ax=ax)
