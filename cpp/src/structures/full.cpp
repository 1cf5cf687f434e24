// 'full' (mclust's VVV): each component its own covariance matrix; and the storage every
// structure of per-component matrices shares (PerComponentMatrices).
#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

namespace gaussmix::detail {

RowMatrix<double> PerComponentMatrices::factors_of_covariances(const RowMatrix<double>& cov, Index k, Index n) const {
  RowMatrix<double> factors(cov.rows(), cov.cols());
  for (Index c = 0; c < k; ++c)
    if (!factor_of_covariance(cov.middleRows(c * n, n), factors.middleRows(c * n, n)))
      throw_not_positive_definite(c, false);
  return factors;
}

void PerComponentMatrices::factors_of_precisions(const RowMatrix<double>& precisions, Index k, Index n,
                                                 RowMatrix<double>& factors, RowMatrix<double>& cov) const {
  for (Index c = 0; c < k; ++c)
    if (!factor_of_precision(precisions.middleRows(c * n, n), factors.middleRows(c * n, n), cov.middleRows(c * n, n)))
      throw InvalidArgument("precision matrix of component " + std::to_string(c) +
                            " is not symmetric positive definite");
}

RowMatrix<double> PerComponentMatrices::precisions(const RowMatrix<double>& factors, Index k, Index n) const {
  RowMatrix<double> p(factors.rows(), factors.cols());
  for (Index c = 0; c < k; ++c) {
    const auto U = factors.middleRows(c * n, n);
    p.middleRows(c * n, n).noalias() = U * U.transpose();
  }
  return p;
}

Vector<double> PerComponentMatrices::log_det_factors(const RowMatrix<double>& factors, Index k, Index n) const {
  Vector<double> out(k);
  for (Index c = 0; c < k; ++c) out[c] = factors.middleRows(c * n, n).diagonal().array().log().sum();
  return out;
}

std::string PerComponentMatrices::factor_problem(const Mixture& mix) const {
  const Index n = mix.n_features();
  for (Index c = 0; c < mix.n_components(); ++c) {
    std::string why = triangular_factor_problem(mix.precisions_cholesky.middleRows(c * n, n), c);
    if (!why.empty()) return why;
  }
  return {};
}

void PerComponentMatrices::scale_draws(const Mixture& mix, Index c, RowMatrix<double>& z) const {
  // A = U^{-T} from the precision factor U (U U^T = precision), so each row is z^T U^{-1}: a
  // triangular solve, no new factorisation.
  const Index n = mix.n_features();
  z = mix.precisions_cholesky.middleRows(c * n, n).triangularView<Eigen::Upper>().solve<Eigen::OnTheRight>(z);
}

void PerComponentMatrices::check_prior_scale(const RowMatrix<double>& scale) const { check_matrix_prior_scale(scale); }

double PerComponentMatrices::add_log_prior(const Mixture& mix, const Prior& prior, double out) const {
  // Each component independently: Sigma_c ~ IW(nu, Lambda), mu_c | Sigma_c ~ N(m, Sigma_c / kappa).
  const Index n = mix.n_features();
  const double log_det_scale = log_det_spd(prior.scale);
  for (Index c = 0; c < mix.n_components(); ++c) {
    const auto U = mix.precisions_cholesky.middleRows(c * n, n);
    out += log_inverse_wishart(U, prior.degrees_of_freedom, prior.scale, log_det_scale);
    const Vector<double> diff = (mix.means.row(c) - prior.mean.transpose()).transpose();
    out += log_mean_normal(U, diff, prior.mean_precision);
  }
  return out;
}

std::vector<Eigen::MatrixXd> PerComponentMatrices::scatter_matrices(const SufficientStats& stats,
                                                                    const Vector<double>& nk) {
  const Index k = stats.n_components(), n = stats.n_features();
  std::vector<Eigen::MatrixXd> out(k);
  for (Index c = 0; c < k; ++c) {
    Eigen::MatrixXd s2 = stats.s2.middleRows(c * n, n);
    s2.triangularView<Eigen::StrictlyUpper>() = s2.transpose();  // the statistics keep the lower half
    const auto s1 = stats.s1.row(c).transpose();
    out[c] = s2 - s1 * s1.transpose() / nk[c];
  }
  return out;
}

namespace {

class Full final : public PerComponentMatrices {
 public:
  Full() : PerComponentMatrices(CovarianceType::Full, "full", MomentsLayout::PerComponentMatrix, 0) {}

  Index n_covariance_parameters(Index k, Index n) const override { return k * n * (n + 1) / 2; }

  RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                double reg_covar, MStepState&) const override {
    const Index k = stats.n_components(), n = stats.n_features();
    RowMatrix<double> cov(k * n, n);
    for (Index c = 0; c < k; ++c) {
      // Scatter about the mean from the moments about the shift: S2 - s1 s1^T / N.
      Eigen::MatrixXd s2 = stats.s2.middleRows(c * n, n);
      s2.triangularView<Eigen::StrictlyUpper>() = s2.transpose();  // the statistics keep the lower half
      const auto s1 = stats.s1.row(c).transpose();
      auto block = cov.middleRows(c * n, n);
      if (map) {
        const auto d = map->dev.row(c).transpose();
        block = (map->prior.scale + (s2 - s1 * s1.transpose() / nk[c]) + map->shrink[c] * d * d.transpose()) /
                (map->prior.degrees_of_freedom + nk[c] + static_cast<double>(n) + 2.0);
      } else {
        block = (s2 - s1 * s1.transpose() / nk[c]) / nk[c];
      }
      block.diagonal().array() += reg_covar;
    }
    return cov;
  }
};

}  // namespace

const Structure& full_structure() {
  static const Full instance;
  return instance;
}

}  // namespace gaussmix::detail
