// Mixture construction from covariances or precisions, its derived quantities, and the names of
// the covariance types: each asks the type's structure (structures/).
#include "gaussmix/errors.hpp"
#include "gaussmix/mixture.hpp"
#include "structures/structure.hpp"

#include <sstream>

namespace gaussmix {

CovarianceType parse_covariance_type(const std::string& name) {
  if (const detail::Structure* s = detail::structure_named(name)) return s->type();
  throw InvalidArgument(
      "covariance_type must be one of 'full', 'tied', 'diag', 'spherical', 'EII', 'EEI', 'EVI', 'EEV', 'EVV', 'VEI', "
      "'VEE', 'VEV'; got '" +
      name + "'");
}

std::string to_string(CovarianceType type) { return detail::structure(type).name(); }

std::pair<Index, Index> covariance_storage_shape(CovarianceType type, Index k, Index n) {
  return detail::structure(type).storage_shape(k, n);
}

namespace {

std::string shape_str(Index r, Index c) {
  std::ostringstream s;
  s << "(" << r << ", " << c << ")";
  return s.str();
}

void check_shape(const char* what, const RowMatrix<double>& a, std::pair<Index, Index> expected) {
  if (a.rows() != expected.first || a.cols() != expected.second) {
    throw InvalidArgument(std::string(what) + " storage has shape " + shape_str(a.rows(), a.cols()) + ", expected " +
                          shape_str(expected.first, expected.second));
  }
}

}  // namespace

Mixture Mixture::from_covariances(CovarianceType type, Vector<double> weights, RowMatrix<double> means,
                                  RowMatrix<double> covariances) {
  Mixture m;
  m.covariance_type = type;
  m.weights = std::move(weights);
  m.means = std::move(means);
  m.covariances = std::move(covariances);
  const Index k = m.n_components(), n = m.n_features();
  const detail::Structure& s = detail::structure(type);
  check_shape("covariance", m.covariances, s.storage_shape(k, n));
  if (!m.covariances.allFinite()) throw InvalidArgument("covariances contain NaN or infinity");
  m.precisions_cholesky = s.factors_of_covariances(m.covariances, k, n);
  m.validate();
  return m;
}

Mixture Mixture::from_precisions(CovarianceType type, Vector<double> weights, RowMatrix<double> means,
                                 const RowMatrix<double>& precisions) {
  Mixture m;
  m.covariance_type = type;
  m.weights = std::move(weights);
  m.means = std::move(means);
  const Index k = m.n_components(), n = m.n_features();
  const detail::Structure& s = detail::structure(type);
  check_shape("precision", precisions, s.storage_shape(k, n));
  if (!precisions.allFinite()) throw InvalidArgument("precisions contain NaN or infinity");
  m.precisions_cholesky.resize(precisions.rows(), precisions.cols());
  m.covariances.resize(precisions.rows(), precisions.cols());
  s.factors_of_precisions(precisions, k, n, m.precisions_cholesky, m.covariances);
  m.validate();
  return m;
}

RowMatrix<double> Mixture::precisions() const {
  return detail::structure(covariance_type).precisions(precisions_cholesky, n_components(), n_features());
}

Vector<double> Mixture::log_det_precision_cholesky() const {
  return detail::structure(covariance_type).log_det_factors(precisions_cholesky, n_components(), n_features());
}

Index Mixture::n_parameters() const {
  const Index k = n_components(), n = n_features();
  return detail::structure(covariance_type).n_covariance_parameters(k, n) + k * n + k - 1;
}

void Mixture::validate() const {
  const Index k = n_components(), n = n_features();
  if (k < 1 || n < 1) throw InvalidArgument("a mixture needs at least one component and one feature");
  if (weights.size() != k)
    throw InvalidArgument("weights has " + std::to_string(weights.size()) + " entries for " + std::to_string(k) +
                          " components");
  const auto shape = covariance_storage_shape(covariance_type, k, n);
  check_shape("covariance", covariances, shape);
  check_shape("precision Cholesky", precisions_cholesky, shape);
  if (!weights.allFinite() || !means.allFinite() || !covariances.allFinite() || !precisions_cholesky.allFinite())
    throw InvalidArgument("mixture parameters contain NaN or infinity");
  if ((weights.array() < 0.0).any()) throw InvalidArgument("mixture weights must be non-negative");
}

}  // namespace gaussmix
