// The EM loop: accumulate() then maximize() until the lower bound stops rising.
#pragma once

#include "gaussmix/accumulate.hpp"
#include "gaussmix/maximize.hpp"

#include <functional>
#include <optional>
#include <limits>
#include <vector>

namespace gaussmix {

struct EmOptions {
  double tol = 1e-3;           ///< stop when the per-sample lower bound changes by less than tol
  double reg_covar = 1e-6;     ///< see MaximizeOptions
  int max_iter = 100;          ///< EM iterations at most; 0 returns the initial mixture
  int n_threads = 0;           ///< 0: the OpenMP default
  std::optional<Prior> prior;  ///< MAP estimation (see maximize()); the bound is then a posterior
  /// Called now and then on the calling thread inside every pass (see PassOptions); may throw
  /// to abort the fit, so an interrupt need not wait for the end of an iteration.
  std::function<void()> should_stop;
  bool missing = false;  ///< NaN marks unobserved values (see PassOptions::missing)
};

struct EmResult {
  Mixture mixture;
  int n_iter = 0;
  bool converged = false;
  /// Weighted mean log-likelihood of the data under the parameters that produced the final
  /// mixture (the one before the last M-step), as scikit-learn's lower_bound_. With a prior it
  /// is the log-posterior per unit weight: (log-likelihood + log_prior) / total weight.
  double lower_bound = -std::numeric_limits<double>::infinity();
  std::vector<double> lower_bounds;  ///< one per iteration
  /// M-steps whose inner iteration (mclust's VEI, VEE, VEV, EVE, VVE) stopped at its cap before
  /// it settled: their last iterate was kept, which never lowers the likelihood.
  int unsettled_m_steps = 0;
  /// Whether the last M-step, the one that made `mixture`, was one of them: the parameters are
  /// then short of that M-step's optimum (earlier ones only slow EM down).
  bool last_m_step_unsettled = false;
};

/// Called after each iteration with (iteration, lower bound, change). It may throw to abort the
/// fit (the bindings use this to honour Ctrl-C); the exception propagates to the caller.
using IterationCallback = std::function<void(int, double, double)>;

/// Runs EM from `initial`. The first iteration's change is measured from initial_lower_bound
/// (minus infinity for a fresh start, the previous lower bound for a warm start).
template <typename T>
EmResult run_em(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight, const Mixture& initial,
                const EmOptions& options = {}, double initial_lower_bound = -std::numeric_limits<double>::infinity(),
                const IterationCallback& callback = {});

}  // namespace gaussmix
