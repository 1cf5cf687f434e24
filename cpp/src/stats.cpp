// SufficientStats: zeros, merging, re-shifting and scaling (see stats.hpp for what every field
// holds).
#include "gaussmix/stats.hpp"
#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <cmath>

namespace gaussmix {

SufficientStats SufficientStats::zeros(CovarianceType type, Index k, Index n, const RowMatrix<double>& shift) {
  SufficientStats s;
  s.covariance_type = type;
  s.n_k = Vector<double>::Zero(k);
  s.s1 = RowMatrix<double>::Zero(k, n);
  const auto shape = covariance_storage_shape(type, k, n);
  s.s2 = RowMatrix<double>::Zero(shape.first, shape.second);
  s.shift = shift;
  return s;
}

SufficientStats& SufficientStats::merge(const SufficientStats& other) {
  if (other.covariance_type != covariance_type || other.s1.rows() != s1.rows() || other.s1.cols() != s1.cols() ||
      other.s2.rows() != s2.rows() || other.s2.cols() != s2.cols() || other.n_k.size() != n_k.size())
    throw InvalidArgument("cannot merge sufficient statistics of different types or shapes");
  if (other.shift != shift) throw InvalidArgument("cannot merge sufficient statistics taken about different shifts");
  n_k += other.n_k;
  s1 += other.s1;
  s2 += other.s2;
  log_likelihood += other.log_likelihood;
  weight_sum += other.weight_sum;
  n_samples += other.n_samples;
  return *this;
}

SufficientStats SufficientStats::about(const RowMatrix<double>& new_shift) const {
  const Index k = n_components(), n = n_features();
  if (new_shift.rows() != k || new_shift.cols() != n) throw InvalidArgument("new shift must be (k, n_features)");
  if (!new_shift.allFinite()) throw InvalidArgument("new shift must be finite");
  SufficientStats out = *this;
  out.shift = new_shift;
  const RowMatrix<double> d = shift - new_shift;
  switch (detail::structure(covariance_type).moments()) {
    case detail::MomentsLayout::PerComponentMatrix:
      for (Index c = 0; c < k; ++c) {
        const Vector<double> dc = d.row(c).transpose(), s1c = s1.row(c).transpose();
        Eigen::MatrixXd add = dc * s1c.transpose() + s1c * dc.transpose() + n_k[c] * dc * dc.transpose();
        out.s2.middleRows(c * n, n).triangularView<Eigen::Lower>() += add;
      }
      break;
    case detail::MomentsLayout::PooledMatrix: {
      if (k > 1 && !(new_shift.rowwise() - new_shift.row(0)).isZero(0.0))
        throw InvalidArgument("pooled statistics need one common shift");
      const Vector<double> dc = d.row(0).transpose(), total = s1.colwise().sum().transpose();
      Eigen::MatrixXd add = dc * total.transpose() + total * dc.transpose() + n_k.sum() * dc * dc.transpose();
      out.s2.triangularView<Eigen::Lower>() += add;
      break;
    }
    case detail::MomentsLayout::PerComponentDiagonal:
      out.s2.array() += 2.0 * d.array() * s1.array() + d.array().square().colwise() * n_k.array();
      break;
    case detail::MomentsLayout::PerComponentTrace:
      out.s2.col(0).array() +=
          2.0 * (d.array() * s1.array()).rowwise().sum() + d.array().square().rowwise().sum() * n_k.array();
      break;
  }
  out.s1.array() += d.array().colwise() * n_k.array();
  return out;
}

SufficientStats SufficientStats::scaled(double factor) const {
  if (!(factor >= 0.0) || !std::isfinite(factor)) throw InvalidArgument("the scale factor must be finite and >= 0");
  SufficientStats out = *this;
  out.n_k *= factor;
  out.s1 *= factor;
  out.s2 *= factor;
  out.log_likelihood *= factor;
  out.weight_sum *= factor;
  return out;
}

}  // namespace gaussmix
