// The M-step: new mixture parameters from sufficient statistics.
#pragma once

#include "gaussmix/mixture.hpp"
#include "gaussmix/prior.hpp"
#include "gaussmix/stats.hpp"

#include <optional>

namespace gaussmix {

struct MaximizeOptions {
  double reg_covar = 1e-6;  ///< added to the diagonal of every covariance; >= 0
  /// With a prior the M-step returns the posterior mode (MAP) instead of the maximum-likelihood
  /// estimate. reg_covar is still added afterwards; 0 gives the exact mode.
  std::optional<Prior> prior;
  /// The parameters the statistics were accumulated under (the E-step's), or null. The M-steps
  /// without a closed form (mclust's EVE and VVE) start their inner iteration from its shared
  /// part, so that no EM iteration lowers the likelihood; the others ignore it. Not owned.
  const Mixture* previous = nullptr;
  /// If not null, set to whether an inner iteration (VEI, VEE, VEV, EVE, VVE) stopped at its
  /// cap of 500 steps before it settled; the last iterate is kept then. Not owned.
  bool* unsettled = nullptr;
};

/// Maximum-likelihood parameters for the statistics, with reg_covar added to each covariance and
/// the precision Cholesky factors computed once. Every component's count is floored at 10*eps
/// (as scikit-learn does), so a component with no responsibility keeps its mean and gets
/// reg_covar * I as covariance. Throws NotPositiveDefinite naming the component when a
/// covariance has no Cholesky factor.
///
/// With options.prior (Fraley & Raftery 2007), for a component with count N_c, scatter W_c about
/// its data mean xbar_c, d_c = xbar_c - prior.mean, kappa, nu, Lambda = prior.scale:
///   mean_c = (N_c xbar_c + kappa prior.mean) / (N_c + kappa)
///   full:  Sigma_c = (Lambda + W_c + kappa N_c / (N_c + kappa) d_c d_c^T) / (nu + N_c + n + 2)
///   tied:  Sigma = (Lambda + sum_c [W_c + kappa N_c/(N_c+kappa) d_c d_c^T]) / (nu + N + n + k + 1)
///   diag:  sigma2_cj = (Lambda_j + W_cjj + kappa N_c / (N_c + kappa) d_cj^2) / (nu + N_c + 3)
///   spherical: sigma2_c = (Lambda + tr W_c + kappa N_c/(N_c+kappa) |d_c|^2) / (nu + (N_c+1) n + 2)
///   weights_c = (N_c + alpha - 1) / (N + k (alpha - 1))
/// These maximise the expected complete-data log-likelihood plus log_prior(), so EM with them
/// never decreases the log-posterior (when reg_covar is 0).
Mixture maximize(const SufficientStats& stats, const MaximizeOptions& options = {});

}  // namespace gaussmix
