"""EM for incomplete data in plain NumPy, written from the formulas (Ghahramani & Jordan 1994):
the reference the compiled incomplete-rows kernel is checked against.

Parameters are held as full (k, n, n) covariances whatever the structure; the M-step then
imposes the structure. For each row and component, with o the observed and m the missing
coordinates:

- E-step: r_ic proportional to w_c N(x_o | mu_o, S_oo), from the observed block alone;
- x^_m = mu_m + S_mo S_oo^-1 (x_o - mu_o) and C = S_mm - S_mo S_oo^-1 S_om;
- sums: N_c = sum r, S1_c = sum r x^, S2_c = sum r (x^ x^T + C on the m x m block).
"""

import numpy as np


def _patterns(X):
    """Row indices grouped by the missing-value pattern of each row."""
    holes = np.isnan(X)
    keys, inverse = np.unique(holes, axis=0, return_inverse=True)
    return [(keys[p], np.flatnonzero(inverse.ravel() == p)) for p in range(len(keys))]


def _component_terms(X, means, covariances):
    """Per component: log N(x_o) (m,), completed rows x^ (m, n), conditional covariances."""
    m, n = X.shape
    k = len(means)
    log_density = np.zeros((m, k))
    completed = np.zeros((k, m, n))
    cond_cov = np.zeros((k, m, n, n))
    for holes, rows in _patterns(X):
        o, mis = np.flatnonzero(~holes), np.flatnonzero(holes)
        for c in range(k):
            mu, S = means[c], covariances[c]
            xo = X[np.ix_(rows, o)] - mu[o]
            full = np.tile(mu, (len(rows), 1))
            if o.size:
                S_oo = S[np.ix_(o, o)]
                solved = np.linalg.solve(S_oo, xo.T).T
                _, logdet = np.linalg.slogdet(S_oo)
                quad = np.einsum("ij,ij->i", xo, solved)
                log_density[rows, c] = -0.5 * (o.size * np.log(2 * np.pi) + logdet + quad)
                full[:, o] = X[np.ix_(rows, o)]
                if mis.size:
                    S_mo = S[np.ix_(mis, o)]
                    full[:, mis] = mu[mis] + solved @ S_mo.T
                    C = S[np.ix_(mis, mis)] - S_mo @ np.linalg.solve(S_oo, S_mo.T)
            else:
                C = S
            completed[c, rows] = full
            if mis.size:
                block = np.zeros((n, n))
                block[np.ix_(mis, mis)] = C
                cond_cov[c, rows] = block
    return log_density, completed, cond_cov


def log_likelihood(X, weights, means, covariances, sample_weight=None):
    """sum_i w_i log p(x_i,obs) and the responsibilities (m, k)."""
    log_density, _, _ = _component_terms(X, means, covariances)
    with np.errstate(divide="ignore"):
        weighted = log_density + np.log(weights)
    top = weighted.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(weighted - top).sum(axis=1))
    resp = np.exp(weighted - lse[:, None])
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    return float(w @ lse), resp


def em_step(X, weights, means, covariances, covariance_type, reg_covar, sample_weight=None):
    """One EM iteration: (log-likelihood before it, new weights, means, full covariances)."""
    n = X.shape[1]
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    log_density, completed, cond_cov = _component_terms(X, means, covariances)
    with np.errstate(divide="ignore"):
        weighted = log_density + np.log(weights)
    top = weighted.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(weighted - top).sum(axis=1))
    r = np.exp(weighted - lse[:, None]) * w[:, None]
    nk = r.sum(axis=0)
    new_weights = nk / nk.sum()
    new_means = np.einsum("ic,cij->cj", r, completed) / nk[:, None]
    scatter = np.einsum("ic,cij,cil->cjl", r, completed, completed) + np.einsum(
        "ic,cijl->cjl", r, cond_cov
    )
    cov = scatter / nk[:, None, None] - np.einsum("cj,cl->cjl", new_means, new_means)
    eye = np.eye(n)
    if covariance_type == "full":
        new_cov = cov + reg_covar * eye
    elif covariance_type == "tied":
        pooled = (cov * nk[:, None, None]).sum(axis=0) / nk.sum() + reg_covar * eye
        new_cov = np.repeat(pooled[None], len(nk), axis=0)
    elif covariance_type == "diag":
        new_cov = np.array([np.diag(np.diag(c) + reg_covar) for c in cov])
    else:
        variances = np.einsum("cjj->c", cov) / n + reg_covar
        new_cov = variances[:, None, None] * eye
    return float(w @ lse), new_weights, new_means, new_cov


def run_em(X, weights, means, covariances, covariance_type, reg_covar, n_iter, sample_weight=None):
    """n_iter EM iterations; returns the parameters and the log-likelihood of each iteration."""
    history = []
    for _ in range(n_iter):
        ll, weights, means, covariances = em_step(
            X, weights, means, covariances, covariance_type, reg_covar, sample_weight
        )
        history.append(ll)
    return weights, means, covariances, history
