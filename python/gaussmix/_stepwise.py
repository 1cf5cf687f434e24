"""Stepwise (online) EM for partial_fit: running sufficient statistics with a decaying step.

Each call is one E-step on its chunk, then an update of the running statistics

    s_t = (1 - g_t) s_{t-1} + g_t * (chunk statistics per unit of sample weight),
    g_t = (t + learning_offset) ** -learning_decay,

and an M-step from them (Cappe & Moulines 2009; the schedule of Liang & Klein 2009). With a
decay in (0.5, 1] the steps satisfy the Robbins-Monro conditions, so the estimates settle as
chunks keep coming; a smaller decay forgets old chunks faster. The running statistics are
re-expressed about each new chunk's shifts (SufficientStats.about) before they are combined.
Per unit of weight the M-step is the batch one; with a prior they are scaled back to the total
weight seen, so the prior weighs against all the data, as in a batch fit of the same rows.
"""

from __future__ import annotations

import numbers


def check_schedule(decay, offset):
    if not isinstance(decay, numbers.Real) or not 0.5 < decay <= 1.0:
        raise ValueError(f"learning_decay must be in (0.5, 1], got {decay!r}.")
    if not isinstance(offset, numbers.Real) or not offset >= 0.0:
        raise ValueError(f"learning_offset must be a non-negative number, got {offset!r}.")


def step_size(t, decay, offset):
    """The weight g_t of the t-th chunk (t = 1 is the chunk that initialised the model)."""
    return (t + offset) ** -decay


def per_unit(stats):
    """Chunk statistics divided by the chunk's total weight."""
    return stats.scaled(1.0 / stats.weight_sum)


def update(running, chunk, gamma):
    """(1 - gamma) * running + gamma * chunk, both per unit of weight, about chunk's shifts."""
    return running.about(chunk.shift).scaled(1.0 - gamma) + chunk.scaled(gamma)
