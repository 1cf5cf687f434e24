// 'tied' (mclust's EEE): one covariance matrix shared by every component, estimated from one
// pooled scatter about a common centre.
#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

namespace gaussmix::detail {

namespace {

class Tied final : public Structure {
 public:
  Tied() : Structure(CovarianceType::Tied, "tied", MomentsLayout::PooledMatrix, 1) {}

  std::pair<Index, Index> storage_shape(Index, Index n) const override { return {n, n}; }
  Index n_covariance_parameters(Index, Index n) const override { return n * (n + 1) / 2; }

  RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                double reg_covar, MStepState&) const override {
    const Index k = stats.n_components(), n = stats.n_features();
    const double total = nk.sum();
    // The pooled scatter about each component's mean: S2 - sum_c s1_c s1_c^T / N_c.
    Eigen::MatrixXd s2 = stats.s2;
    s2.triangularView<Eigen::StrictlyUpper>() = s2.transpose();
    for (Index c = 0; c < k; ++c) {
      const auto s1 = stats.s1.row(c).transpose();
      s2.noalias() -= s1 * s1.transpose() / nk[c];
    }
    RowMatrix<double> cov;
    if (map) {
      s2 += map->prior.scale;
      for (Index c = 0; c < k; ++c) {
        const auto d = map->dev.row(c).transpose();
        s2.noalias() += map->shrink[c] * d * d.transpose();
      }
      // One inverse-Wishart factor and k normal factors on the shared covariance.
      cov = s2 / (map->prior.degrees_of_freedom + total + static_cast<double>(n) + static_cast<double>(k) + 1.0);
    } else {
      cov = s2 / total;
    }
    cov.diagonal().array() += reg_covar;
    return cov;
  }

  RowMatrix<double> factors_of_covariances(const RowMatrix<double>& cov, Index, Index) const override {
    RowMatrix<double> factors(cov.rows(), cov.cols());
    if (!factor_of_covariance(cov, factors)) throw_not_positive_definite(0, true);
    return factors;
  }

  void factors_of_precisions(const RowMatrix<double>& precisions, Index, Index, RowMatrix<double>& factors,
                             RowMatrix<double>& cov) const override {
    if (!factor_of_precision(precisions, factors, cov))
      throw InvalidArgument("tied precision matrix is not symmetric positive definite");
  }

  RowMatrix<double> precisions(const RowMatrix<double>& factors, Index, Index) const override {
    RowMatrix<double> p(factors.rows(), factors.cols());
    p.noalias() = factors * factors.transpose();
    return p;
  }

  Vector<double> log_det_factors(const RowMatrix<double>& factors, Index k, Index) const override {
    return Vector<double>::Constant(k, factors.diagonal().array().log().sum());
  }

  std::string factor_problem(const Mixture& mix) const override {
    return triangular_factor_problem(mix.precisions_cholesky, 0);
  }

  void scale_draws(const Mixture& mix, Index, RowMatrix<double>& z) const override {
    z = mix.precisions_cholesky.triangularView<Eigen::Upper>().solve<Eigen::OnTheRight>(z);
  }

  std::pair<Index, Index> prior_scale_shape(Index n) const override { return {n, n}; }
  double prior_min_degrees_of_freedom(Index n) const override { return static_cast<double>(n) - 1.0; }
  void check_prior_scale(const RowMatrix<double>& scale) const override { check_matrix_prior_scale(scale); }

  double add_log_prior(const Mixture& mix, const Prior& prior, double out) const override {
    // One Sigma ~ IW(nu, Lambda); each mu_c | Sigma ~ N(m, Sigma / kappa).
    const RowMatrix<double>& U = mix.precisions_cholesky;
    out += log_inverse_wishart(U, prior.degrees_of_freedom, prior.scale, log_det_spd(prior.scale));
    for (Index c = 0; c < mix.n_components(); ++c) {
      const Vector<double> diff = (mix.means.row(c) - prior.mean.transpose()).transpose();
      out += log_mean_normal(U, diff, prior.mean_precision);
    }
    return out;
  }
};

}  // namespace

const Structure& tied_structure() {
  static const Tied instance;
  return instance;
}

}  // namespace gaussmix::detail
