// k-means++ seeding and Lloyd iterations for initialising EM, threaded deterministically.
#include "detail/fixed_size.hpp"
#include "detail/parallel.hpp"
#include "gaussmix/errors.hpp"
#include "gaussmix/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace gaussmix {

namespace {

// Uniform doubles in [0, 1) from the top 53 bits: the same stream on every platform (the
// standard distributions are implementation-defined).
struct Rng {
  std::mt19937_64 gen;
  explicit Rng(std::uint64_t seed) : gen(seed) {}
  double uniform() { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }
};

constexpr Index kRowsPerBlock = 2048;

Vector<double> weights_or_ones(const SampleWeights& w, Index m) {
  if (w.size() == 0) return Vector<double>::Ones(m);
  if (w.size() != m) throw InvalidArgument("sample_weight must have one entry per sample");
  return w;
}

// Rows per block of the k-means++ passes. The blocks are also the coarse level of the D^2 draws:
// each pass leaves the sum of w * closest of every block, so a draw scans the block sums and
// then one block instead of keeping running sums over all m rows.
//
// The passes take each distance directly along its row. Measured against a transposed block
// (vectorised across rows) and against |x|^2 + |p|^2 - 2 x.p from a matrix product, the direct
// form was the fastest for n = 8 to 64, and it is exact: a row equal to a seed gets 0.
constexpr Index kSeedBlock = 256;

// The rows drawn so far and the squared distance of every row to the closest of them, with the
// per-block sums of w * closest that the draws use.
struct Seeding {
  Vector<double> closest;
  Vector<double> block_potential;
  double potential = 0.0;
};

// Draws a row with probability proportional to w_i * closest_i: u in [0, potential) picks the
// block whose running sum first exceeds u, then the row inside it. Rounding can leave u past the
// running sums; the last row with a positive share is taken then.
Index draw_row(const Seeding& s, const Vector<double>& w, double u) {
  const Index m = s.closest.size(), n_blocks = s.block_potential.size();
  double run = 0.0;
  Index blk = 0, last_positive = -1;
  for (; blk < n_blocks; ++blk) {
    if (s.block_potential[blk] > 0.0) last_positive = blk;
    if (run + s.block_potential[blk] > u) break;
    run += s.block_potential[blk];
  }
  if (blk == n_blocks) {
    blk = last_positive;
    run = 0.0;
    for (Index b = 0; b < blk; ++b) run += s.block_potential[b];
  }
  Index row = -1;
  for (Index i = blk * kSeedBlock, end = std::min(m, i + kSeedBlock); i < end; ++i) {
    const double share = w[i] * s.closest[i];
    if (share > 0.0) {
      row = i;
      run += share;
      if (run > u) break;
    }
  }
  return row;
}

// Squared distance between the row at x and a point p held in double. N > 0 fixes the feature
// count at compile time, so the difference and its sum run in whole registers: a dynamic-size
// reduction pays its loop setup at every call, and k-means++ makes m (trials + 1) calls per seed.
template <int N, typename T>
double row_distance(const T* x, const double* p, Index n) {
  if constexpr (N > 0) {
    return (Eigen::Map<const Eigen::Matrix<T, N, 1>>(x).template cast<double>() -
            Eigen::Map<const Eigen::Matrix<double, N, 1>>(p))
        .squaredNorm();
  } else {
    return (Eigen::Map<const Vector<T>>(x, n).template cast<double>() - Eigen::Map<const Vector<double>>(p, n))
        .squaredNorm();
  }
}

// Feature counts up to this get distance code compiled for their size.
constexpr int kFixedDistanceFeatures = 16;

// Adds a seed: closest_i becomes min(closest_i, |x_i - point|^2) (or that distance for the first
// seed), and the block sums of w * closest are refreshed in the same pass.
template <typename T>
void add_seed(const Eigen::Ref<const RowMatrix<T>>& X, const Vector<double>& w, Index seed_row, bool first, Seeding& s,
              int n_threads, const std::function<void()>& should_stop) {
  const Index n = X.cols();
  const auto part = detail::partition_rows(X.rows(), kSeedBlock, 64);
  const Eigen::RowVectorXd p = X.row(seed_row).template cast<double>();
  detail::with_fixed_size<1, kFixedDistanceFeatures>(n, [&](auto fixed) {
    constexpr int N = decltype(fixed)::value;
    detail::for_each_slot(
        part, n_threads,
        [&](Index, Index begin, Index end) {
          for (Index b = begin; b < end; b += kSeedBlock) {
            detail::poll_stop(should_stop);
            const Index rows = std::min(kSeedBlock, end - b);
            double block_sum = 0.0;
            for (Index i = b; i < b + rows; ++i) {
              const double d = row_distance<N, T>(X.data() + i * X.outerStride(), p.data(), n);
              double& c = s.closest[i];
              c = first ? d : std::min(c, d);
              block_sum += w[i] * c;
            }
            s.block_potential[b / kSeedBlock] = block_sum;
          }
        },
        should_stop);
  });
  s.potential = s.block_potential.sum();
}

// For each candidate row, the potential sum_i w_i min(closest_i, |x_i - x_cand|^2) it would give,
// all candidates in one pass. Per-slot partial sums merged in slot order: the same result for
// any number of threads.
template <typename T>
Vector<double> candidate_potentials(const Eigen::Ref<const RowMatrix<T>>& X, const Vector<double>& w,
                                    const Vector<double>& closest, const std::vector<Index>& cands, int n_threads,
                                    const std::function<void()>& should_stop) {
  const Index t_count = static_cast<Index>(cands.size()), n = X.cols();
  RowMatrix<double> points(t_count, n);
  for (Index t = 0; t < t_count; ++t) points.row(t) = X.row(cands[t]).template cast<double>();
  const auto part = detail::partition_rows(X.rows(), kSeedBlock, 64);
  RowMatrix<double> partial = RowMatrix<double>::Zero(part.n_slots, t_count);
  detail::with_fixed_size<1, kFixedDistanceFeatures>(n, [&](auto fixed) {
    constexpr int N = decltype(fixed)::value;
    detail::for_each_slot(
        part, n_threads,
        [&](Index s, Index begin, Index end) {
          Vector<double> sums = Vector<double>::Zero(t_count);
          for (Index b = begin; b < end; b += kSeedBlock) {
            detail::poll_stop(should_stop);
            for (Index i = b, stop = std::min(end, b + kSeedBlock); i < stop; ++i) {
              const T* x = X.data() + i * X.outerStride();
              for (Index t = 0; t < t_count; ++t)
                sums[t] += w[i] * std::min(closest[i], row_distance<N, T>(x, points.row(t).data(), n));
            }
          }
          partial.row(s) = sums.transpose();
        },
        should_stop);
  });
  Vector<double> total = Vector<double>::Zero(t_count);
  for (Index s = 0; s < part.n_slots; ++s) total += partial.row(s).transpose();
  return total;
}

// Weighted mean and mean per-feature variance: two threaded passes (the mean, then the spread
// about it), each summed per slot and merged in slot order, so the result does not depend on the
// thread count.
template <typename T>
std::pair<Vector<double>, double> weighted_mean_and_variance(const Eigen::Ref<const RowMatrix<T>>& X,
                                                             const Vector<double>& w, int n_threads,
                                                             const std::function<void()>& should_stop) {
  const Index n = X.cols();
  const double total = w.sum();
  const auto part = detail::partition_rows(X.rows(), kRowsPerBlock, 64);
  RowMatrix<double> partial_sums = RowMatrix<double>::Zero(part.n_slots, n);
  detail::for_each_slot(
      part, n_threads,
      [&](Index s, Index begin, Index end) {
        detail::poll_stop(should_stop);
        partial_sums.row(s) =
            w.segment(begin, end - begin).transpose() * X.middleRows(begin, end - begin).template cast<double>();
      },
      should_stop);
  const Vector<double> mean = partial_sums.colwise().sum().transpose() / total;
  Vector<double> partial_var = Vector<double>::Zero(part.n_slots);
  detail::for_each_slot(
      part, n_threads,
      [&](Index s, Index begin, Index end) {
        detail::poll_stop(should_stop);
        double var = 0.0;
        for (Index i = begin; i < end; ++i)
          var += w[i] * (X.row(i).template cast<double>() - mean.transpose()).squaredNorm();
        partial_var[s] = var;
      },
      should_stop);
  return {mean, partial_var.sum() / (total * static_cast<double>(n))};
}

// The sums of one Lloyd assignment: per cluster the weighted sums of the (centred) rows and
// their weights, the weighted inertia, and how many labels changed.
struct AssignTotals {
  RowMatrix<double> sums;
  Vector<double> counts;
  double inertia = 0;
  Index changed = 0;
};

// Assigns every row to its closest centre (`ctr`, about `mean`): labels and squared distances
// into `labels` and `min_dist`, and the per-cluster sums merged in slot order.
template <typename T>
AssignTotals assign_pass(const Eigen::Ref<const RowMatrix<T>>& X, const Vector<double>& w, const Vector<double>& mean,
                         const RowMatrix<double>& ctr, const detail::RowPartition& part, int n_threads,
                         Vector<std::int64_t>& labels, Vector<double>& min_dist,
                         const std::function<void()>& should_stop) {
  const Index k = ctr.rows(), n = X.cols();
  // Labels as wide as the scores, so that the vectorised minimum keeps them in lanes of its own.
  using Label = std::conditional_t<sizeof(T) == 8, std::int64_t, std::int32_t>;
  const RowMatrix<T> C = ctr.cast<T>();
  const Vector<T> cn = C.rowwise().squaredNorm();
  std::vector<AssignTotals> partial(part.n_slots);
  detail::for_each_slot(
      part, n_threads,
      [&](Index s, Index begin, Index end) {
        AssignTotals& p = partial[s];
        p.sums = RowMatrix<double>::Zero(k, n);
        p.counts = Vector<double>::Zero(k);
        RowMatrix<T> xc;
        // Column-major: a centre's scores are contiguous over the rows.
        Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> scores;
        Vector<T> best_score;
        std::vector<Label> best(kRowsPerBlock);
        for (Index r0 = begin; r0 < end; r0 += kRowsPerBlock) {
          const Index rows = std::min(kRowsPerBlock, end - r0);
          xc = (X.middleRows(r0, rows).template cast<double>().rowwise() - mean.transpose()).template cast<T>();
          scores.noalias() = xc * C.transpose();
          // |x - c|^2 = |x|^2 + (|c|^2 - 2 x.c): the first term is the same for every centre, so
          // the closest centre minimises the second. The minimum runs centre by centre over all
          // rows, which vectorises across rows; a running minimum along each row would wait on
          // the previous comparison at every step.
          best_score = (cn[0] - T(2) * scores.col(0).array()).matrix();
          std::fill(best.begin(), best.begin() + rows, Label(0));
          for (Index c = 1; c < k; ++c) {
            const T* col = scores.col(c).data();
            const T cc = cn[c];
            T* bs = best_score.data();
            Label* bl = best.data();
            for (Index i = 0; i < rows; ++i) {
              const T score = cc - T(2) * col[i];
              const bool closer = score < bs[i];  // ties keep the lower index
              bs[i] = closer ? score : bs[i];
              bl[i] = closer ? static_cast<Label>(c) : bl[i];
            }
          }
          for (Index i = 0; i < rows; ++i) {
            const Index row = r0 + i, label = best[i];
            const double dist = std::max(0.0, static_cast<double>(xc.row(i).squaredNorm() + best_score[i]));
            min_dist[row] = dist;
            if (labels[row] != label) ++p.changed;
            labels[row] = label;
            p.sums.row(label) += w[row] * xc.row(i).template cast<double>();
            p.counts[label] += w[row];
            p.inertia += w[row] * dist;
          }
        }
      },
      should_stop);
  AssignTotals total{RowMatrix<double>::Zero(k, n), Vector<double>::Zero(k), 0.0, 0};
  for (const auto& p : partial) {
    total.sums += p.sums;
    total.counts += p.counts;
    total.inertia += p.inertia;
    total.changed += p.changed;
  }
  return total;
}

}  // namespace

template <typename T>
Vector<std::int64_t> kmeans_plusplus(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                                     Index k, std::uint64_t seed, int n_threads,
                                     const std::function<void()>& should_stop) {
  const Index m = X.rows();
  if (k < 1) throw InvalidArgument("k must be at least 1");
  const Vector<double> w = weights_or_ones(sample_weight, m);
  const Index positive = (w.array() > 0).count();
  if (positive < k)
    throw InvalidArgument("k-means++ needs at least k = " + std::to_string(k) + " samples with positive weight, got " +
                          std::to_string(positive));
  Rng rng(seed);
  Vector<std::int64_t> chosen(k);
  std::vector<char> taken(m, 0);
  Seeding seeding;
  seeding.closest.resize(m);
  seeding.block_potential.resize((m + kSeedBlock - 1) / kSeedBlock);

  // First centre: a row drawn with probability proportional to its weight.
  {
    const double u = rng.uniform() * w.sum();
    double run = 0.0;
    chosen[0] = -1;
    for (Index i = 0; i < m && !(run > u); ++i) {
      if (w[i] > 0.0) {
        chosen[0] = i;
        run += w[i];
      }
    }
  }
  taken[chosen[0]] = 1;
  add_seed<T>(X, w, chosen[0], true, seeding, n_threads, should_stop);
  // Squared distances beyond the double range would make every candidate's potential infinite,
  // so none would ever be chosen; refuse such data instead of seeding from garbage.
  if (!seeding.closest.allFinite())
    throw InvalidArgument(
        "squared distances between samples overflow double precision (the data "
        "reach about 1e154 or more); rescale the data");

  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  for (Index c = 1; c < k; ++c) {
    Index best = -1;
    if (!(seeding.potential > 0.0)) {
      // Every weighted row coincides with a centre: take the next untaken weighted row in a
      // random order so the seeds stay distinct rows.
      const Index start = static_cast<Index>(rng.uniform() * static_cast<double>(m));
      for (Index j = 0; j < m && best < 0; ++j) {
        const Index i = (start + j) % m;
        if (!taken[i] && w[i] > 0) best = i;
      }
    } else {
      // All candidates are drawn first (the draws depend only on `closest`), then scored in one
      // pass over the data instead of one pass each; the winner's distances are recomputed in
      // the pass that updates `closest`, so no (m) vector is kept per candidate.
      std::vector<Index> cands(trials);
      for (int t = 0; t < trials; ++t) cands[t] = draw_row(seeding, w, rng.uniform() * seeding.potential);
      const Vector<double> pots = candidate_potentials<T>(X, w, seeding.closest, cands, n_threads, should_stop);
      double best_potential = std::numeric_limits<double>::infinity();
      for (int t = 0; t < trials; ++t) {
        if (best < 0 || pots[t] < best_potential) {
          best_potential = pots[t];
          best = cands[t];
        }
      }
    }
    chosen[c] = best;
    taken[best] = 1;
    add_seed<T>(X, w, best, false, seeding, n_threads, should_stop);
  }
  return chosen;
}

template <typename T>
KMeansResult kmeans(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight, Index k,
                    const KMeansOptions& options, const std::function<void()>& should_stop) {
  const Index m = X.rows(), n = X.cols();
  if (options.max_iter < 1) throw InvalidArgument("k-means max_iter must be at least 1");
  const Vector<double> w = weights_or_ones(sample_weight, m);
  const Vector<std::int64_t> seeds =
      kmeans_plusplus<T>(X, sample_weight, k, options.seed, options.n_threads, should_stop);

  // Work on rows centred at the weighted mean so that |x|^2 - 2 x.c + |c|^2 does not cancel
  // catastrophically for data far from the origin.
  const auto [mean, mean_var] = weighted_mean_and_variance<T>(X, w, options.n_threads, should_stop);
  const double tol = options.tol * mean_var;

  KMeansResult result;
  RowMatrix<double> centers(k, n);
  for (Index c = 0; c < k; ++c) centers.row(c) = X.row(seeds[c]).template cast<double>() - mean.transpose();
  result.labels = Vector<std::int64_t>::Constant(m, -1);
  Vector<double> min_dist(m);

  const auto part = detail::partition_rows(m, kRowsPerBlock, 64);
  auto assign = [&](const RowMatrix<double>& ctr) {
    return assign_pass<T>(X, w, mean, ctr, part, options.n_threads, result.labels, min_dist, should_stop);
  };

  for (int iter = 1; iter <= options.max_iter; ++iter) {
    if (should_stop) should_stop();
    const AssignTotals totals = assign(centers);
    result.n_iter = iter;
    result.inertia = totals.inertia;
    if (iter > 1 && totals.changed == 0) break;  // labels stable: centres already their means
    RowMatrix<double> updated = centers;
    for (Index c = 0; c < k; ++c) {
      if (totals.counts[c] > 0) {
        updated.row(c) = totals.sums.row(c) / totals.counts[c];
      } else {
        // Empty cluster: move it to the weighted row farthest from its centre.
        Index far = 0;
        (min_dist.array() * (w.array() > 0).cast<double>()).maxCoeff(&far);
        updated.row(c) = X.row(far).template cast<double>() - mean.transpose();
        min_dist[far] = 0.0;
      }
    }
    const double shift = (updated - centers).squaredNorm();
    centers = updated;
    if (shift <= tol) {
      // Converged on the centres: relabel once so labels match the final centres.
      const AssignTotals last = assign(centers);
      result.inertia = last.inertia;
      break;
    }
  }
  result.centers = centers.rowwise() + mean.transpose();
  return result;
}

template <typename T>
CenterAssignment assign_to_centers(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                                   const RowMatrix<double>& centers, const Vector<double>& origin, int n_threads,
                                   const std::function<void()>& should_stop) {
  const Index m = X.rows(), n = X.cols();
  if (centers.rows() < 1 || centers.cols() != n) throw InvalidArgument("centers must be (k, n_features)");
  if (origin.size() != n) throw InvalidArgument("origin must have one entry per feature");
  const Vector<double> w = weights_or_ones(sample_weight, m);
  CenterAssignment out;
  out.labels = Vector<std::int64_t>::Constant(m, -1);
  out.sq_distances.resize(m);
  const RowMatrix<double> ctr = centers.rowwise() - origin.transpose();
  const auto part = detail::partition_rows(m, kRowsPerBlock, 64);
  const AssignTotals totals =
      assign_pass<T>(X, w, origin, ctr, part, n_threads, out.labels, out.sq_distances, should_stop);
  out.sums = totals.sums;
  out.counts = totals.counts;
  out.inertia = totals.inertia;
  return out;
}

#define GAUSSMIX_INSTANTIATE(T)                                                                                        \
  template Vector<std::int64_t> kmeans_plusplus<T>(const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&, Index, \
                                                   std::uint64_t, int, const std::function<void()>&);                  \
  template KMeansResult kmeans<T>(const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&, Index,                  \
                                  const KMeansOptions&, const std::function<void()>&);                                 \
  template CenterAssignment assign_to_centers<T>(const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&,          \
                                                 const RowMatrix<double>&, const Vector<double>&, int,                 \
                                                 const std::function<void()>&);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix
