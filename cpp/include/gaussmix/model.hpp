// The public C++ API: fit options with scikit-learn's defaults and a fitted-model type.
#pragma once

#include "gaussmix/queries.hpp"
#include "gaussmix/errors.hpp"
#include "gaussmix/mixture.hpp"
#include "gaussmix/prior.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace gaussmix {

/// How the initial responsibilities of each EM run are chosen (scikit-learn's init_params).
enum class InitMethod {
  KMeans,          ///< "kmeans": labels of Lloyd's k-means from k-means++ seeds
  KMeansPlusPlus,  ///< "k-means++": the k-means++ seed rows alone, one per component
  Random,          ///< "random": uniform random responsibilities
  RandomFromData,  ///< "random_from_data": k distinct rows drawn at random (by sample weight)
  /// "hc": a cut of the model-based merge tree (agglomerate(), mclust's start) of at most
  /// kHierarchicalRows rows with positive weight (a subsample of larger data, drawn from a
  /// fixed seed: the start is one for the data), the initial parameters from those rows'
  /// moments.
  Hierarchical,
};

/// Rows the hierarchical start agglomerates at most: its time and memory grow as their square.
constexpr Index kHierarchicalRows = 2000;

/// Parses "kmeans", "k-means++", "random", "random_from_data" or "hc"; throws InvalidArgument
/// otherwise.
InitMethod parse_init_method(const std::string& name);

/// The name parse_init_method() accepts.
std::string to_string(InitMethod method);

/// Everything fit() needs to know. The defaults are scikit-learn's GaussianMixture defaults.
struct FitOptions {
  Index n_components = 1;
  CovarianceType covariance_type = CovarianceType::Full;
  double tol = 1e-3;        ///< stop when the per-sample lower bound changes by less than tol
  double reg_covar = 1e-6;  ///< added to every covariance's diagonal
  int max_iter = 100;       ///< EM iterations per initialisation; 0 keeps the initial parameters
  /// Initialisations; the one with the highest lower bound is kept. With InitMethod::KMeans and
  /// n_init > 1 the first one is the hierarchical start. An initialisation whose EM meets a
  /// singular covariance is skipped when another one succeeds.
  int n_init = 1;
  InitMethod init = InitMethod::KMeans;
  std::uint64_t seed = 0;      ///< seeds every random choice of the fit; same seed, same model
  int n_threads = 0;           ///< OpenMP threads (0: all cores); results do not depend on it
  std::optional<Prior> prior;  ///< conjugate prior for MAP estimation (see maximize())

  /// Throws InvalidArgument naming the first option out of range.
  void validate() const;
};

/// How the kept EM run ended.
struct FitInfo {
  int n_iter = 0;          ///< EM iterations of the kept initialisation
  bool converged = false;  ///< whether it stopped because of tol
  /// Mean log-likelihood per unit sample weight (log-posterior with a prior) of the kept run,
  /// as scikit-learn's lower_bound_; -inf when no EM iteration ran.
  double lower_bound = -std::numeric_limits<double>::infinity();
};

/// Draws of sample(): rows grouped by component (all of component 0 first, and so on).
struct Samples {
  RowMatrix<double> X;          ///< (n, n_features)
  Vector<std::int64_t> labels;  ///< (n) the component each row came from, non-decreasing
};

/// A Gaussian mixture model: fitted by fit(), built from parameters, or loaded (see io.hpp).
///
/// Queries accept float or double data of shape (m, n_features); float data are processed in
/// float in the large products, as in fit(). Every query throws NotFitted on a model without
/// parameters and InvalidArgument on a wrong number of features or non-finite data.
/// A const model is safe to query from several threads at once.
class GaussianMixture {
 public:
  /// A model without parameters; fit() or assignment gives it some.
  GaussianMixture() = default;

  /// A model with the given parameters (validated: throws InvalidArgument on bad shapes or
  /// values).
  explicit GaussianMixture(Mixture mixture, FitInfo info = {});

  /// Fits by EM: options.n_init initialisations, the highest lower bound kept. X is (m, n) with
  /// m >= max(2, n_components); sample_weight is empty (all ones) or (m) non-negative with a
  /// positive sum. Throws InvalidArgument on bad options or data and NotPositiveDefinite when a
  /// covariance degenerates (increase reg_covar). On error the model is left unchanged.
  GaussianMixture& fit(const Eigen::Ref<const RowMatrix<double>>& X, const FitOptions& options = {},
                       const SampleWeights& sample_weight = Vector<double>());
  GaussianMixture& fit(const Eigen::Ref<const RowMatrix<float>>& X, const FitOptions& options = {},
                       const SampleWeights& sample_weight = Vector<double>());

  bool is_fitted() const { return mixture_.n_components() > 0; }

  /// Most probable component of each row: (m).
  Vector<std::int64_t> predict(const Eigen::Ref<const RowMatrix<double>>& X) const;
  Vector<std::int64_t> predict(const Eigen::Ref<const RowMatrix<float>>& X) const;

  /// Posterior probability of each component: (m, k), rows summing to 1.
  RowMatrix<double> predict_proba(const Eigen::Ref<const RowMatrix<double>>& X) const;
  RowMatrix<double> predict_proba(const Eigen::Ref<const RowMatrix<float>>& X) const;

  /// Log of the mixture density at each row: (m).
  Vector<double> score_samples(const Eigen::Ref<const RowMatrix<double>>& X) const;
  Vector<double> score_samples(const Eigen::Ref<const RowMatrix<float>>& X) const;

  /// Mean of score_samples(X).
  double score(const Eigen::Ref<const RowMatrix<double>>& X) const;
  double score(const Eigen::Ref<const RowMatrix<float>>& X) const;

  /// Bayesian information criterion on X: -2 m score(X) + n_parameters log m (lower is better).
  double bic(const Eigen::Ref<const RowMatrix<double>>& X) const;
  double bic(const Eigen::Ref<const RowMatrix<float>>& X) const;

  /// Akaike information criterion on X: -2 m score(X) + 2 n_parameters (lower is better).
  double aic(const Eigen::Ref<const RowMatrix<double>>& X) const;
  double aic(const Eigen::Ref<const RowMatrix<float>>& X) const;

  /// n >= 1 draws from the mixture, grouped by component. The same seed gives the same draws on
  /// every platform (the generator and the normal transform are the library's own).
  Samples sample(Index n, std::uint64_t seed = 0) const;

  /// Threads used by the queries (0: all cores); fit() sets it from its options.
  void set_n_threads(int n_threads);
  int n_threads() const { return n_threads_; }

  /// All parameters, in the core's storage layout (see CovarianceType).
  const Mixture& mixture() const;
  const FitInfo& fit_info() const;

  CovarianceType covariance_type() const { return mixture().covariance_type; }
  Index n_components() const { return mixture().n_components(); }
  Index n_features() const { return mixture().n_features(); }
  const Vector<double>& weights() const { return mixture().weights; }             ///< (k)
  const RowMatrix<double>& means() const { return mixture().means; }              ///< (k, n)
  const RowMatrix<double>& covariances() const { return mixture().covariances; }  ///< storage
  /// Upper-triangular U with U U^T the precision (1/sqrt(variance) for diag and spherical).
  const RowMatrix<double>& precisions_cholesky() const { return mixture().precisions_cholesky; }
  /// Number of free parameters (as scikit-learn counts them for bic and aic).
  Index n_parameters() const { return mixture().n_parameters(); }

 private:
  template <typename T>
  void fit_impl(const Eigen::Ref<const RowMatrix<T>>& X, const FitOptions& options, const SampleWeights& sample_weight);
  template <typename T>
  RowMatrix<double> query(const Eigen::Ref<const RowMatrix<T>>& X, LogProbOutput output) const;

  Mixture mixture_;
  FitInfo info_;
  int n_threads_ = 0;
};

/// Fits a new model: GaussianMixture().fit(X, options, sample_weight).
GaussianMixture fit(const Eigen::Ref<const RowMatrix<double>>& X, const FitOptions& options = {},
                    const SampleWeights& sample_weight = Vector<double>());
GaussianMixture fit(const Eigen::Ref<const RowMatrix<float>>& X, const FitOptions& options = {},
                    const SampleWeights& sample_weight = Vector<double>());

}  // namespace gaussmix
