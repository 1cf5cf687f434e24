// 'spherical' (mclust's VII): each component one variance, the same for every feature.
#include "structures/structure.hpp"

#include <cmath>

namespace gaussmix::detail {

namespace {

class Spherical final : public VarianceStructure {
 public:
  Spherical() : VarianceStructure(CovarianceType::Spherical, "spherical", MomentsLayout::PerComponentTrace, 3) {}

  std::pair<Index, Index> storage_shape(Index k, Index) const override { return {k, 1}; }
  Index n_covariance_parameters(Index k, Index) const override { return k; }

  RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                double reg_covar, MStepState&) const override {
    const double dn = static_cast<double>(stats.n_features());
    const Vector<double> ss = stats.s1.rowwise().squaredNorm();
    const Eigen::ArrayXd scatter = stats.s2.col(0).array() - ss.array() / nk.array();
    RowMatrix<double> cov;
    if (map) {
      cov = ((scatter + map->prior.scale(0, 0) + map->shrink.array() * map->dev.rowwise().squaredNorm().array()) /
             (map->prior.degrees_of_freedom + (nk.array() + 1.0) * dn + 2.0))
                .matrix();
    } else {
      cov = (scatter / (nk.array() * dn)).matrix();
    }
    cov.array() += reg_covar;
    return cov;
  }

  Vector<double> log_det_factors(const RowMatrix<double>& factors, Index k, Index n) const override {
    Vector<double> out(k);
    for (Index c = 0; c < k; ++c) out[c] = static_cast<double>(n) * std::log(factors(c, 0));
    return out;
  }

  void scale_draws(const Mixture& mix, Index c, RowMatrix<double>& z) const override {
    z = z / mix.precisions_cholesky(c, 0);
  }

  std::pair<Index, Index> prior_scale_shape(Index) const override { return {1, 1}; }
  double prior_min_degrees_of_freedom(Index) const override { return 0.0; }
  void check_prior_scale(const RowMatrix<double>& scale) const override { check_positive_prior_scale(scale); }

  double add_log_prior(const Mixture& mix, const Prior& prior, double out) const override {
    // sigma2_c ~ IG(nu / 2, scale / 2), mu_c | sigma2_c ~ N(m, sigma2_c I / kappa).
    const double dn = static_cast<double>(mix.n_features());
    const double nu = prior.degrees_of_freedom, kappa = prior.mean_precision;
    for (Index c = 0; c < mix.n_components(); ++c) {
      const double var = mix.covariances(c, 0);
      const double dist2 = (mix.means.row(c) - prior.mean.transpose()).squaredNorm();
      out += log_inverse_gamma(var, 0.5 * nu, 0.5 * prior.scale(0, 0)) - 0.5 * dn * kLog2Pi +
             0.5 * dn * std::log(kappa / var) - 0.5 * kappa * dist2 / var;
    }
    return out;
  }
};

}  // namespace

const Structure& spherical_structure() {
  static const Spherical instance;
  return instance;
}

}  // namespace gaussmix::detail
