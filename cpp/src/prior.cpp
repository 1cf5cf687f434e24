// Conjugate priors for MAP estimation: checks and the normalised log-density of a mixture.
#include "gaussmix/errors.hpp"
#include "gaussmix/prior.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <limits>
#include <string>

namespace gaussmix {

namespace {

constexpr double kLog2Pi = 1.8378770664093454835606594728112;
constexpr double kLogPi = 1.1447298858494001741434273513531;
constexpr double kLog2 = 0.69314718055994530941723212145818;

// log of the multivariate gamma function Gamma_n(a).
double log_multigamma(double a, Index n) {
  double out = 0.25 * static_cast<double>(n * (n - 1)) * kLogPi;
  for (Index j = 0; j < n; ++j) out += std::lgamma(a - 0.5 * static_cast<double>(j));
  return out;
}

// log InverseWishart(Sigma | nu, Lambda) for Sigma given by its precision Cholesky factor U
// (U U^T = Sigma^{-1}): log|Sigma| = -2 log det U and tr(Lambda Sigma^{-1}) = tr(U^T Lambda U).
double log_inverse_wishart(const Eigen::Ref<const RowMatrix<double>>& U, double nu,
                           const RowMatrix<double>& scale, double log_det_scale) {
  const double n = static_cast<double>(U.rows());
  const double log_det_u = U.diagonal().array().log().sum();
  const Eigen::MatrixXd uu = U.triangularView<Eigen::Upper>();
  const double trace = (uu.transpose() * scale * uu).trace();
  return 0.5 * nu * log_det_scale - 0.5 * nu * n * kLog2 - log_multigamma(0.5 * nu, U.rows()) +
         (nu + n + 1.0) * log_det_u - 0.5 * trace;
}

// log Normal(mu | m, Sigma / kappa) through Sigma's precision Cholesky factor U.
double log_mean_normal(const Eigen::Ref<const RowMatrix<double>>& U, const Vector<double>& diff,
                       double kappa) {
  const double n = static_cast<double>(U.rows());
  const double log_det_u = U.diagonal().array().log().sum();
  const Vector<double> z = U.triangularView<Eigen::Upper>().transpose() * diff;
  return -0.5 * n * kLog2Pi + 0.5 * n * std::log(kappa) + log_det_u - 0.5 * kappa * z.squaredNorm();
}

// log InverseGamma(x | a, b) with shape a and scale b.
double log_inverse_gamma(double x, double a, double b) {
  return a * std::log(b) - std::lgamma(a) - (a + 1.0) * std::log(x) - b / x;
}

}  // namespace

void Prior::validate(CovarianceType type, Index n) const {
  if (!(std::isfinite(weight_concentration) && weight_concentration >= 1.0))
    throw InvalidArgument("prior weight_concentration must be a finite number >= 1 (1 is flat), got " +
                          std::to_string(weight_concentration));
  if (mean.size() != n)
    throw InvalidArgument("prior mean has " + std::to_string(mean.size()) + " entries for " +
                          std::to_string(n) + " features");
  if (!mean.allFinite()) throw InvalidArgument("prior mean contains NaN or infinity");
  if (!(std::isfinite(mean_precision) && mean_precision > 0.0))
    throw InvalidArgument("prior mean_precision must be a positive finite number");
  const bool matrix = type == CovarianceType::Full || type == CovarianceType::Tied;
  const double min_dof = matrix ? static_cast<double>(n) - 1.0 : 0.0;
  if (!(std::isfinite(degrees_of_freedom) && degrees_of_freedom > min_dof))
    throw InvalidArgument("prior degrees_of_freedom must exceed " + std::to_string(min_dof) +
                          " for the '" + to_string(type) + "' covariance type, got " +
                          std::to_string(degrees_of_freedom));
  const Index rows = matrix ? n : 1;
  const Index cols = type == CovarianceType::Spherical ? 1 : n;
  if (scale.rows() != rows || scale.cols() != cols)
    throw InvalidArgument("prior scale for the '" + to_string(type) + "' covariance type must have shape (" +
                          std::to_string(rows) + ", " + std::to_string(cols) + "), got (" +
                          std::to_string(scale.rows()) + ", " + std::to_string(scale.cols()) + ")");
  if (!scale.allFinite()) throw InvalidArgument("prior scale contains NaN or infinity");
  if (matrix) {
    const double asym = (scale - scale.transpose()).cwiseAbs().maxCoeff();
    Eigen::LLT<Eigen::MatrixXd> llt(scale);
    if (asym > 1e-10 * std::max(1.0, scale.cwiseAbs().maxCoeff()) || llt.info() != Eigen::Success ||
        (Eigen::MatrixXd(llt.matrixL()).diagonal().array() <= 0.0).any())
      throw InvalidArgument("prior scale must be a symmetric positive definite matrix (a feature "
                            "with zero variance makes the data's covariance singular; pass a scale)");
  } else if ((scale.array() <= 0.0).any()) {
    throw InvalidArgument("prior scale must be positive");
  }
}

double log_prior(const Mixture& mixture, const Prior& prior) {
  const Index k = mixture.n_components(), n = mixture.n_features();
  const CovarianceType type = mixture.covariance_type;
  prior.validate(type, n);
  const double alpha = prior.weight_concentration, kappa = prior.mean_precision;
  const double nu = prior.degrees_of_freedom;

  // Dirichlet(alpha): log Gamma(k alpha) - k log Gamma(alpha) + (alpha - 1) sum log w_c.
  double out = std::lgamma(static_cast<double>(k) * alpha) - static_cast<double>(k) * std::lgamma(alpha);
  if (alpha > 1.0) {
    for (Index c = 0; c < k; ++c) {
      if (!(mixture.weights[c] > 0.0)) return -std::numeric_limits<double>::infinity();
      out += (alpha - 1.0) * std::log(mixture.weights[c]);
    }
  }

  const RowMatrix<double>& U = mixture.precisions_cholesky;
  switch (type) {
    case CovarianceType::Full:
    case CovarianceType::Tied: {
      Eigen::LLT<Eigen::MatrixXd> llt(prior.scale);
      const double log_det_scale =
          2.0 * Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum();
      if (type == CovarianceType::Tied) out += log_inverse_wishart(U, nu, prior.scale, log_det_scale);
      for (Index c = 0; c < k; ++c) {
        const auto Uc = type == CovarianceType::Full ? U.middleRows(c * n, n) : U.middleRows(0, n);
        if (type == CovarianceType::Full) out += log_inverse_wishart(Uc, nu, prior.scale, log_det_scale);
        const Vector<double> diff = (mixture.means.row(c) - prior.mean.transpose()).transpose();
        out += log_mean_normal(Uc, diff, kappa);
      }
      break;
    }
    case CovarianceType::Diag:
      for (Index c = 0; c < k; ++c) {
        for (Index j = 0; j < n; ++j) {
          const double var = mixture.covariances(c, j);
          const double diff = mixture.means(c, j) - prior.mean[j];
          out += log_inverse_gamma(var, 0.5 * nu, 0.5 * prior.scale(0, j)) - 0.5 * kLog2Pi +
                 0.5 * std::log(kappa / var) - 0.5 * kappa * diff * diff / var;
        }
      }
      break;
    case CovarianceType::Spherical: {
      const double dn = static_cast<double>(n);
      for (Index c = 0; c < k; ++c) {
        const double var = mixture.covariances(c, 0);
        const double dist2 = (mixture.means.row(c) - prior.mean.transpose()).squaredNorm();
        out += log_inverse_gamma(var, 0.5 * nu, 0.5 * prior.scale(0, 0)) - 0.5 * dn * kLog2Pi +
               0.5 * dn * std::log(kappa / var) - 0.5 * kappa * dist2 / var;
      }
      break;
    }
  }
  return out;
}

}  // namespace gaussmix
