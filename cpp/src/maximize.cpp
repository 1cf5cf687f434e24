// The M-step: maximum-likelihood (or, with a prior, MAP) parameters from sufficient statistics.
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

  const CovarianceType type = stats.covariance_type;
  const Prior* prior = options.prior ? &*options.prior : nullptr;
  if (prior) prior->validate(type, n);

  // The floor keeps an empty component finite: it keeps its shift as mean and gets reg_covar*I
  // (or, with a prior, the prior mean and the prior's covariance mode).
  const Vector<double> nk = stats.n_k.array() + 10.0 * std::numeric_limits<double>::epsilon();
  const double total = nk.sum();
  Vector<double> weights = nk / total;
  RowMatrix<double> means = stats.shift + (stats.s1.array().colwise() / nk.array()).matrix();

  // MAP pieces: the data means are pulled towards the prior mean by kappa / (N_c + kappa), and
  // each covariance gains kappa N_c / (N_c + kappa) d d^T with d the data mean minus the prior mean.
  RowMatrix<double> dev;     // (k, n) data mean minus prior mean
  Vector<double> shrink;     // (k) kappa N_c / (N_c + kappa)
  if (prior) {
    const double alpha = prior->weight_concentration, kappa = prior->mean_precision;
    weights = (nk.array() + (alpha - 1.0)) / (total + static_cast<double>(k) * (alpha - 1.0));
    dev = means.rowwise() - prior->mean.transpose();
    shrink = kappa * nk.array() / (nk.array() + kappa);
    means -= (dev.array().colwise() * (kappa / (nk.array() + kappa))).matrix();
  }
  const double nu = prior ? prior->degrees_of_freedom : 0.0;
  const double dn = static_cast<double>(n);

  // Second moments about the mean from those about the shift: S2 - s1 s1^T / N.
  RowMatrix<double> cov;
  switch (type) {
    case CovarianceType::Full: {
      cov.resize(k * n, n);
      for (Index c = 0; c < k; ++c) {
        Eigen::MatrixXd s2 = stats.s2.middleRows(c * n, n);
        s2.triangularView<Eigen::StrictlyUpper>() = s2.transpose();  // accumulate keeps the lower half
        const auto s1 = stats.s1.row(c).transpose();
        auto block = cov.middleRows(c * n, n);
        if (prior) {
          const auto d = dev.row(c).transpose();
          block = (prior->scale + (s2 - s1 * s1.transpose() / nk[c]) + shrink[c] * d * d.transpose()) /
                  (nu + nk[c] + dn + 2.0);
        } else {
          block = (s2 - s1 * s1.transpose() / nk[c]) / nk[c];
        }
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
      if (prior) {
        s2 += prior->scale;
        for (Index c = 0; c < k; ++c) {
          const auto d = dev.row(c).transpose();
          s2.noalias() += shrink[c] * d * d.transpose();
        }
        // One inverse-Wishart factor and k normal factors on the shared covariance.
        cov = s2 / (nu + total + dn + static_cast<double>(k) + 1.0);
      } else {
        cov = s2 / total;
      }
      cov.diagonal().array() += options.reg_covar;
      break;
    }
    case CovarianceType::Diag: {
      const Eigen::ArrayXXd scatter =
          stats.s2.array() - stats.s1.array().square().colwise() / nk.array();
      if (prior) {
        cov = ((scatter.rowwise() + prior->scale.row(0).array() +
                dev.array().square().colwise() * shrink.array())
                   .colwise() /
               (nu + nk.array() + 3.0))
                  .matrix();
      } else {
        cov = (scatter.colwise() / nk.array()).matrix();
      }
      cov.array() += options.reg_covar;
      break;
    }
    case CovarianceType::Spherical: {
      const Vector<double> ss = stats.s1.rowwise().squaredNorm();
      const Eigen::ArrayXd scatter = stats.s2.col(0).array() - ss.array() / nk.array();
      if (prior) {
        cov = ((scatter + prior->scale(0, 0) + shrink.array() * dev.rowwise().squaredNorm().array()) /
               (nu + (nk.array() + 1.0) * dn + 2.0))
                  .matrix();
      } else {
        cov = (scatter / (nk.array() * dn)).matrix();
      }
      cov.array() += options.reg_covar;
      break;
    }
  }
  return Mixture::from_covariances(type, std::move(weights), std::move(means),
                                   std::move(cov));
}

}  // namespace gaussmix
