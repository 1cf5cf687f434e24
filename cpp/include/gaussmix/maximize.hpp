// The M-step: new mixture parameters from sufficient statistics.
#pragma once

#include "gaussmix/mixture.hpp"
#include "gaussmix/stats.hpp"

namespace gaussmix {

struct MaximizeOptions {
  double reg_covar = 1e-6;  ///< added to the diagonal of every covariance; >= 0
};

/// Maximum-likelihood parameters for the statistics, with reg_covar added to each covariance and
/// the precision Cholesky factors computed once. Every component's count is floored at 10*eps
/// (as scikit-learn does), so a component with no responsibility keeps its mean and gets
/// reg_covar * I as covariance. Throws NotPositiveDefinite naming the component when a
/// covariance has no Cholesky factor.
Mixture maximize(const SufficientStats& stats, const MaximizeOptions& options = {});

}  // namespace gaussmix
