// Conjugate priors for MAP estimation: checks and the normalised log-density of a mixture. The
// covariance part of each belongs to the structure (structures/); the weights' Dirichlet and
// the checks every prior shares are here.
#include "gaussmix/errors.hpp"
#include "gaussmix/prior.hpp"
#include "steps.hpp"
#include "structures/structure.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace gaussmix {

void Prior::validate(CovarianceType type, Index n) const {
  const detail::Structure& structure = detail::structure(type);
  if (!structure.admits_prior())
    throw InvalidArgument("priors are not available for covariance_type '" + to_string(type) +
                          "' (its M-step has no conjugate form here); fit it by maximum likelihood");
  if (!(std::isfinite(weight_concentration) && weight_concentration >= 1.0))
    throw InvalidArgument("prior weight_concentration must be a finite number >= 1 (1 is flat), got " +
                          std::to_string(weight_concentration));
  if (mean.size() != n)
    throw InvalidArgument("prior mean has " + std::to_string(mean.size()) + " entries for " + std::to_string(n) +
                          " features");
  if (!mean.allFinite()) throw InvalidArgument("prior mean contains NaN or infinity");
  if (!(std::isfinite(mean_precision) && mean_precision > 0.0))
    throw InvalidArgument("prior mean_precision must be a positive finite number");
  const double min_dof = structure.prior_min_degrees_of_freedom(n);
  if (!(std::isfinite(degrees_of_freedom) && degrees_of_freedom > min_dof))
    throw InvalidArgument("prior degrees_of_freedom must exceed " + std::to_string(min_dof) + " for the '" +
                          to_string(type) + "' covariance type, got " + std::to_string(degrees_of_freedom));
  const auto shape = structure.prior_scale_shape(n);
  if (scale.rows() != shape.first || scale.cols() != shape.second)
    throw InvalidArgument("prior scale for the '" + to_string(type) + "' covariance type must have shape (" +
                          std::to_string(shape.first) + ", " + std::to_string(shape.second) + "), got (" +
                          std::to_string(scale.rows()) + ", " + std::to_string(scale.cols()) + ")");
  if (!scale.allFinite()) throw InvalidArgument("prior scale contains NaN or infinity");
  structure.check_prior_scale(scale);
}

double log_prior(const Mixture& mixture, const Prior& prior) {
  prior.validate(mixture.covariance_type, mixture.n_features());
  return detail::log_prior_checked(mixture, prior);
}

double detail::log_prior_checked(const Mixture& mixture, const Prior& prior) {
  const Index k = mixture.n_components();
  const double alpha = prior.weight_concentration;
  // Dirichlet(alpha): log Gamma(k alpha) - k log Gamma(alpha) + (alpha - 1) sum log w_c.
  double out = std::lgamma(static_cast<double>(k) * alpha) - static_cast<double>(k) * std::lgamma(alpha);
  if (alpha > 1.0) {
    for (Index c = 0; c < k; ++c) {
      if (!(mixture.weights[c] > 0.0)) return -std::numeric_limits<double>::infinity();
      out += (alpha - 1.0) * std::log(mixture.weights[c]);
    }
  }
  return detail::structure(mixture.covariance_type).add_log_prior(mixture, prior, out);
}

}  // namespace gaussmix
