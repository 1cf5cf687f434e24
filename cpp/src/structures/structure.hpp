// One home per covariance structure: everything that says what a structure is — its storage,
// its parameter count, its M-step from the statistics, its factors, its prior, its draws, its
// model-file code — in one class per structure (full.cpp, tied.cpp, diag.cpp, spherical.cpp),
// reached through one table (structure.cpp) (internal).
//
// A new structure (one of mclust's models, say) is one more subclass and one more table entry.
// Its E-step comes from the kernel family of its statistics (MomentsLayout, see
// kernels/kernel_factory.cpp): structures that keep per-component scatter matrices share the
// full kernels, whatever their M-step does with them.
#pragma once

#include "detail/constants.hpp"
#include "gaussmix/mixture.hpp"
#include "gaussmix/prior.hpp"
#include "gaussmix/stats.hpp"

#include <vector>

#include <cstdint>
#include <string>
#include <utility>

namespace gaussmix::detail {

/// What second moments a pass gathers for a structure (SufficientStats::s2).
enum class MomentsLayout {
  PerComponentMatrix,    ///< (k n, n): each component's scatter matrix, lower triangle
  PooledMatrix,          ///< (n, n): one scatter matrix of all rows about a common centre
  PerComponentDiagonal,  ///< (k, n): each component's per-feature scatter
  PerComponentTrace,     ///< (k, 1): each component's summed scatter over the features
};

/// The MAP pieces of an M-step: the means of the data pulled towards the prior mean by
/// kappa / (N_c + kappa), and each scatter gaining kappa N_c / (N_c + kappa) d d^T, d the data
/// mean minus the prior mean (Fraley & Raftery 2007).
struct MapTerms {
  const Prior& prior;
  RowMatrix<double> dev;  ///< (k, n) data mean minus prior mean
  Vector<double> shrink;  ///< (k) kappa N_c / (N_c + kappa)
  double total = 0.0;     ///< sum of the floored counts
};

/// What an M-step reads and reports beyond the statistics.
struct MStepState {
  /// The covariances (storage) the statistics were accumulated under, or null: an M-step
  /// without a closed form starts its inner iteration there, so that it never ends below them.
  const RowMatrix<double>* previous = nullptr;
  /// Set when an inner iteration stopped at its cap before it settled (its last iterate kept).
  bool unsettled = false;
};

class Structure {
 public:
  virtual ~Structure() = default;

  CovarianceType type() const { return type_; }
  const char* name() const { return name_; }
  MomentsLayout moments() const { return moments_; }
  /// The structure's code in the model file (fixed forever, independent of the enum's values).
  std::uint8_t file_code() const { return file_code_; }
  /// Whether the moments of every component are taken about one common centre.
  bool pooled() const { return moments_ == MomentsLayout::PooledMatrix; }

  /// Rows and columns of the covariance (and precision Cholesky) storage.
  virtual std::pair<Index, Index> storage_shape(Index k, Index n) const = 0;
  /// Free parameters of the covariances (scikit-learn's and mclust's count).
  virtual Index n_covariance_parameters(Index k, Index n) const = 0;

  /// The M-step's covariances (storage) from stats and the floored counts nk: maximum
  /// likelihood, or with map the posterior mode; reg_covar added to every variance. state (see
  /// MStepState) carries the previous covariances in and the inner iteration's end out.
  virtual RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                        double reg_covar, MStepState& state) const = 0;

  /// Precision Cholesky factors of covariances (storage). Throws NotPositiveDefinite naming
  /// the component.
  virtual RowMatrix<double> factors_of_covariances(const RowMatrix<double>& cov, Index k, Index n) const = 0;
  /// Factors and covariances of precisions (storage). Throws InvalidArgument.
  virtual void factors_of_precisions(const RowMatrix<double>& precisions, Index k, Index n, RowMatrix<double>& factors,
                                     RowMatrix<double>& cov) const = 0;
  /// Precision matrices from the factors (storage).
  virtual RowMatrix<double> precisions(const RowMatrix<double>& factors, Index k, Index n) const = 0;
  /// log det of each component's factor: (k).
  virtual Vector<double> log_det_factors(const RowMatrix<double>& factors, Index k, Index n) const = 0;
  /// What is wrong with mixture's factors for a model file (empty: nothing).
  virtual std::string factor_problem(const Mixture& mixture) const = 0;

  /// Standard normal draws z (count x n) of component c turned into mixture draws minus the
  /// mean: z A^T with A A^T the covariance.
  virtual void scale_draws(const Mixture& mixture, Index c, RowMatrix<double>& z) const = 0;

  /// Shape of Prior::scale and the degrees of freedom it must exceed, for n features.
  virtual std::pair<Index, Index> prior_scale_shape(Index n) const = 0;
  virtual double prior_min_degrees_of_freedom(Index n) const = 0;
  /// Throws InvalidArgument unless scale (of prior_scale_shape) is admissible.
  virtual void check_prior_scale(const RowMatrix<double>& scale) const = 0;
  /// `sum` plus the log density of the means and covariances under the prior (the weights'
  /// part is the caller's), added term by term in component order.
  virtual double add_log_prior(const Mixture& mixture, const Prior& prior, double sum) const = 0;
  /// Whether MAP estimation under the conjugate prior is available (Prior::validate refuses a
  /// prior for a structure without it, naming the structure).
  virtual bool admits_prior() const { return true; }

 protected:
  Structure(CovarianceType type, const char* name, MomentsLayout moments, std::uint8_t file_code)
      : type_(type), name_(name), moments_(moments), file_code_(file_code) {}

 private:
  CovarianceType type_;
  const char* name_;
  MomentsLayout moments_;
  std::uint8_t file_code_;
};

/// A structure stored as one full matrix per component: full (VVV) and mclust's constrained
/// models, which gather the same per-component scatter matrices and differ only in their M-step
/// (covariances()) and parameter count. Its prior is full's: one inverse-Wishart per component.
class PerComponentMatrices : public Structure {
 public:
  using Structure::Structure;
  std::pair<Index, Index> storage_shape(Index k, Index n) const override { return {k * n, n}; }
  RowMatrix<double> factors_of_covariances(const RowMatrix<double>& cov, Index k, Index n) const override;
  void factors_of_precisions(const RowMatrix<double>& precisions, Index k, Index n, RowMatrix<double>& factors,
                             RowMatrix<double>& cov) const override;
  RowMatrix<double> precisions(const RowMatrix<double>& factors, Index k, Index n) const override;
  Vector<double> log_det_factors(const RowMatrix<double>& factors, Index k, Index n) const override;
  std::string factor_problem(const Mixture& mixture) const override;
  void scale_draws(const Mixture& mixture, Index c, RowMatrix<double>& z) const override;
  std::pair<Index, Index> prior_scale_shape(Index n) const override { return {n, n}; }
  double prior_min_degrees_of_freedom(Index n) const override { return static_cast<double>(n) - 1.0; }
  void check_prior_scale(const RowMatrix<double>& scale) const override;
  double add_log_prior(const Mixture& mixture, const Prior& prior, double sum) const override;

  /// Each component's scatter about its mean, W_c = S2_c - s1_c s1_c^T / N_c (full, symmetric),
  /// from statistics of the PerComponentMatrix layout.
  static std::vector<Eigen::MatrixXd> scatter_matrices(const SufficientStats& stats, const Vector<double>& nk);
};

/// A structure stored as variances (diag, spherical, and mclust's diagonal models): its
/// factors are 1/sqrt(variance) elementwise, its precisions their squares.
class VarianceStructure : public Structure {
 public:
  using Structure::Structure;
  RowMatrix<double> factors_of_covariances(const RowMatrix<double>& cov, Index k, Index n) const override;
  void factors_of_precisions(const RowMatrix<double>& precisions, Index k, Index n, RowMatrix<double>& factors,
                             RowMatrix<double>& cov) const override;
  RowMatrix<double> precisions(const RowMatrix<double>& factors, Index k, Index n) const override;
  std::string factor_problem(const Mixture& mixture) const override;
};

/// The table: the structure of a covariance type.
const Structure& structure(CovarianceType type);
/// The structure of a name (parse_covariance_type's), or null.
const Structure* structure_named(const std::string& name);
/// The structure of a model-file code, or null.
const Structure* structure_of_file_code(std::uint8_t code);

// ------------------------------------------------- helpers the structures share (factors.cpp)

/// Throws NotPositiveDefinite for component c (shared: the one covariance of a pooled structure).
[[noreturn]] void throw_not_positive_definite(Index component, bool shared);

/// The upper-triangular U with U U^T = inverse(cov) (n x n), via cov's lower Cholesky factor L:
/// U = L^{-T}. False where cov is not positive definite.
bool factor_of_covariance(const Eigen::Ref<const RowMatrix<double>>& cov, Eigen::Ref<RowMatrix<double>> out);

/// U (upper triangular, U U^T = P) and cov = P^{-1} of a precision matrix P. False where P is
/// not positive definite.
bool factor_of_precision(const Eigen::Ref<const RowMatrix<double>>& P, Eigen::Ref<RowMatrix<double>> U,
                         Eigen::Ref<RowMatrix<double>> cov);

/// Why an (n x n) factor cannot be stored (a non-positive diagonal entry, or an entry below the
/// diagonal), or empty.
std::string triangular_factor_problem(const Eigen::Ref<const RowMatrix<double>>& U, Index component);

/// Checks a matrix prior scale: symmetric positive definite.
void check_matrix_prior_scale(const RowMatrix<double>& scale);
/// Checks an inverse-gamma prior scale (one per feature, or one): every entry positive.
void check_positive_prior_scale(const RowMatrix<double>& scale);

/// log InverseWishart(Sigma | nu, Lambda) for Sigma given by its factor U, and
/// log Normal(mu | m, Sigma / kappa) with diff = mu - m.
double log_inverse_wishart(const Eigen::Ref<const RowMatrix<double>>& U, double nu, const RowMatrix<double>& scale,
                           double log_det_scale);
double log_mean_normal(const Eigen::Ref<const RowMatrix<double>>& U, const Vector<double>& diff, double kappa);
/// log InverseGamma(x | a, b), shape a and scale b.
double log_inverse_gamma(double x, double a, double b);
/// log det of a symmetric positive definite matrix, by its Cholesky factor.
double log_det_spd(const RowMatrix<double>& m);

}  // namespace gaussmix::detail
