// The EM loop over accumulate() and maximize().
#include "gaussmix/em.hpp"
#include "gaussmix/errors.hpp"
#include "steps.hpp"

#include <cmath>

namespace gaussmix {

template <typename T>
EmResult run_em(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight, const Mixture& initial,
                const EmOptions& options, double initial_lower_bound, const IterationCallback& callback) {
  if (options.max_iter < 0) throw InvalidArgument("max_iter must be non-negative");
  if (!(options.tol >= 0.0)) throw InvalidArgument("tol must be non-negative");
  initial.validate();
  EmResult result;
  result.mixture = initial;
  result.lower_bound = initial_lower_bound;
  const PassOptions pass{options.n_threads, options.should_stop, options.missing};
  MaximizeOptions mstep{options.reg_covar, options.prior};
  // The prior is checked once here; the steps below take it as checked.
  if (options.prior) options.prior->validate(initial.covariance_type, initial.n_features());
  for (int iter = 1; iter <= options.max_iter; ++iter) {
    const double previous = result.lower_bound;
    // One pass: the E-step under the current parameters and the moments for the next ones. The
    // lower bound it reports belongs to the parameters it ran with, as in scikit-learn.
    const SufficientStats stats = accumulate<T>(X, sample_weight, result.mixture, pass);
    if (!(stats.weight_sum > 0.0)) throw InvalidArgument("the total sample weight must be positive");
    // With a prior the objective is the log-posterior of the parameters the pass ran with; EM's
    // MAP M-step never lowers it.
    const double log_prior_value = options.prior ? detail::log_prior_checked(result.mixture, *options.prior) : 0.0;
    mstep.previous = &result.mixture;
    bool unsettled = false;
    mstep.unsettled = &unsettled;
    Mixture next = detail::maximize_checked(stats, mstep);
    if (unsettled) ++result.unsettled_m_steps;
    result.last_m_step_unsettled = unsettled;
    result.mixture = std::move(next);
    result.lower_bound = (stats.log_likelihood + log_prior_value) / stats.weight_sum;
    result.lower_bounds.push_back(result.lower_bound);
    result.n_iter = iter;
    const double change = result.lower_bound - previous;
    if (callback) callback(iter, result.lower_bound, change);
    if (std::abs(change) < options.tol) {
      result.converged = true;
      break;
    }
  }
  return result;
}

template EmResult run_em<float>(const Eigen::Ref<const RowMatrix<float>>&, const SampleWeights&, const Mixture&,
                                const EmOptions&, double, const IterationCallback&);
template EmResult run_em<double>(const Eigen::Ref<const RowMatrix<double>>&, const SampleWeights&, const Mixture&,
                                 const EmOptions&, double, const IterationCallback&);

}  // namespace gaussmix
