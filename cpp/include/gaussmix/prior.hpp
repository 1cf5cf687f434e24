// Conjugate priors for MAP estimation: their parameters, validation and log-density.
#pragma once

#include "gaussmix/mixture.hpp"

namespace gaussmix {

/// Conjugate prior on the mixture parameters, in the form of Fraley & Raftery (2007):
///
/// - weights ~ Dirichlet(weight_concentration, ..., weight_concentration);
/// - full: each component independently Sigma_c ~ InverseWishart(degrees_of_freedom, scale) and
///   mu_c | Sigma_c ~ Normal(mean, Sigma_c / mean_precision);
/// - tied: one Sigma ~ InverseWishart(degrees_of_freedom, scale), each mu_c | Sigma as above;
/// - diag: every variance sigma2_cj ~ InverseGamma(degrees_of_freedom / 2, scale_j / 2) and
///   mu_cj | sigma2_cj ~ Normal(mean_j, sigma2_cj / mean_precision);
/// - spherical: sigma2_c ~ InverseGamma(degrees_of_freedom / 2, scale / 2) and
///   mu_c | sigma2_c ~ Normal(mean, sigma2_c I / mean_precision).
///
/// mclust's constrained models with a conjugate form follow the same rule, a covariance shared
/// by every component carrying its prior once and the others one each:
/// - EII: the one variance as spherical's; EEI: each feature's one variance as diag's;
/// - VEI, EVI: diag's prior on each component's variances, EEV, VEV: full's on each component's
///   covariance, restricted to the model's covariances (log_prior reports diag's or full's
///   density there; the restriction's normalising constant has no closed form).
/// VEE, EVE, VVE and EVV have no conjugate form and refuse a prior.
///
/// Shapes for n features: mean (n); scale (n, n) symmetric positive definite for full, tied,
/// EEV and VEV, (1, n) positive for diag, EEI, VEI and EVI, (1, 1) positive for spherical and
/// EII.
struct Prior {
  double weight_concentration = 1.0;  ///< Dirichlet alpha >= 1; 1 is flat (no pull on weights)
  Vector<double> mean;                ///< (n) prior centre of the component means
  double mean_precision = 0.01;       ///< kappa > 0: how many samples' worth the prior mean weighs
  double degrees_of_freedom = 0.0;    ///< nu: > n - 1 for full and tied, > 0 for diag, spherical
  RowMatrix<double> scale;            ///< see the shapes above

  /// Throws InvalidArgument unless the prior is proper for `type` and n features.
  void validate(CovarianceType type, Index n) const;
};

/// log p(mixture) under the prior, normalised (a proper density over weights, means and
/// covariances). -inf if a weight is zero while weight_concentration > 1.
/// Throws InvalidArgument when the prior does not fit the mixture's type and shape.
double log_prior(const Mixture& mixture, const Prior& prior);

}  // namespace gaussmix
