// 'diag' (mclust's VVI): each component its own variance per feature, no correlations.
#include "structures/structure.hpp"

#include <cmath>

namespace gaussmix::detail {

namespace {

class Diag final : public VarianceStructure {
 public:
  Diag() : VarianceStructure(CovarianceType::Diag, "diag", MomentsLayout::PerComponentDiagonal, 2) {}

  std::pair<Index, Index> storage_shape(Index k, Index n) const override { return {k, n}; }
  Index n_covariance_parameters(Index k, Index n) const override { return k * n; }

  RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                double reg_covar, MStepState&) const override {
    const Eigen::ArrayXXd scatter = stats.s2.array() - stats.s1.array().square().colwise() / nk.array();
    RowMatrix<double> cov;
    if (map) {
      cov = ((scatter.rowwise() + map->prior.scale.row(0).array() +
              map->dev.array().square().colwise() * map->shrink.array())
                 .colwise() /
             (map->prior.degrees_of_freedom + nk.array() + 3.0))
                .matrix();
    } else {
      cov = (scatter.colwise() / nk.array()).matrix();
    }
    cov.array() += reg_covar;
    return cov;
  }

  Vector<double> log_det_factors(const RowMatrix<double>& factors, Index k, Index) const override {
    Vector<double> out(k);
    for (Index c = 0; c < k; ++c) out[c] = factors.row(c).array().log().sum();
    return out;
  }

  void scale_draws(const Mixture& mix, Index c, RowMatrix<double>& z) const override {
    z = (z.array().rowwise() / mix.precisions_cholesky.row(c).array()).matrix();
  }

  std::pair<Index, Index> prior_scale_shape(Index n) const override { return {1, n}; }
  double prior_min_degrees_of_freedom(Index) const override { return 0.0; }
  void check_prior_scale(const RowMatrix<double>& scale) const override { check_positive_prior_scale(scale); }

  double add_log_prior(const Mixture& mix, const Prior& prior, double out) const override {
    // Every variance sigma2_cj ~ IG(nu / 2, scale_j / 2), mu_cj | sigma2_cj ~ N(m_j, sigma2_cj / kappa).
    const double nu = prior.degrees_of_freedom, kappa = prior.mean_precision;
    for (Index c = 0; c < mix.n_components(); ++c) {
      for (Index j = 0; j < mix.n_features(); ++j) {
        const double var = mix.covariances(c, j);
        const double diff = mix.means(c, j) - prior.mean[j];
        out += log_inverse_gamma(var, 0.5 * nu, 0.5 * prior.scale(0, j)) - 0.5 * kLog2Pi + 0.5 * std::log(kappa / var) -
               0.5 * kappa * diff * diff / var;
      }
    }
    return out;
  }
};

}  // namespace

const Structure& diag_structure() {
  static const Diag instance;
  return instance;
}

}  // namespace gaussmix::detail
