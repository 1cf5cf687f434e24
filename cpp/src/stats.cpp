// SufficientStats: zeros and merging (see stats.hpp for what every field holds).
#include "gaussmix/errors.hpp"
#include "gaussmix/stats.hpp"

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

}  // namespace gaussmix
