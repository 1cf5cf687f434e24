// GaussianMixture: initialisation, restarts and queries over the EM core (em, kmeans, maximize).
#include "gaussmix/model.hpp"

#include "detail/random.hpp"
#include "gaussmix/em.hpp"
#include "gaussmix/hierarchy.hpp"
#include "gaussmix/kmeans.hpp"
#include "gaussmix/maximize.hpp"
#include "structures/structure.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <vector>

namespace gaussmix {

InitMethod parse_init_method(const std::string& name) {
  if (name == "kmeans") return InitMethod::KMeans;
  if (name == "k-means++") return InitMethod::KMeansPlusPlus;
  if (name == "random") return InitMethod::Random;
  if (name == "random_from_data") return InitMethod::RandomFromData;
  if (name == "hc") return InitMethod::Hierarchical;
  throw InvalidArgument("init must be one of 'kmeans', 'k-means++', 'random', 'random_from_data', 'hc'; got '" + name +
                        "'");
}

std::string to_string(InitMethod method) {
  switch (method) {
    case InitMethod::KMeans:
      return "kmeans";
    case InitMethod::KMeansPlusPlus:
      return "k-means++";
    case InitMethod::Random:
      return "random";
    case InitMethod::RandomFromData:
      return "random_from_data";
    case InitMethod::Hierarchical:
      return "hc";
  }
  return "unknown";
}

void FitOptions::validate() const {
  if (n_components < 1) throw InvalidArgument("n_components must be at least 1, got " + std::to_string(n_components));
  if (!(tol >= 0.0) || !std::isfinite(tol))
    throw InvalidArgument("tol must be a finite number >= 0, got " + std::to_string(tol));
  if (!(reg_covar >= 0.0) || !std::isfinite(reg_covar))
    throw InvalidArgument("reg_covar must be a finite number >= 0, got " + std::to_string(reg_covar));
  if (max_iter < 0) throw InvalidArgument("max_iter must be >= 0, got " + std::to_string(max_iter));
  if (n_init < 1) throw InvalidArgument("n_init must be at least 1, got " + std::to_string(n_init));
  if (n_threads < 0)
    throw InvalidArgument("n_threads must be >= 0 (0 uses all cores), got " + std::to_string(n_threads));
  try {
    detail::structure(covariance_type);
  } catch (const InvalidArgument&) {
    throw InvalidArgument("covariance_type is not a valid CovarianceType");
  }
  switch (init) {
    case InitMethod::KMeans:
    case InitMethod::KMeansPlusPlus:
    case InitMethod::Random:
    case InitMethod::RandomFromData:
    case InitMethod::Hierarchical:
      break;
    default:
      throw InvalidArgument("init is not a valid InitMethod");
  }
}

namespace {

template <typename T>
void check_data(const Eigen::Ref<const RowMatrix<T>>& X, const char* what) {
  if (!X.allFinite()) throw InvalidArgument(std::string(what) + " contains NaN or infinity");
}

// Weights as given, or ones: the draws of random_from_data need them explicitly.
Vector<double> checked_weights(const SampleWeights& w, Index m) {
  if (w.size() == 0) return Vector<double>::Ones(m);
  if (w.size() != m)
    throw InvalidArgument("sample_weight has " + std::to_string(w.size()) + " entries for " + std::to_string(m) +
                          " samples");
  if (!w.allFinite() || (w.array() < 0.0).any()) throw InvalidArgument("sample_weight must be finite and non-negative");
  if (!(w.sum() > 0.0)) throw InvalidArgument("the total sample weight must be positive");
  return w;
}

// k distinct rows for random_from_data. Without weights: a partial Fisher-Yates shuffle. With
// weights: one row at a time with probability proportional to the weight of the rows left, so
// zero-weight rows are never chosen.
Vector<std::int64_t> rows_from_data(const Vector<double>& w, bool weighted, Index k, detail::Random& rng) {
  const Index m = w.size();
  Vector<std::int64_t> chosen(k);
  if (!weighted) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(m));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    for (Index i = 0; i < k; ++i) {
      const Index j = i + std::min<Index>(m - i - 1, static_cast<Index>(rng.uniform() * static_cast<double>(m - i)));
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
      chosen[i] = order[static_cast<std::size_t>(i)];
    }
    return chosen;
  }
  if ((w.array() > 0.0).count() < k)
    throw InvalidArgument("init random_from_data needs at least n_components = " + std::to_string(k) +
                          " samples with positive weight");
  Vector<double> left = w;
  for (Index i = 0; i < k; ++i) {
    const double target = rng.uniform() * left.sum();
    double running = 0.0;
    Index pick = -1;
    for (Index r = 0; r < m; ++r) {
      if (left[r] <= 0.0) continue;
      pick = r;  // the last positive row absorbs rounding at the top end
      running += left[r];
      if (target < running) break;
    }
    chosen[i] = pick;
    left[pick] = 0.0;
  }
  return chosen;
}

// Each feature centred and divided by its weighted standard deviation (1 for a constant one),
// both estimated from at most 65536 evenly spaced rows as the Python estimator does, stored in
// T: what the k-means start clusters.
template <typename T>
RowMatrix<T> standardized(const Eigen::Ref<const RowMatrix<T>>& X, const Vector<double>& w) {
  const Index m = X.rows(), n = X.cols(), step = std::max<Index>(1, m / 65536);
  double total = 0.0;
  Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(n);
  for (Index i = 0; i < m; i += step) {
    total += w[i];
    mean += w[i] * X.row(i).template cast<double>();
  }
  const bool weighted = total > 0.0;
  if (!weighted) {  // every sampled weight zero: the unweighted estimate
    total = 0.0;
    mean.setZero();
    for (Index i = 0; i < m; i += step, total += 1.0) mean += X.row(i).template cast<double>();
  }
  mean /= total;
  Eigen::RowVectorXd var = Eigen::RowVectorXd::Zero(n);
  for (Index i = 0; i < m; i += step)
    var += (weighted ? w[i] : 1.0) * (X.row(i).template cast<double>() - mean).array().square().matrix();
  Eigen::RowVectorXd scale = (var / total).array().sqrt();
  for (Index j = 0; j < n; ++j)
    if (!(scale[j] > 0.0)) scale[j] = 1.0;
  return ((X.template cast<double>().rowwise() - mean).array().rowwise() / scale.array()).matrix().template cast<T>();
}

constexpr std::uint64_t kHierarchicalSubsampleSeed = 20261207;

// The hierarchical start's moments: the rows with positive weight (a random subsample of
// kHierarchicalRows of them when there are more) cut into k clusters of their merge tree.
template <typename T>
SufficientStats hierarchical_moments(const Eigen::Ref<const RowMatrix<T>>& X, const Vector<double>& w, bool weighted,
                                     Index k, CovarianceType type, const PassOptions& pass) {
  detail::Random rng(kHierarchicalSubsampleSeed);
  std::vector<Index> rows;
  for (Index i = 0; i < X.rows(); ++i)
    if (w[i] > 0.0) rows.push_back(i);
  if (static_cast<Index>(rows.size()) < k)
    throw InvalidArgument("init hc needs at least n_components = " + std::to_string(k) +
                          " samples with positive weight");
  if (static_cast<Index>(rows.size()) > kHierarchicalRows) {
    // A partial Fisher-Yates shuffle draws the subsample from a fixed seed (not the fit's), so
    // that the start is one for the data, as in Python; sorted, the rows keep their order.
    const Index size = static_cast<Index>(rows.size());
    for (Index i = 0; i < kHierarchicalRows; ++i) {
      const Index j =
          i + std::min<Index>(size - i - 1, static_cast<Index>(rng.uniform() * static_cast<double>(size - i)));
      std::swap(rows[static_cast<std::size_t>(i)], rows[static_cast<std::size_t>(j)]);
    }
    rows.resize(static_cast<std::size_t>(kHierarchicalRows));
    std::sort(rows.begin(), rows.end());
  }
  const Index r = static_cast<Index>(rows.size());
  RowMatrix<T> subset(r, X.cols());
  Vector<double> subset_w(weighted ? r : 0);
  for (Index i = 0; i < r; ++i) {
    subset.row(i) = X.row(rows[static_cast<std::size_t>(i)]);
    if (weighted) subset_w[i] = w[rows[static_cast<std::size_t>(i)]];
  }
  const Hierarchy tree = agglomerate(scaled_svd<T>(subset, subset_w), subset_w, pass.n_threads, pass.should_stop);
  return moments_from_labels<T>(subset, subset_w, tree.labels(k), k, type, pass);
}

// Initial parameters of one EM run: moments of the initial responsibilities through the M-step,
// exactly as the Python estimator builds them.
// The k-means start in the hierarchical start's scaled SVD coordinates (zero-weight rows placed
// like the others), as the Python estimator makes its even restarts.
template <typename T>
RowMatrix<T> svd_coordinates(const Eigen::Ref<const RowMatrix<T>>& X, const Vector<double>& w, bool weighted) {
  Vector<double> mass;
  if (weighted) mass = w.cwiseMax(std::numeric_limits<double>::min());
  return scaled_svd<T>(X, mass).template cast<T>();
}

template <typename T>
Mixture initial_mixture(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                        const Vector<double>& w, const FitOptions& options, InitMethod method, bool svd_coordinates_,
                        std::uint64_t seed) {
  const Index k = options.n_components, m = X.rows();
  const CovarianceType type = options.covariance_type;
  PassOptions pass;
  pass.n_threads = options.n_threads;
  detail::Random rng(seed);
  SufficientStats stats;
  switch (method) {
    case InitMethod::Hierarchical:
      stats = hierarchical_moments<T>(X, w, sample_weight.size() != 0, k, type, pass);
      break;
    case InitMethod::KMeans: {
      KMeansOptions km;
      km.seed = rng.next();
      km.n_threads = options.n_threads;
      // k-means on the data standardised feature by feature, as the Python estimator does, so
      // that a feature's units do not decide the clusters; the moments from the data as they are.
      const RowMatrix<T> Z =
          svd_coordinates_ ? svd_coordinates<T>(X, w, sample_weight.size() != 0) : standardized<T>(X, w);
      const KMeansResult result = kmeans<T>(Z, sample_weight, k, km);
      stats = moments_from_labels<T>(X, sample_weight, result.labels, k, type, pass);
      break;
    }
    case InitMethod::Random: {
      RowMatrix<double> resp(m, k);
      for (Index i = 0; i < m; ++i) {
        for (Index c = 0; c < k; ++c) resp(i, c) = rng.uniform();
        resp.row(i) /= resp.row(i).sum();
      }
      stats = moments_from_responsibilities<T>(X, sample_weight, resp, type, pass);
      break;
    }
    case InitMethod::KMeansPlusPlus:
    case InitMethod::RandomFromData: {
      const Vector<std::int64_t> rows = method == InitMethod::KMeansPlusPlus
                                            ? kmeans_plusplus<T>(X, sample_weight, k, rng.next(), options.n_threads)
                                            : rows_from_data(w, sample_weight.size() != 0, k, rng);
      RowMatrix<T> seeds(k, X.cols());
      for (Index c = 0; c < k; ++c) seeds.row(c) = X.row(rows[c]);
      // Each seed row stands for one sample whatever its weight, so the initial weights are equal.
      Vector<std::int64_t> labels(k);
      std::iota(labels.data(), labels.data() + k, std::int64_t{0});
      stats = moments_from_labels<T>(seeds, Vector<double>(), labels, k, type, pass);
      break;
    }
  }
  return maximize(stats, MaximizeOptions{options.reg_covar, options.prior});
}

}  // namespace

GaussianMixture::GaussianMixture(Mixture mixture, FitInfo info) : mixture_(std::move(mixture)), info_(info) {
  mixture_.validate();
}

template <typename T>
void GaussianMixture::fit_impl(const Eigen::Ref<const RowMatrix<T>>& X, const FitOptions& options,
                               const SampleWeights& sample_weight) {
  options.validate();
  const Index m = X.rows(), n = X.cols(), k = options.n_components;
  if (n < 1) throw InvalidArgument("X has no features");
  if (m < 2) throw InvalidArgument("fit needs at least 2 samples, got " + std::to_string(m));
  if (m < k)
    throw InvalidArgument("fit needs n_samples >= n_components, got n_components = " + std::to_string(k) +
                          ", n_samples = " + std::to_string(m));
  check_data<T>(X, "X");
  const Vector<double> w = checked_weights(sample_weight, m);
  if (options.prior) options.prior->validate(options.covariance_type, n);

  EmOptions em;
  em.tol = options.tol;
  em.reg_covar = options.reg_covar;
  em.max_iter = options.max_iter;
  em.n_threads = options.n_threads;
  em.prior = options.prior;
  detail::Random seeds(options.seed);
  std::optional<EmResult> best;
  std::exception_ptr singular;
  for (int init = 0; init < options.n_init; ++init) {
    // With k-means starts and restarts, the restarts vary as in the Python estimator: the first
    // is the hierarchical start (mclust's), the even ones k-means in its scaled SVD coordinates,
    // the odd ones k-means in standardised coordinates (see the README's mclust section).
    const bool varied = options.init == InitMethod::KMeans && options.n_init > 1;
    const InitMethod method = varied && init == 0 ? InitMethod::Hierarchical : options.init;
    const bool svd = varied && init > 0 && init % 2 == 0;
    const std::uint64_t seed = seeds.next();
    EmResult result;
    try {
      Mixture start = initial_mixture<T>(X, sample_weight, w, options, method, svd, seed);
      if (options.max_iter == 0) {
        result.mixture = std::move(start);  // no EM: the initial parameters are the model
      } else {
        result = run_em<T>(X, sample_weight, start, em);
      }
    } catch (const NotPositiveDefinite&) {
      // One restart meeting a singular covariance says nothing of the others.
      if (options.n_init == 1) throw;
      if (!singular) singular = std::current_exception();
      continue;
    }
    // The first run is always kept, so a run whose bound is -inf still yields a model.
    if (!best || result.lower_bound > best->lower_bound) best = std::move(result);
  }
  if (!best) std::rethrow_exception(singular);
  mixture_ = std::move(best->mixture);
  info_ = FitInfo{best->n_iter, best->converged, best->lower_bound};
  n_threads_ = options.n_threads;
}

GaussianMixture& GaussianMixture::fit(const Eigen::Ref<const RowMatrix<double>>& X, const FitOptions& options,
                                      const SampleWeights& sample_weight) {
  fit_impl<double>(X, options, sample_weight);
  return *this;
}

GaussianMixture& GaussianMixture::fit(const Eigen::Ref<const RowMatrix<float>>& X, const FitOptions& options,
                                      const SampleWeights& sample_weight) {
  fit_impl<float>(X, options, sample_weight);
  return *this;
}

const Mixture& GaussianMixture::mixture() const {
  if (!is_fitted()) throw NotFitted("this GaussianMixture has no parameters yet; call fit() or load a model first");
  return mixture_;
}

const FitInfo& GaussianMixture::fit_info() const {
  mixture();  // throws NotFitted
  return info_;
}

void GaussianMixture::set_n_threads(int n_threads) {
  if (n_threads < 0)
    throw InvalidArgument("n_threads must be >= 0 (0 uses all cores), got " + std::to_string(n_threads));
  n_threads_ = n_threads;
}

template <typename T>
RowMatrix<double> GaussianMixture::query(const Eigen::Ref<const RowMatrix<T>>& X, LogProbOutput output) const {
  const Mixture& mix = mixture();
  if (X.cols() != mix.n_features())
    throw InvalidArgument("X has " + std::to_string(X.cols()) + " features, but the model expects " +
                          std::to_string(mix.n_features()));
  // log_prob_pass checks the values (NaN, infinity, overflow) block by block as it reads them.
  PassOptions pass;
  pass.n_threads = n_threads_;
  return log_prob_pass<T>(X, mix, output, pass);
}

namespace {

template <typename T>
void require_rows(const Eigen::Ref<const RowMatrix<T>>& X) {
  if (X.rows() < 1) throw InvalidArgument("X has no samples");
}

Vector<std::int64_t> labels_of(const RowMatrix<double>& out) { return out.col(0).cast<std::int64_t>(); }

}  // namespace

#define GAUSSMIX_QUERIES(T)                                                                             \
  Vector<std::int64_t> GaussianMixture::predict(const Eigen::Ref<const RowMatrix<T>>& X) const {        \
    return labels_of(query<T>(X, LogProbOutput::Labels));                                               \
  }                                                                                                     \
  RowMatrix<double> GaussianMixture::predict_proba(const Eigen::Ref<const RowMatrix<T>>& X) const {     \
    return query<T>(X, LogProbOutput::Responsibilities);                                                \
  }                                                                                                     \
  Vector<double> GaussianMixture::score_samples(const Eigen::Ref<const RowMatrix<T>>& X) const {        \
    return query<T>(X, LogProbOutput::ScoreSamples).col(0);                                             \
  }                                                                                                     \
  double GaussianMixture::score(const Eigen::Ref<const RowMatrix<T>>& X) const {                        \
    require_rows<T>(X);                                                                                 \
    return score_samples(X).mean();                                                                     \
  }                                                                                                     \
  double GaussianMixture::bic(const Eigen::Ref<const RowMatrix<T>>& X) const {                          \
    const double m = static_cast<double>(X.rows());                                                     \
    return -2.0 * score(X) * m + static_cast<double>(n_parameters()) * std::log(m);                     \
  }                                                                                                     \
  double GaussianMixture::aic(const Eigen::Ref<const RowMatrix<T>>& X) const {                          \
    return -2.0 * score(X) * static_cast<double>(X.rows()) + 2.0 * static_cast<double>(n_parameters()); \
  }
GAUSSMIX_QUERIES(double)
GAUSSMIX_QUERIES(float)
#undef GAUSSMIX_QUERIES

Samples GaussianMixture::sample(Index n, std::uint64_t seed) const {
  const Mixture& mix = mixture();
  if (n < 1) throw InvalidArgument("sample needs n >= 1, got " + std::to_string(n));
  const Index k = mix.n_components(), d = mix.n_features();
  detail::Random rng(seed);

  // Component counts from n categorical draws on the cumulative weights.
  Vector<double> cumulative(k);
  std::partial_sum(mix.weights.data(), mix.weights.data() + k, cumulative.data());
  std::vector<Index> counts(static_cast<std::size_t>(k), 0);
  for (Index i = 0; i < n; ++i) {
    const double u = rng.uniform() * cumulative[k - 1];
    Index c = std::upper_bound(cumulative.data(), cumulative.data() + k, u) - cumulative.data();
    c = std::min(c, k - 1);
    while (c > 0 && mix.weights[c] <= 0.0) --c;  // never a zero-weight component
    ++counts[static_cast<std::size_t>(c)];
  }

  Samples out;
  out.X.resize(n, d);
  out.labels.resize(n);
  Index row = 0;
  for (Index c = 0; c < k; ++c) {
    const Index count = counts[static_cast<std::size_t>(c)];
    if (count == 0) continue;
    RowMatrix<double> z(count, d);
    for (Index i = 0; i < count; ++i)
      for (Index j = 0; j < d; ++j) z(i, j) = rng.normal();
    // x = mean + A z with A A^T the covariance, A as the structure has it.
    detail::structure(mix.covariance_type).scale_draws(mix, c, z);
    auto block = out.X.middleRows(row, count);
    block = z;
    block.rowwise() += mix.means.row(c);
    out.labels.segment(row, count).setConstant(c);
    row += count;
  }
  return out;
}

GaussianMixture fit(const Eigen::Ref<const RowMatrix<double>>& X, const FitOptions& options,
                    const SampleWeights& sample_weight) {
  GaussianMixture model;
  model.fit(X, options, sample_weight);
  return model;
}

GaussianMixture fit(const Eigen::Ref<const RowMatrix<float>>& X, const FitOptions& options,
                    const SampleWeights& sample_weight) {
  GaussianMixture model;
  model.fit(X, options, sample_weight);
  return model;
}

}  // namespace gaussmix
