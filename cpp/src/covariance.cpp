// Per-covariance-type kernels: log-densities of a block of rows, and its moment sums.
#include "gaussmix/detail/covariance.hpp"

#include <cmath>

namespace gaussmix::detail {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;
}

template <typename T>
Prepared<T> prepare(const Mixture& mixture) {
  mixture.validate();
  Prepared<T> p;
  p.type = mixture.covariance_type;
  p.k = mixture.n_components();
  p.n = mixture.n_features();
  const double wsum = mixture.weights.sum();
  const Vector<double> centre =
      wsum > 0 ? Vector<double>(mixture.means.transpose() * mixture.weights / wsum)
               : Vector<double>(mixture.means.colwise().mean().transpose());
  p.centre = centre.cast<T>();
  p.means = (mixture.means.rowwise() - centre.transpose()).cast<T>();
  p.prec_chol = mixture.precisions_cholesky.cast<T>();
  const Vector<double> log_det = mixture.log_det_precision_cholesky();
  Vector<double> log_norm(p.k);
  for (Index c = 0; c < p.k; ++c) {
    // A weight of exactly zero gives log 0 = -inf: that component never takes responsibility.
    log_norm[c] = std::log(mixture.weights[c]) + log_det[c] - 0.5 * static_cast<double>(p.n) * kLog2Pi;
  }
  p.log_norm = log_norm.cast<T>();
  switch (p.type) {
    case CovarianceType::Tied: {
      const RowMatrix<double> rel = mixture.means.rowwise() - centre.transpose();
      p.tied_means_prec = (rel * mixture.precisions_cholesky.triangularView<Eigen::Upper>()).cast<T>();
      break;
    }
    case CovarianceType::Diag:
    case CovarianceType::Spherical:
      p.prec = mixture.precisions_cholesky.array().square().matrix().cast<T>();
      break;
    case CovarianceType::Full:
      break;
  }
  return p;
}

template <typename T>
void weighted_log_prob_block(const Prepared<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc,
                             Workspace<T>& ws, Eigen::Ref<RowMatrix<T>> out) {
  const Index rows = xc.rows(), n = p.n;
  auto diff = ws.diff.topRows(rows);
  auto prod = ws.prod.topRows(rows);
  const T half = T(0.5);
  switch (p.type) {
    case CovarianceType::Full:
      // Differences from each mean first, then the triangular product: no cancellation between
      // large products, and half the flops of a general product.
      for (Index c = 0; c < p.k; ++c) {
        diff = xc.rowwise() - p.means.row(c);
        prod.noalias() = diff * p.prec_chol.middleRows(c * n, n).template triangularView<Eigen::Upper>();
        out.col(c) = (-half * prod.rowwise().squaredNorm()).array() + p.log_norm[c];
      }
      break;
    case CovarianceType::Tied:
      // One product for all components: (x - m_c) U = x U - m_c U.
      prod.noalias() = xc * p.prec_chol.template triangularView<Eigen::Upper>();
      for (Index c = 0; c < p.k; ++c) {
        out.col(c) = (-half * (prod.rowwise() - p.tied_means_prec.row(c)).rowwise().squaredNorm()).array() +
                     p.log_norm[c];
      }
      break;
    case CovarianceType::Diag:
      for (Index c = 0; c < p.k; ++c) {
        diff = xc.rowwise() - p.means.row(c);
        out.col(c).noalias() = diff.array().square().matrix() * (-half * p.prec.row(c).transpose());
        out.col(c).array() += p.log_norm[c];
      }
      break;
    case CovarianceType::Spherical:
      for (Index c = 0; c < p.k; ++c) {
        diff = xc.rowwise() - p.means.row(c);
        out.col(c) = (diff.rowwise().squaredNorm() * (-half * p.prec(c, 0))).array() + p.log_norm[c];
      }
      break;
  }
}

template <typename T>
void accumulate_moments_block(CovarianceType type, const Eigen::Ref<const RowMatrix<T>>& xc,
                              const Eigen::Ref<const RowMatrix<T>>& resp,
                              const Eigen::Ref<const Vector<T>>& row_weight,
                              const RowMatrix<T>& rel_shift, Workspace<T>& ws,
                              SufficientStats& stats) {
  const Index rows = xc.rows(), n = xc.cols(), k = resp.cols();
  auto diff = ws.diff.topRows(rows);
  stats.n_k += resp.colwise().sum().transpose().template cast<double>();
  if (type == CovarianceType::Tied) {
    // Common shift: first moments by one product, and one total second moment taken in double
    // (it is the difference of two large terms in maximize, so it needs the extra digits).
    diff = xc.rowwise() - rel_shift.row(0);
    // The first moments about the common centre are large (the spread of the means), and
    // maximize() subtracts s1 s1^T / N_k from s2: summed in float they lose the within-cluster
    // scatter, and the tied covariance can even come out not positive definite.
    stats.s1.noalias() += resp.template cast<double>().transpose() * diff.template cast<double>();
    auto& cd = ws.centred_double;
    // The weights' square roots in double too: Eigen's fast vectorised float sqrt (SSE) is off
    // by an ulp even for weight 1, and that error survives the cancellation above.
    cd = diff.template cast<double>().array().colwise() *
         row_weight.template cast<double>().array().sqrt();
    stats.s2.template selfadjointView<Eigen::Lower>().rankUpdate(cd.transpose());
    return;
  }
  for (Index c = 0; c < k; ++c) {
    diff = xc.rowwise() - rel_shift.row(c);
    const auto r = resp.col(c);
    stats.s1.row(c).noalias() += (r.transpose() * diff).template cast<double>();
    switch (type) {
      case CovarianceType::Full: {
        // Second moments as a symmetric rank-`rows` update with sqrt(r)-scaled differences;
        // only the lower triangle is kept, maximize() mirrors it.
        auto scaled = ws.prod.topRows(rows);
        scaled = diff.array().colwise() * r.array().sqrt();
        ws.s2_block.setZero();
        ws.s2_block.template selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose());
        stats.s2.middleRows(c * n, n) += ws.s2_block.template cast<double>();
        break;
      }
      case CovarianceType::Diag:
        stats.s2.row(c).noalias() += (r.transpose() * diff.array().square().matrix()).template cast<double>();
        break;
      case CovarianceType::Spherical:
        stats.s2(c, 0) += static_cast<double>(r.dot(diff.rowwise().squaredNorm()));
        break;
      case CovarianceType::Tied:
        break;
    }
  }
}

Index block_rows_for(Index k, Index n) {
  // Keep a block's working set (rows x (k + 3n) scalars) near 256 KiB of double.
  const Index per_row = k + 3 * n + 4;
  const Index rows = (Index(1) << 15) / per_row;
  return std::max<Index>(64, std::min<Index>(1024, rows));
}

Index max_slots_for(CovarianceType type, Index k, Index n) {
  const auto shape = covariance_storage_shape(type, k, n);
  const Index bytes = 8 * (shape.first * shape.second + k * n + k + 8);
  const Index budget = Index(32) << 20;  // 32 MiB of partial sums at most
  return std::max<Index>(1, std::min<Index>(64, budget / std::max<Index>(bytes, 1)));
}

#define GAUSSMIX_INSTANTIATE(T)                                                                    \
  template Prepared<T> prepare<T>(const Mixture&);                                                 \
  template void weighted_log_prob_block<T>(const Prepared<T>&,                                     \
                                           const Eigen::Ref<const RowMatrix<T>>&, Workspace<T>&,   \
                                           Eigen::Ref<RowMatrix<T>>);                              \
  template void accumulate_moments_block<T>(                                                       \
      CovarianceType, const Eigen::Ref<const RowMatrix<T>>&, const Eigen::Ref<const RowMatrix<T>>&, \
      const Eigen::Ref<const Vector<T>>&, const RowMatrix<T>&, Workspace<T>&, SufficientStats&);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
