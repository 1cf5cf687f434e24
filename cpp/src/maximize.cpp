// The M-step: maximum-likelihood weights, means and covariances from sufficient statistics.
#include "gaussmix/errors.hpp"
#include "gaussmix/maximize.hpp"

#include <limits>

namespace gaussmix {

Mixture maximize(const SufficientStats& stats, const MaximizeOptions& options) {
  if (!(options.reg_covar >= 0.0)) throw InvalidArgument("reg_covar must be non-negative");
  const Index k = stats.n_components(), n = stats.n_features();
  if (k < 1 || n < 1) throw InvalidArgument("statistics have no components or no features");
  if (!stats.n_k.allFinite() || !stats.s1.allFinite() || !stats.s2.allFinite())
    throw Error("sufficient statistics contain NaN or infinity; the data overflow double "
                "precision (rescale them)");

  // The floor keeps an empty component finite: it keeps its shift as mean and gets reg_covar*I.
  const Vector<double> nk = stats.n_k.array() + 10.0 * std::numeric_limits<double>::epsilon();
  Vector<double> weights = nk / nk.sum();
  RowMatrix<double> means = stats.shift + (stats.s1.array().colwise() / nk.array()).matrix();

  // Second moments about the mean from those about the shift: S2 - s1 s1^T / N.
  RowMatrix<double> cov;
  switch (stats.covariance_type) {
    case CovarianceType::Full: {
      cov.resize(k * n, n);
      for (Index c = 0; c < k; ++c) {
        Eigen::MatrixXd s2 = stats.s2.middleRows(c * n, n);
        s2.triangularView<Eigen::StrictlyUpper>() = s2.transpose();  // accumulate keeps the lower half
        const auto s1 = stats.s1.row(c).transpose();
        auto block = cov.middleRows(c * n, n);
        block = (s2 - s1 * s1.transpose() / nk[c]) / nk[c];
        block.diagonal().array() += options.reg_covar;
      }
      break;
    }
    case CovarianceType::Tied: {
      Eigen::MatrixXd s2 = stats.s2;
      s2.triangularView<Eigen::StrictlyUpper>() = s2.transpose();
      for (Index c = 0; c < k; ++c) {
        const auto s1 = stats.s1.row(c).transpose();
        s2.noalias() -= s1 * s1.transpose() / nk[c];
      }
      cov = s2 / nk.sum();
      cov.diagonal().array() += options.reg_covar;
      break;
    }
    case CovarianceType::Diag: {
      cov = ((stats.s2.array() - stats.s1.array().square().colwise() / nk.array()).colwise() /
             nk.array()).matrix();
      cov.array() += options.reg_covar;
      break;
    }
    case CovarianceType::Spherical: {
      const Vector<double> ss = stats.s1.rowwise().squaredNorm();
      cov = ((stats.s2.col(0).array() - ss.array() / nk.array()) /
             (nk.array() * static_cast<double>(n))).matrix();
      cov.array() += options.reg_covar;
      break;
    }
  }
  return Mixture::from_covariances(stats.covariance_type, std::move(weights), std::move(means),
                                   std::move(cov));
}

}  // namespace gaussmix
