// Pruned label and score queries for full covariances (see detail/pruned_query.hpp).
//
// A query that reduces each row to its largest log-density (predict) or to the terms near it
// (score_samples) needs few of the k log-densities exactly once the clusters are apart. The
// bound costs k h^2 multiply-adds a row where the whole values cost about k n^2 / 2; each row
// then pays n (n - h) more per surviving component, usually one or two.
#include "kernels/pruned_query.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

namespace gaussmix::detail {

namespace {

// Rows per product of the bound: its buffer (rows x h * group) stays in a core's cache.
constexpr Index kBoundRows = 128;

// Components per register-held chunk of the bound's sums.
constexpr Index kBoundChunk = 8;

// Where more (row, component) pairs than this fraction of the block's survive the bound, the
// survivors' products cost about as much as the whole block's: it is computed in full instead.
constexpr Index kMaxSurvivorShare = 4;  // one in four

// A pass prunes only if a sample of kProbeRows of its rows, evenly spaced, leaves at most this
// fraction of its pairs to the second pass: where most blocks would fall back, the bound's
// products and the candidates' would be wasted (35-60% more time on overlapping clusters).
constexpr Index kProbeRows = 256;
constexpr Index kProbeSurvivorShare = 8;  // one in eight

// Survivors of the first bound get a second one from 2h features where that leaves at least a
// quarter of the features to the whole values (n = 64: 16, then 32); at most half of the
// block's pairs may survive the first (their second bound costs about a sixth of a whole value).
constexpr Index kMaxFirstSurvivorShare = 2;

template <typename T>
Index second_bound_features(const FullFactors<T>& p, Index h) {
  return 2 * h <= p.n - p.n / 4 ? 2 * h : 0;
}

// out[w] = sum_{j < count} (y[j*g + w] - off[j*g + w])^2 for w < W: the partial squared norms of
// W components whose columns lie g apart (the layout of Prepared::stacked).
template <typename T, Index W>
inline void partial_squared_norms(const T* y, const T* off, Index g, Index count, T* out) {
  T acc[W] = {};
  for (Index j = 0; j < count; ++j) {
    for (Index w = 0; w < W; ++w) {
      const T d = y[j * g + w] - off[j * g + w];
      acc[w] += d * d;
    }
  }
  for (Index w = 0; w < W; ++w) out[w] = acc[w];
}

// ws.partial: for every row of ws.xc and component, the squared norm of the first h columns of
// (x - m_c) U_c, from the first h features alone.
template <typename T>
void bound_terms(const FullFactors<T>& p, Index h, Index m, PrunedWorkspace<T>& ws) {
  const Index n = p.n, k = p.k;
  for (Index s = 0; s < m; s += kBoundRows) {
    const Index rows = std::min(kBoundRows, m - s);
    const auto xs = ws.xc.block(s, 0, rows, h);
    for (Index c0 = 0; c0 < k; c0 += p.group) {
      const Index g = std::min(p.group, k - c0);
      auto y = ws.bound_y.topLeftCorner(rows, h * g);
      // Within a group the first h features' columns come first (feature-major layout).
      y.noalias() = xs * p.stacked.block(0, c0 * n, h, h * g);
      const T* off = p.stacked_offset.data() + c0 * n;
      for (Index i = 0; i < rows; ++i) {
        const T* yi = y.data() + i * y.outerStride();
        T* out = ws.partial.data() + (s + i) * ws.partial.outerStride() + c0;
        Index c = 0;
        for (; c + kBoundChunk <= g; c += kBoundChunk)
          partial_squared_norms<T, kBoundChunk>(yi + c, off + c, g, h, out + c);
        for (; c < g; ++c) partial_squared_norms<T, 1>(yi + c, off + c, g, h, out + c);
      }
    }
  }
}

// The bound of row i's log-density under component c: log_norm - 1/2 partial. The whole value
// is log_norm - 1/2 (partial + rest) with rest >= 0, never above it in floating point either
// (halving is exact and every step rounds monotonically).
template <typename T>
inline T upper_bound(const FullFactors<T>& p, const PrunedWorkspace<T>& ws, Index i, Index c) {
  return p.log_norm[c] - T(0.5) * ws.partial(i, c);
}

// Sorts the pairs (row, component) for which `wanted(i, c)` into ws.order, component by
// component (ws.first[c] .. ws.first[c + 1]), rows ascending within each. Returns their count.
template <typename T, class Wanted>
Index list_by_component(Index m, Index k, PrunedWorkspace<T>& ws, Wanted&& wanted) {
  auto& first = ws.first;
  std::fill(first.begin(), first.end(), Index(0));
  for (Index i = 0; i < m; ++i)
    for (Index c = 0; c < k; ++c) first[c + 1] += wanted(i, c);
  for (Index c = 0; c < k; ++c) first[c + 1] += first[c];
  auto& cursor = ws.cursor;
  std::copy(first.begin(), first.end(), cursor.begin());
  for (Index i = 0; i < m; ++i)
    for (Index c = 0; c < k; ++c)
      if (wanted(i, c)) ws.order[cursor[c]++] = i;
  return first[k];
}

// For every pair (i, c) listed in ws.order, visit(i, c, s) with s the squared norm of columns
// [from, to) of (x_i - m_c) U_c. Per component, its rows are gathered and multiplied by those
// columns of U_c in one product; column j is zero below row j, so no column needs features
// beyond `to`, and (16 columns or more) the first half of them only up to its last column.
template <typename T, class Visit>
void listed_column_norms(const FullFactors<T>& p, Index from, Index to, PrunedWorkspace<T>& ws, Visit&& visit) {
  using Strided = Eigen::Map<const RowMatrix<T>, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  const Index n = p.n, k = p.k, cols = to - from, half = cols / 2;
  for (Index c = 0; c < k; ++c) {
    const Index begin = ws.first[c], r = ws.first[c + 1] - begin;
    if (r == 0) continue;
    const Index c0 = c / p.group * p.group, g = std::min(p.group, k - c0), w = c - c0;
    auto gathered = ws.gathered.topLeftCorner(r, to);
    for (Index q = 0; q < r; ++q) gathered.row(q) = ws.xc.row(ws.order[begin + q]).head(to);
    // Columns from.. of U_c within the stacked factors (g apart), rows up to `to`.
    const Strided factor(p.stacked.data() + c0 * n + from * g + w, to, cols,
                         Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(p.stacked.outerStride(), g));
    auto y = ws.tail.topLeftCorner(r, cols);
    // Every product here has rows + columns + depth >= 20, so Eigen always takes its blocked
    // product (depth <= 64: one pass over it, in order) and never the coefficient-wise one: a
    // row's sums then do not depend on how many rows share the product, and equal components
    // get equal values. Hence no split below 16 columns.
    if (cols >= 16) {
      y.leftCols(half).noalias() = gathered.leftCols(from + half) * factor.topLeftCorner(from + half, half);
      y.rightCols(cols - half).noalias() = gathered * factor.rightCols(cols - half);
    } else {
      y.noalias() = gathered * factor;
    }
    const T* off = p.stacked_offset.data() + c0 * n + from * g + w;
    for (Index q = 0; q < r; ++q) {
      const T* yq = y.data() + q * y.outerStride();
      T sum = T(0);
      for (Index t = 0; t < cols; ++t) {
        const T d = yq[t] - off[t * g];
        sum += d * d;
      }
      visit(ws.order[begin + q], c, sum);
    }
  }
}

// Adds the squares of columns [h, h2) to the listed pairs' bounds (ws.partial).
template <typename T>
void tighten_listed_bounds(const FullFactors<T>& p, Index h, Index h2, PrunedWorkspace<T>& ws) {
  listed_column_norms(p, h, h2, ws, [&](Index i, Index c, T s) { ws.partial(i, c) += s; });
}

// The whole log-density of every listed pair into out, from its bound's squares (ws.partial,
// columns up to `from`) and those of the remaining columns.
template <typename T>
void listed_log_densities(const FullFactors<T>& p, Index from, PrunedWorkspace<T>& ws, Eigen::Ref<RowMatrix<T>> out) {
  listed_column_norms(p, from, p.n, ws, [&](Index i, Index c, T rest) {
    out(i, c) = p.log_norm[c] - T(0.5) * (ws.partial(i, c) + rest);
  });
}

// Keeps in ws.order only the listed pairs for which keep(i, c), in the same order.
template <typename T, class Keep>
Index compact_listed(Index k, PrunedWorkspace<T>& ws, Keep&& keep) {
  Index write = 0;
  for (Index c = 0; c < k; ++c) {
    const Index begin = ws.first[c], end = ws.first[c + 1];
    ws.first[c] = write;
    for (Index q = begin; q < end; ++q)
      if (keep(ws.order[q], c)) ws.order[write++] = ws.order[q];
  }
  ws.first[k] = write;
  return write;
}

}  // namespace

template <typename T>
Index pruning_features(const FullFactors<T>& p, bool scores) {
  // With fewer features the bound's product is too thin and the second pass's bookkeeping costs
  // more than the work it saves; float's fused kernels run at twice double's rate, so float
  // prunes only from more features (bench/README.md, "How the pass is made fast", has the runs).
  const Index min_features = std::is_same<T, float>::value ? 56 : 32;
  if (p.n < min_features || p.k < 4) return 0;
  // Labels: a quarter of the features, a sixteenth of the centred kernels' work. Scores keep
  // every term within the score cut, which a bound from 8 features leaves to most components
  // unless the clusters lie far apart: at least 16 (measured, bench/README.md).
  return scores ? std::max<Index>(p.n / 4, 16) : p.n / 4;
}

template <typename T>
void PrunedWorkspace<T>::reserve(const FullFactors<T>& p, Index h) {
  const Index rows = kPrunedBlockRows, n = p.n, k = p.k;
  grow(xc, rows, n);
  grow(partial, rows, k);
  grow(bound_y, kBoundRows, h * p.group);
  grow(gathered, rows, n);
  grow(tail, rows, n - h);
  grow(log_prob, rows, k);
  grow(threshold, rows, 1);
  candidate.resize(rows);
  first.resize(k + 1);
  cursor.resize(k + 1);
  order.resize(rows * k);
}

namespace {

// Everything of pruned_log_prob_block but the survivors' values: the bounds, each row's
// candidate and its value (in out, -inf elsewhere), and the survivors listed in ws, their bound
// tightened to second_bound_features columns where that applies. Returns their count, or -1
// where a row's largest is not finite (NaN or -inf: nothing to prune against; the full
// computation reports it), or m k where too many survive the first bound.
template <typename T>
Index bound_and_list_survivors(const FullFactors<T>& p, Index h, T cut, const Eigen::Ref<const RowMatrix<T>>& rows,
                               PrunedWorkspace<T>& ws, Eigen::Ref<RowMatrix<T>> out) {
  const Index m = rows.rows(), k = p.k;
  ws.xc.topRows(m) = rows.rowwise() - p.centre.transpose();
  bound_terms(p, h, m, ws);

  // Each row's component of largest bound, and its whole value.
  for (Index i = 0; i < m; ++i) {
    Index best = 0;
    T top = upper_bound(p, ws, i, 0);
    for (Index c = 1; c < k; ++c) {
      const T b = upper_bound(p, ws, i, c);
      if (b > top) {
        top = b;
        best = c;
      }
    }
    ws.candidate[i] = best;
  }
  out.setConstant(-std::numeric_limits<T>::infinity());
  list_by_component(m, k, ws, [&](Index i, Index c) { return ws.candidate[i] == c; });
  // The same steps as the survivors' below, so that equal components get equal values (ties go
  // to the lower index, as without pruning).
  const Index h2 = second_bound_features(p, h);
  if (h2 > 0) tighten_listed_bounds(p, h, h2, ws);
  listed_log_densities(p, h2 > 0 ? h2 : h, ws, out);

  // The components whose bound reaches within cut of that value.
  for (Index i = 0; i < m; ++i) {
    const T t = out(i, ws.candidate[i]) + cut;
    if (!(t > -std::numeric_limits<T>::infinity())) return -1;
    ws.threshold[i] = t;
  }
  const auto reaches = [&](Index i, Index c) {
    return c != ws.candidate[i] && upper_bound(p, ws, i, c) >= ws.threshold[i];
  };
  const Index survivors = list_by_component(m, k, ws, reaches);
  if (h2 == 0 || survivors == 0) return survivors;
  // A tighter bound for the survivors, from the next h2 - h columns, before their whole values.
  if (survivors * kMaxFirstSurvivorShare > m * k) return m * k;
  tighten_listed_bounds(p, h, h2, ws);
  return compact_listed(k, ws, reaches);
}

}  // namespace

template <typename T>
bool pruned_log_prob_block(const FullFactors<T>& p, Index h, T cut, const Eigen::Ref<const RowMatrix<T>>& rows,
                           PrunedWorkspace<T>& ws, Eigen::Ref<RowMatrix<T>> out) {
  const Index survivors = bound_and_list_survivors(p, h, cut, rows, ws, out);
  if (survivors < 0 || survivors * kMaxSurvivorShare > rows.rows() * p.k) return false;
  const Index h2 = second_bound_features(p, h);
  listed_log_densities(p, h2 > 0 ? h2 : h, ws, out);
  return true;
}

template <typename T>
bool pruning_pays(const FullFactors<T>& p, Index h, T cut, const Eigen::Ref<const RowMatrix<T>>& X,
                  PrunedWorkspace<T>& ws) {
  const Index m = X.rows(), rows = std::min(m, kProbeRows);
  if (rows == 0) return false;
  RowMatrix<T> sample(rows, p.n);
  for (Index q = 0; q < rows; ++q) sample.row(q) = X.row(q * m / rows);
  const Index survivors = bound_and_list_survivors<T>(p, h, cut, sample, ws, ws.log_prob.topRows(rows));
  return survivors >= 0 && survivors * kProbeSurvivorShare <= rows * p.k;
}

#define GAUSSMIX_INSTANTIATE(T)                                                                                  \
  template Index pruning_features<T>(const FullFactors<T>&, bool);                                               \
  template struct PrunedWorkspace<T>;                                                                            \
  template bool pruned_log_prob_block<T>(const FullFactors<T>&, Index, T, const Eigen::Ref<const RowMatrix<T>>&, \
                                         PrunedWorkspace<T>&, Eigen::Ref<RowMatrix<T>>);                         \
  template bool pruning_pays<T>(const FullFactors<T>&, Index, T, const Eigen::Ref<const RowMatrix<T>>&,          \
                                PrunedWorkspace<T>&);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
