// Mixture construction from covariances or precisions, and SufficientStats bookkeeping.
#include "gaussmix/errors.hpp"
#include "gaussmix/mixture.hpp"
#include "gaussmix/stats.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <sstream>

namespace gaussmix {

CovarianceType parse_covariance_type(const std::string& name) {
  if (name == "full") return CovarianceType::Full;
  if (name == "tied") return CovarianceType::Tied;
  if (name == "diag") return CovarianceType::Diag;
  if (name == "spherical") return CovarianceType::Spherical;
  throw InvalidArgument("covariance_type must be one of 'full', 'tied', 'diag', 'spherical'; got '" +
                        name + "'");
}

std::string to_string(CovarianceType type) {
  switch (type) {
    case CovarianceType::Full: return "full";
    case CovarianceType::Tied: return "tied";
    case CovarianceType::Diag: return "diag";
    case CovarianceType::Spherical: return "spherical";
  }
  return "unknown";
}

std::pair<Index, Index> covariance_storage_shape(CovarianceType type, Index k, Index n) {
  switch (type) {
    case CovarianceType::Full: return {k * n, n};
    case CovarianceType::Tied: return {n, n};
    case CovarianceType::Diag: return {k, n};
    case CovarianceType::Spherical: return {k, 1};
  }
  return {0, 0};
}

namespace {

std::string shape_str(Index r, Index c) {
  std::ostringstream s;
  s << "(" << r << ", " << c << ")";
  return s.str();
}

void check_shape(const char* what, const RowMatrix<double>& a, std::pair<Index, Index> expected) {
  if (a.rows() != expected.first || a.cols() != expected.second) {
    throw InvalidArgument(std::string(what) + " storage has shape " + shape_str(a.rows(), a.cols()) +
                          ", expected " + shape_str(expected.first, expected.second));
  }
}

[[noreturn]] void throw_not_pd(CovarianceType type, Index component) {
  std::ostringstream s;
  if (type == CovarianceType::Tied) {
    s << "The shared (tied) covariance matrix is not positive definite.";
  } else {
    s << "Component " << component << " has a covariance that is not positive definite.";
  }
  s << " Its samples are too few, duplicated or collinear (or a feature is constant) for a "
       "covariance to be estimated. Increase reg_covar (e.g. to 1e-4 times the data's variance), "
       "use fewer components, or rescale the data.";
  throw NotPositiveDefinite(component, s.str());
}

// The upper-triangular U with U U^T = inverse(cov), via the lower Cholesky factor L of cov:
// U = L^{-T}. No explicit inverse or determinant of cov is formed.
bool precision_cholesky_of_covariance(const Eigen::Ref<const RowMatrix<double>>& cov,
                                      Eigen::Ref<RowMatrix<double>> out) {
  Eigen::LLT<Eigen::MatrixXd> llt(cov);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd L = llt.matrixL();
  if ((L.diagonal().array() <= 0.0).any() || !L.allFinite()) return false;
  const Index n = cov.rows();
  Eigen::MatrixXd linv = L.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(n, n));
  out = linv.transpose();
  return out.allFinite();
}

}  // namespace

Mixture Mixture::from_covariances(CovarianceType type, Vector<double> weights,
                                  RowMatrix<double> means, RowMatrix<double> covariances) {
  Mixture m;
  m.covariance_type = type;
  m.weights = std::move(weights);
  m.means = std::move(means);
  m.covariances = std::move(covariances);
  const Index k = m.n_components(), n = m.n_features();
  check_shape("covariance", m.covariances, covariance_storage_shape(type, k, n));
  if (!m.covariances.allFinite()) throw InvalidArgument("covariances contain NaN or infinity");
  m.precisions_cholesky.resize(m.covariances.rows(), m.covariances.cols());
  switch (type) {
    case CovarianceType::Full:
      for (Index c = 0; c < k; ++c) {
        if (!precision_cholesky_of_covariance(m.covariances.middleRows(c * n, n),
                                              m.precisions_cholesky.middleRows(c * n, n)))
          throw_not_pd(type, c);
      }
      break;
    case CovarianceType::Tied:
      if (!precision_cholesky_of_covariance(m.covariances, m.precisions_cholesky))
        throw_not_pd(type, 0);
      break;
    case CovarianceType::Diag:
    case CovarianceType::Spherical:
      for (Index c = 0; c < m.covariances.rows(); ++c) {
        if ((m.covariances.row(c).array() <= 0.0).any()) throw_not_pd(type, c);
      }
      m.precisions_cholesky = m.covariances.array().rsqrt().matrix();
      break;
  }
  m.validate();
  return m;
}

namespace {

// Upper-triangular U with U U^T = P: the lower Cholesky factor of P with rows and columns
// reversed, reversed back. Returns false if P is not positive definite.
bool upper_factor_of_precision(const Eigen::Ref<const RowMatrix<double>>& P,
                               Eigen::Ref<RowMatrix<double>> U, Eigen::Ref<RowMatrix<double>> cov) {
  const Eigen::MatrixXd flipped = P.reverse();
  Eigen::LLT<Eigen::MatrixXd> llt(flipped);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd L = llt.matrixL();
  if ((L.diagonal().array() <= 0.0).any()) return false;
  U = L.reverse();
  // cov = P^{-1} = U^{-T} U^{-1}
  const Index n = P.rows();
  const Eigen::MatrixXd uinv =
      U.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(n, n));
  cov = uinv.transpose() * uinv;
  return U.allFinite() && cov.allFinite();
}

}  // namespace

Mixture Mixture::from_precisions(CovarianceType type, Vector<double> weights, RowMatrix<double> means,
                                 const RowMatrix<double>& precisions) {
  Mixture m;
  m.covariance_type = type;
  m.weights = std::move(weights);
  m.means = std::move(means);
  const Index k = m.n_components(), n = m.n_features();
  check_shape("precision", precisions, covariance_storage_shape(type, k, n));
  if (!precisions.allFinite()) throw InvalidArgument("precisions contain NaN or infinity");
  m.precisions_cholesky.resize(precisions.rows(), precisions.cols());
  m.covariances.resize(precisions.rows(), precisions.cols());
  switch (type) {
    case CovarianceType::Full:
      for (Index c = 0; c < k; ++c) {
        if (!upper_factor_of_precision(precisions.middleRows(c * n, n),
                                       m.precisions_cholesky.middleRows(c * n, n),
                                       m.covariances.middleRows(c * n, n)))
          throw InvalidArgument("precision matrix of component " + std::to_string(c) +
                                " is not symmetric positive definite");
      }
      break;
    case CovarianceType::Tied:
      if (!upper_factor_of_precision(precisions, m.precisions_cholesky, m.covariances))
        throw InvalidArgument("tied precision matrix is not symmetric positive definite");
      break;
    case CovarianceType::Diag:
    case CovarianceType::Spherical:
      if ((precisions.array() <= 0.0).any())
        throw InvalidArgument(to_string(type) + " precisions must be positive");
      m.precisions_cholesky = precisions.array().sqrt().matrix();
      m.covariances = precisions.array().inverse().matrix();
      break;
  }
  m.validate();
  return m;
}

RowMatrix<double> Mixture::precisions() const {
  const Index k = n_components(), n = n_features();
  RowMatrix<double> p(precisions_cholesky.rows(), precisions_cholesky.cols());
  switch (covariance_type) {
    case CovarianceType::Full:
      for (Index c = 0; c < k; ++c) {
        const auto U = precisions_cholesky.middleRows(c * n, n);
        p.middleRows(c * n, n).noalias() = U * U.transpose();
      }
      break;
    case CovarianceType::Tied:
      p.noalias() = precisions_cholesky * precisions_cholesky.transpose();
      break;
    case CovarianceType::Diag:
    case CovarianceType::Spherical:
      p = precisions_cholesky.array().square().matrix();
      break;
  }
  return p;
}

Vector<double> Mixture::log_det_precision_cholesky() const {
  const Index k = n_components(), n = n_features();
  Vector<double> out(k);
  for (Index c = 0; c < k; ++c) {
    switch (covariance_type) {
      case CovarianceType::Full:
        out[c] = precisions_cholesky.middleRows(c * n, n).diagonal().array().log().sum();
        break;
      case CovarianceType::Tied:
        out[c] = precisions_cholesky.diagonal().array().log().sum();
        break;
      case CovarianceType::Diag:
        out[c] = precisions_cholesky.row(c).array().log().sum();
        break;
      case CovarianceType::Spherical:
        out[c] = static_cast<double>(n) * std::log(precisions_cholesky(c, 0));
        break;
    }
  }
  return out;
}

Index Mixture::n_parameters() const {
  const Index k = n_components(), n = n_features();
  Index cov = 0;
  switch (covariance_type) {
    case CovarianceType::Full: cov = k * n * (n + 1) / 2; break;
    case CovarianceType::Tied: cov = n * (n + 1) / 2; break;
    case CovarianceType::Diag: cov = k * n; break;
    case CovarianceType::Spherical: cov = k; break;
  }
  return cov + k * n + k - 1;
}

void Mixture::validate() const {
  const Index k = n_components(), n = n_features();
  if (k < 1 || n < 1) throw InvalidArgument("a mixture needs at least one component and one feature");
  if (weights.size() != k)
    throw InvalidArgument("weights has " + std::to_string(weights.size()) + " entries for " +
                          std::to_string(k) + " components");
  const auto shape = covariance_storage_shape(covariance_type, k, n);
  check_shape("covariance", covariances, shape);
  check_shape("precision Cholesky", precisions_cholesky, shape);
  if (!weights.allFinite() || !means.allFinite() || !covariances.allFinite() ||
      !precisions_cholesky.allFinite())
    throw InvalidArgument("mixture parameters contain NaN or infinity");
  if ((weights.array() < 0.0).any()) throw InvalidArgument("mixture weights must be non-negative");
}

SufficientStats SufficientStats::zeros(CovarianceType type, Index k, Index n,
                                       const RowMatrix<double>& shift) {
  SufficientStats s;
  s.covariance_type = type;
  s.n_k = Vector<double>::Zero(k);
  s.s1 = RowMatrix<double>::Zero(k, n);
  const auto shape = covariance_storage_shape(type, k, n);
  s.s2 = RowMatrix<double>::Zero(shape.first, shape.second);
  s.shift = shift;
  return s;
}

SufficientStats& SufficientStats::operator+=(const SufficientStats& other) {
  if (other.covariance_type != covariance_type || other.s1.rows() != s1.rows() ||
      other.s1.cols() != s1.cols() || other.s2.rows() != s2.rows() || other.s2.cols() != s2.cols())
    throw InvalidArgument("cannot merge sufficient statistics of different types or shapes");
  if (other.shift != shift)
    throw InvalidArgument("cannot merge sufficient statistics taken about different shifts");
  n_k += other.n_k;
  s1 += other.s1;
  s2 += other.s2;
  log_likelihood += other.log_likelihood;
  weight_sum += other.weight_sum;
  n_samples += other.n_samples;
  return *this;
}

}  // namespace gaussmix
