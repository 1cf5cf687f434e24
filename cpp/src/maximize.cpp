// The M-step: maximum-likelihood (or, with a prior, MAP) parameters from sufficient statistics.
// What is common to every structure (weights, means, the MAP pull on the means) is here; the
// covariances come from the structure (structures/).
#include "gaussmix/errors.hpp"
#include "gaussmix/maximize.hpp"
#include "steps.hpp"
#include "structures/structure.hpp"

#include <limits>

namespace gaussmix {

Mixture maximize(const SufficientStats& stats, const MaximizeOptions& options) {
  if (options.prior && stats.n_features() >= 1) options.prior->validate(stats.covariance_type, stats.n_features());
  return detail::maximize_checked(stats, options);
}

Mixture detail::maximize_checked(const SufficientStats& stats, const MaximizeOptions& options) {
  if (!(options.reg_covar >= 0.0)) throw InvalidArgument("reg_covar must be non-negative");
  const Index k = stats.n_components(), n = stats.n_features();
  if (k < 1 || n < 1) throw InvalidArgument("statistics have no components or no features");
  if (!stats.n_k.allFinite() || !stats.s1.allFinite() || !stats.s2.allFinite())
    throw Error(
        "sufficient statistics contain NaN or infinity; the data overflow double "
        "precision (rescale them)");

  const CovarianceType type = stats.covariance_type;
  const detail::Structure& structure = detail::structure(type);
  const Prior* prior = options.prior ? &*options.prior : nullptr;

  // The floor keeps an empty component finite: it keeps its shift as mean and gets reg_covar*I
  // (or, with a prior, the prior mean and the prior's covariance mode).
  const Vector<double> nk = stats.n_k.array() + 10.0 * std::numeric_limits<double>::epsilon();
  const double total = nk.sum();
  Vector<double> weights = nk / total;
  RowMatrix<double> means = stats.shift + (stats.s1.array().colwise() / nk.array()).matrix();

  detail::MStepState state;
  if (options.previous) {
    const Mixture& before = *options.previous;
    if (before.covariance_type != type || before.covariances.rows() != structure.storage_shape(k, n).first ||
        before.covariances.cols() != structure.storage_shape(k, n).second)
      throw InvalidArgument("the previous mixture of the M-step must have the statistics' covariance type and shape");
    state.previous = &before.covariances;
  }
  RowMatrix<double> cov;
  if (prior) {
    // The data means are pulled towards the prior mean by kappa / (N_c + kappa).
    const double alpha = prior->weight_concentration, kappa = prior->mean_precision;
    weights = (nk.array() + (alpha - 1.0)) / (total + static_cast<double>(k) * (alpha - 1.0));
    detail::MapTerms map{*prior, means.rowwise() - prior->mean.transpose(), kappa * nk.array() / (nk.array() + kappa),
                         total};
    means -= (map.dev.array().colwise() * (kappa / (nk.array() + kappa))).matrix();
    cov = structure.covariances(stats, nk, &map, options.reg_covar, state);
  } else {
    cov = structure.covariances(stats, nk, nullptr, options.reg_covar, state);
  }
  if (options.unsettled) *options.unsettled = state.unsettled;
  return Mixture::from_covariances(type, std::move(weights), std::move(means), std::move(cov));
}

}  // namespace gaussmix
