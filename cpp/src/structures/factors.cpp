// Factorisations, checks and prior densities that several structures share.
#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <sstream>

namespace gaussmix::detail {

namespace {
constexpr double kLogPi = 1.1447298858494001741434273513531;
constexpr double kLog2 = 0.69314718055994530941723212145818;

// log of the multivariate gamma function Gamma_n(a).
double log_multigamma(double a, Index n) {
  double out = 0.25 * static_cast<double>(n * (n - 1)) * kLogPi;
  for (Index j = 0; j < n; ++j) out += std::lgamma(a - 0.5 * static_cast<double>(j));
  return out;
}
}  // namespace

void throw_not_positive_definite(Index component, bool shared) {
  // scikit-learn's sentence first (users and its own tests match on it), then which component
  // and what to do.
  std::ostringstream s;
  s << "Fitting the mixture model failed because some components have ill-defined empirical "
       "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
       "number of components, increase reg_covar, or scale the input data. ";
  if (shared) {
    s << "The shared (tied) covariance matrix is not positive definite.";
  } else {
    s << "Component " << component << " has a covariance that is not positive definite.";
  }
  s << " Its samples are too few, duplicated or collinear (or a feature is constant) for a "
       "covariance to be estimated. Increase reg_covar (e.g. to 1e-4 times the data's variance), "
       "use fewer components, or rescale the data.";
  throw NotPositiveDefinite(component, s.str());
}

bool factor_of_covariance(const Eigen::Ref<const RowMatrix<double>>& cov, Eigen::Ref<RowMatrix<double>> out) {
  // No explicit inverse or determinant of cov is formed.
  Eigen::LLT<Eigen::MatrixXd> llt(cov);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd L = llt.matrixL();
  if ((L.diagonal().array() <= 0.0).any() || !L.allFinite()) return false;
  const Index n = cov.rows();
  Eigen::MatrixXd linv = L.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(n, n));
  out = linv.transpose();
  return out.allFinite();
}

bool factor_of_precision(const Eigen::Ref<const RowMatrix<double>>& P, Eigen::Ref<RowMatrix<double>> U,
                         Eigen::Ref<RowMatrix<double>> cov) {
  // The lower Cholesky factor of P with rows and columns reversed, reversed back.
  const Eigen::MatrixXd flipped = P.reverse();
  Eigen::LLT<Eigen::MatrixXd> llt(flipped);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd L = llt.matrixL();
  if ((L.diagonal().array() <= 0.0).any()) return false;
  U = L.reverse();
  // cov = P^{-1} = U^{-T} U^{-1}
  const Index n = P.rows();
  const Eigen::MatrixXd uinv = U.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(n, n));
  cov = uinv.transpose() * uinv;
  return U.allFinite() && cov.allFinite();
}

std::string triangular_factor_problem(const Eigen::Ref<const RowMatrix<double>>& U, Index c) {
  if ((U.diagonal().array() <= 0.0).any())
    return "the precision Cholesky factor of component " + std::to_string(c) + " has a non-positive diagonal entry";
  for (Index i = 1; i < U.rows(); ++i)
    for (Index j = 0; j < i; ++j)
      if (U(i, j) != 0.0)
        return "the precision Cholesky factor of component " + std::to_string(c) + " is not upper-triangular";
  return {};
}

void check_matrix_prior_scale(const RowMatrix<double>& scale) {
  const double asym = (scale - scale.transpose()).cwiseAbs().maxCoeff();
  Eigen::LLT<Eigen::MatrixXd> llt(scale);
  if (asym > 1e-10 * std::max(1.0, scale.cwiseAbs().maxCoeff()) || llt.info() != Eigen::Success ||
      (Eigen::MatrixXd(llt.matrixL()).diagonal().array() <= 0.0).any())
    throw InvalidArgument(
        "prior scale must be a symmetric positive definite matrix (a feature "
        "with zero variance makes the data's covariance singular; pass a scale)");
}

void check_positive_prior_scale(const RowMatrix<double>& scale) {
  if ((scale.array() <= 0.0).any()) throw InvalidArgument("prior scale must be positive");
}

double log_inverse_wishart(const Eigen::Ref<const RowMatrix<double>>& U, double nu, const RowMatrix<double>& scale,
                           double log_det_scale) {
  // log|Sigma| = -2 log det U and tr(Lambda Sigma^{-1}) = tr(U^T Lambda U).
  const double n = static_cast<double>(U.rows());
  const double log_det_u = U.diagonal().array().log().sum();
  const Eigen::MatrixXd uu = U.triangularView<Eigen::Upper>();
  const double trace = (uu.transpose() * scale * uu).trace();
  return 0.5 * nu * log_det_scale - 0.5 * nu * n * kLog2 - log_multigamma(0.5 * nu, U.rows()) +
         (nu + n + 1.0) * log_det_u - 0.5 * trace;
}

double log_mean_normal(const Eigen::Ref<const RowMatrix<double>>& U, const Vector<double>& diff, double kappa) {
  const double n = static_cast<double>(U.rows());
  const double log_det_u = U.diagonal().array().log().sum();
  const Vector<double> z = U.triangularView<Eigen::Upper>().transpose() * diff;
  return -0.5 * n * kLog2Pi + 0.5 * n * std::log(kappa) + log_det_u - 0.5 * kappa * z.squaredNorm();
}

double log_inverse_gamma(double x, double a, double b) {
  return a * std::log(b) - std::lgamma(a) - (a + 1.0) * std::log(x) - b / x;
}

RowMatrix<double> VarianceStructure::factors_of_covariances(const RowMatrix<double>& cov, Index, Index) const {
  for (Index c = 0; c < cov.rows(); ++c)
    if ((cov.row(c).array() <= 0.0).any()) throw_not_positive_definite(c, false);
  return cov.array().rsqrt().matrix();
}

void VarianceStructure::factors_of_precisions(const RowMatrix<double>& precisions, Index, Index,
                                              RowMatrix<double>& factors, RowMatrix<double>& cov) const {
  if ((precisions.array() <= 0.0).any()) throw InvalidArgument(std::string(name()) + " precisions must be positive");
  factors = precisions.array().sqrt().matrix();
  cov = precisions.array().inverse().matrix();
}

RowMatrix<double> VarianceStructure::precisions(const RowMatrix<double>& factors, Index, Index) const {
  return factors.array().square().matrix();
}

std::string VarianceStructure::factor_problem(const Mixture& mix) const {
  if ((mix.precisions_cholesky.array() <= 0.0).any() || (mix.covariances.array() <= 0.0).any())
    return "variances and their precision factors must be positive";
  return {};
}

double log_det_spd(const RowMatrix<double>& m) {
  Eigen::LLT<Eigen::MatrixXd> llt(m);
  return 2.0 * Eigen::MatrixXd(llt.matrixL()).diagonal().array().log().sum();
}

}  // namespace gaussmix::detail
