// Model-based hierarchical agglomeration under the unconstrained (VVV) criterion, and the scaled
// SVD coordinates it runs on: mclust's start for EM.
#include "gaussmix/hierarchy.hpp"

#include "detail/parallel.hpp"
#include "gaussmix/errors.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace gaussmix {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// Masses of the rows: weights rescaled to mean 1, so that equal weights count rows.
Vector<double> row_masses(const SampleWeights& w, Index m) {
  if (w.size() == 0) return Vector<double>::Ones(m);
  if (w.size() != m)
    throw InvalidArgument("sample_weight has " + std::to_string(w.size()) + " entries for " + std::to_string(m) +
                          " rows");
  if (!w.allFinite() || (w.array() <= 0.0).any())
    throw InvalidArgument("the hierarchical start needs finite positive weights (drop zero-weight rows first)");
  return w * (static_cast<double>(m) / w.sum());
}

// One cluster of the agglomeration: its mass l, mean, scatter W about the mean (left empty
// while it is zero, as for a single row), tr W and its term of the criterion.
struct Cluster {
  double mass = 0.0;
  Eigen::VectorXd mean;
  Eigen::MatrixXd scatter;
  double trace = 0.0;
  double term = 0.0;
};

// The criterion's term of one cluster, l log(det(W / l) + (tr W + alpha) / l). While l <= n the
// scatter is singular and only the trace part is used, as when W / l has no Cholesky factor.
class Criterion {
 public:
  Criterion(Index n_features, double alpha) : n_(n_features), alpha_(alpha) {}

  double term(double mass, double trace, double log_det) const {
    const double t = (trace + alpha_) / mass;
    if (log_det == kNegInf) return mass * std::log(t);
    // log(exp(log_det) + t) without overflowing exp in either direction.
    if (log_det <= 0.0) return mass * std::log(std::exp(log_det) + t);
    return mass * (log_det + std::log1p(t * std::exp(-log_det)));
  }

  // log det(W / l), or -inf when W / l is not numerically positive definite.
  double log_det(const Eigen::MatrixXd& scatter, double mass, Eigen::LLT<Eigen::MatrixXd>& llt) const {
    llt.compute(scatter / mass);
    if (llt.info() != Eigen::Success) return kNegInf;
    double sum = 0.0;
    for (Index j = 0; j < n_; ++j) {
      const double d = llt.matrixLLT()(j, j);
      if (!(d > 0.0)) return kNegInf;
      sum += std::log(d);
    }
    return 2.0 * sum;
  }

  bool needs_det(double mass) const { return mass > static_cast<double>(n_); }

 private:
  Index n_;
  double alpha_;
};

// Scratch of one thread evaluating merges.
struct MergeScratch {
  Eigen::VectorXd diff;
  Eigen::MatrixXd scatter;
  Eigen::LLT<Eigen::MatrixXd> llt;
  explicit MergeScratch(Index n) : diff(n), scatter(n, n), llt(n) {}
};

// The union of a and b: its mass, trace and, when the determinant part applies, its scatter
// (left in s.scatter). Returns the union's term.
double merged_term(const Cluster& a, const Cluster& b, const Criterion& crit, MergeScratch& s) {
  const double mass = a.mass + b.mass;
  const double c = a.mass * b.mass / mass;
  s.diff = a.mean - b.mean;
  const double trace = a.trace + b.trace + c * s.diff.squaredNorm();
  if (!crit.needs_det(mass)) return crit.term(mass, trace, kNegInf);
  s.scatter.noalias() = c * s.diff * s.diff.transpose();
  if (a.scatter.size() != 0) s.scatter += a.scatter;
  if (b.scatter.size() != 0) s.scatter += b.scatter;
  return crit.term(mass, trace, crit.log_det(s.scatter, mass, s.llt));
}

}  // namespace

Vector<std::int64_t> Hierarchy::labels(Index k) const {
  if (k < 1 || k > n_rows)
    throw InvalidArgument("a hierarchy of " + std::to_string(n_rows) + " rows cuts into 1 to " +
                          std::to_string(n_rows) + " clusters, not " + std::to_string(k));
  std::vector<Index> parent(static_cast<std::size_t>(n_rows));
  for (Index i = 0; i < n_rows; ++i) parent[static_cast<std::size_t>(i)] = i;
  for (Index s = 0; s < n_rows - k; ++s) parent[static_cast<std::size_t>(merges(s, 1))] = merges(s, 0);
  // A cluster's name is its smallest row, so each row's root lies at or before it: one forward
  // sweep resolves every chain.
  Vector<std::int64_t> out(n_rows);
  std::vector<std::int64_t> label_of(static_cast<std::size_t>(n_rows), -1);
  std::int64_t next = 0;
  for (Index i = 0; i < n_rows; ++i) {
    auto& p = parent[static_cast<std::size_t>(i)];
    p = parent[static_cast<std::size_t>(p)];
    auto& label = label_of[static_cast<std::size_t>(p)];
    if (label < 0) label = next++;
    out[i] = label;
  }
  return out;
}

Hierarchy agglomerate(const Eigen::Ref<const RowMatrix<double>>& Z, const SampleWeights& sample_weight, int n_threads,
                      const std::function<void()>& should_stop) {
  const Index m = Z.rows(), n = Z.cols();
  if (m < 1 || n < 1) throw InvalidArgument("the hierarchical start needs at least one row and one feature");
  if (!Z.allFinite()) throw InvalidArgument("the hierarchical start's data contain NaN or infinity");
  const Vector<double> mass = row_masses(sample_weight, m);

  // alpha: the mean variance per feature of all rows (mclust scales it by its alpha = 1).
  const Eigen::RowVectorXd centre = (mass.transpose() * Z) / mass.sum();
  double total = 0.0;
  for (Index i = 0; i < m; ++i) total += mass[i] * (Z.row(i) - centre).squaredNorm();
  const double alpha = std::max(total / (mass.sum() * static_cast<double>(n)), std::numeric_limits<double>::epsilon());
  const Criterion crit(n, alpha);

  std::vector<Cluster> clusters(static_cast<std::size_t>(m));
  for (Index i = 0; i < m; ++i) {
    Cluster& c = clusters[static_cast<std::size_t>(i)];
    c.mass = mass[i];
    c.mean = Z.row(i).transpose();
    c.term = crit.term(c.mass, 0.0, kNegInf);
  }
  auto cluster = [&](Index i) -> Cluster& { return clusters[static_cast<std::size_t>(i)]; };

  Hierarchy tree;
  tree.n_rows = m;
  tree.merges.resize(std::max<Index>(m - 1, 0), 2);
  tree.costs.resize(std::max<Index>(m - 1, 0));
  Index step = 0;

  // Identical rows are one cluster from the start, as in mclust (their merges are the first
  // steps of the tree, in row order): merging them first by the criterion alone would interleave
  // them with other cheap merges depending on the group sizes.
  std::vector<Index> active;
  active.reserve(static_cast<std::size_t>(m));
  {
    std::vector<Index> order(static_cast<std::size_t>(m));
    for (Index i = 0; i < m; ++i) order[static_cast<std::size_t>(i)] = i;
    auto row_less = [&](Index i, Index j) {
      for (Index f = 0; f < n; ++f)
        if (Z(i, f) != Z(j, f)) return Z(i, f) < Z(j, f);
      return i < j;
    };
    std::sort(order.begin(), order.end(), row_less);
    std::vector<Index> first_of(static_cast<std::size_t>(m));
    for (std::size_t t = 0; t < order.size(); ++t) {
      const bool same = t > 0 && Z.row(order[t]) == Z.row(order[t - 1]);
      first_of[static_cast<std::size_t>(order[t])] = same ? first_of[static_cast<std::size_t>(order[t - 1])] : order[t];
    }
    for (Index i = 0; i < m; ++i) {
      const Index a = first_of[static_cast<std::size_t>(i)];
      if (a == i) {
        active.push_back(i);
        continue;
      }
      Cluster &ca = cluster(a), &cb = cluster(i);
      const double union_term = crit.term(ca.mass + cb.mass, 0.0, kNegInf);
      tree.merges(step, 0) = a;
      tree.merges(step, 1) = i;
      tree.costs[step++] = union_term - ca.term - cb.term;
      ca.mass += cb.mass;
      ca.term = union_term;
      cb = Cluster();
    }
  }
  const Index n_start = static_cast<Index>(active.size());

  // delta(i, j): the criterion's increase if i and j merged, kept for every active pair.
  Eigen::MatrixXd delta(m, m);
  const int threads = detail::resolve_threads(n_threads);

#pragma omp parallel num_threads(threads) if (n_start > 64)
  {
    MergeScratch scratch(n);
#pragma omp for schedule(dynamic, 16)
    for (Index s = 0; s < n_start; ++s)
      for (Index t = s + 1; t < n_start; ++t) {
        const Index i = active[static_cast<std::size_t>(s)], j = active[static_cast<std::size_t>(t)];
        const double d = merged_term(cluster(i), cluster(j), crit, scratch) - cluster(i).term - cluster(j).term;
        delta(i, j) = d;
        delta(j, i) = d;
      }
  }

  // Each active cluster's best partner (smallest delta, ties to the smaller row).
  std::vector<Index> best(static_cast<std::size_t>(m), -1);
  std::vector<double> best_delta(static_cast<std::size_t>(m), std::numeric_limits<double>::infinity());
  // delta is symmetric and column-major: a cluster's row is read down its column, contiguously.
  auto rescan = [&](Index i) {
    Index arg = -1;
    double low = std::numeric_limits<double>::infinity();
    const double* column = delta.data() + i * m;
    for (Index j : active)
      if (j != i && (arg < 0 || column[j] < low)) {
        arg = j;
        low = column[j];
      }
    best[static_cast<std::size_t>(i)] = arg;
    best_delta[static_cast<std::size_t>(i)] = low;
  };
  for (Index i : active) rescan(i);

  MergeScratch scratch(n);
  std::vector<Index> stale;
  for (; step + 1 < m; ++step) {
    if (should_stop) should_stop();
    Index first = -1;
    for (Index i : active)
      if (first < 0 || best_delta[static_cast<std::size_t>(i)] < best_delta[static_cast<std::size_t>(first)]) first = i;
    const Index a = std::min(first, best[static_cast<std::size_t>(first)]);
    const Index b = std::max(first, best[static_cast<std::size_t>(first)]);
    tree.merges(step, 0) = a;
    tree.merges(step, 1) = b;
    tree.costs[step] = delta(a, b);

    // b joins a: the union's moments (the scatter gains the between-means term).
    Cluster &ca = cluster(a), &cb = cluster(b);
    const double union_term = merged_term(ca, cb, crit, scratch);
    const double union_mass = ca.mass + cb.mass;
    const double c = ca.mass * cb.mass / union_mass;
    const Eigen::VectorXd diff = ca.mean - cb.mean;
    Eigen::MatrixXd scatter = c * diff * diff.transpose();
    if (ca.scatter.size() != 0) scatter += ca.scatter;
    if (cb.scatter.size() != 0) scatter += cb.scatter;
    ca.trace = ca.trace + cb.trace + c * diff.squaredNorm();
    ca.mean = (ca.mass * ca.mean + cb.mass * cb.mean) / union_mass;
    ca.mass = union_mass;
    ca.scatter = std::move(scatter);
    ca.term = union_term;
    cb = Cluster();
    active.erase(std::find(active.begin(), active.end(), b));

    const Index n_active = static_cast<Index>(active.size());
    // A step's updates run in parallel only when they are worth a millisecond or so: a region
    // per step costs a barrier, which on a busy machine (threads descheduled) can cost far more.
    const bool parallel = static_cast<double>(n_active) * static_cast<double>(n * n * n) > 2.0e6;
#pragma omp parallel num_threads(threads) if (parallel)
    {
      MergeScratch local(n);
#pragma omp for schedule(static)
      for (Index t = 0; t < n_active; ++t) {
        const Index x = active[static_cast<std::size_t>(t)];
        if (x == a) continue;
        const double d = merged_term(cluster(a), cluster(x), crit, local) - cluster(a).term - cluster(x).term;
        delta(a, x) = d;
        delta(x, a) = d;
      }
    }
    // Each cluster's best partner after the merge. Only delta(x, a) changed (and b is gone), so
    // a full rescan is needed only when x's best was a or b and the union is now worse for x
    // than that best was; otherwise a is x's best or its best stays. Both give exactly what a
    // rescan would, ties included (every other entry is above the old best, or equal and later).
    stale.clear();
    for (Index x : active) {
      if (x == a) continue;
      const auto xs = static_cast<std::size_t>(x);
      const Index bx = best[xs];
      const double with_a = delta(x, a);
      if (bx == a || bx == b) {
        if (with_a <= best_delta[xs]) {
          best[xs] = a;
          best_delta[xs] = with_a;
        } else {
          stale.push_back(x);
        }
      } else if (with_a < best_delta[xs] || (with_a == best_delta[xs] && a < bx)) {
        best[xs] = a;
        best_delta[xs] = with_a;
      }
    }
    stale.push_back(a);
    for (Index x : stale) rescan(x);
  }
  return tree;
}

template <typename T>
RowMatrix<double> scaled_svd(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight) {
  const Index m = X.rows(), n = X.cols();
  if (m < 2) throw InvalidArgument("the scaled SVD needs at least 2 rows");
  const Vector<double> mass = row_masses(sample_weight, m);
  const double total = mass.sum();
  const RowMatrix<double> Xd = X.template cast<double>();
  const Eigen::RowVectorXd mean = (mass.transpose() * Xd) / total;
  RowMatrix<double> centred = Xd.rowwise() - mean;
  // Standard deviations with the (l - 1) denominator of R's scale(), rows counted by mass.
  const Eigen::RowVectorXd var = (mass.transpose() * centred.array().square().matrix()) / std::max(total - 1.0, 1.0);
  std::vector<Index> kept;
  for (Index j = 0; j < n; ++j)
    if (var[j] > 0.0 && std::isfinite(var[j])) kept.push_back(j);
  if (kept.empty()) return RowMatrix<double>::Zero(m, 1);
  const Index p = static_cast<Index>(kept.size());
  RowMatrix<double> S(m, p);
  for (Index t = 0; t < p; ++t) {
    const Index j = kept[static_cast<std::size_t>(t)];
    S.col(t) = centred.col(j) / std::sqrt(var[j]);
  }
  // The right singular vectors and values of diag(sqrt(mass)) S, from the eigenvectors of S' M S.
  const Eigen::MatrixXd gram = S.transpose() * mass.asDiagonal() * S;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram);
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  const double floor = lambda.maxCoeff() * static_cast<double>(p) * std::numeric_limits<double>::epsilon();
  std::vector<Index> axes;
  for (Index j = p - 1; j >= 0; --j)  // largest first, as an SVD orders them
    if (lambda[j] > floor) axes.push_back(j);
  Eigen::MatrixXd projection(p, static_cast<Index>(axes.size()));
  for (std::size_t t = 0; t < axes.size(); ++t) {
    const Index j = axes[t];
    // divided by sqrt(singular value) = lambda^(1/4)
    projection.col(static_cast<Index>(t)) = eig.eigenvectors().col(j) / std::pow(lambda[j], 0.25);
  }
  return S * projection;
}

template RowMatrix<double> scaled_svd<float>(const Eigen::Ref<const RowMatrix<float>>&, const SampleWeights&);
template RowMatrix<double> scaled_svd<double>(const Eigen::Ref<const RowMatrix<double>>&, const SampleWeights&);

}  // namespace gaussmix
