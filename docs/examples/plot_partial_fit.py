"""
Streaming with partial_fit
==========================

Feed 100 chunks, one at a time, and never keep them. The held-out log-likelihood of the
streaming fit approaches that of a batch fit on all the data.
"""

import matplotlib.pyplot as plt
import numpy as np

from gaussmix import GaussianMixture

rng = np.random.RandomState(4)
centres = np.array([[0, 0], [5, 1], [1, 5]])


def draw(m):
    return centres[rng.randint(3, size=m)] + rng.normal(size=(m, 2))


held_out = draw(5000)
chunks = [draw(200) for _ in range(100)]
online = GaussianMixture(3, random_state=0)
scores = []
for chunk in chunks:
    online.partial_fit(chunk)
    scores.append(online.score(held_out))
batch = GaussianMixture(3, random_state=0).fit(np.vstack(chunks)).score(held_out)

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(np.arange(1, 101), scores, label="partial_fit")
ax.axhline(batch, color="black", linestyle="--", label="batch fit")
ax.set_xlabel("chunks seen")
ax.set_ylabel("held-out log-likelihood per sample")
ax.legend()
