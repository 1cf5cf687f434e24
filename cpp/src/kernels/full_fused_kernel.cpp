// The fused full-covariance kernel (more than kSmallFeatures features, float and double): each
// row's triangular products, offsets and sums of squares in registers for a register's worth of
// components at a time, and the moment sums in register tiles over sub-blocks of rows, without
// matrix products (their packing and stored intermediates cost as much as their arithmetic
// here; bench/README.md has the measurements). Label and score queries of 32 or more features
// may take the pruned route (pruned_query.hpp).
#include "kernels/full_factors.hpp"
#include "kernels/kernels.hpp"
#include "kernels/pruned_query.hpp"
#include "responsibilities.hpp"

#include "detail/fixed_size.hpp"

#include <algorithm>
#include <type_traits>

namespace gaussmix::detail {

namespace {

// Vector registers the fused kernels may plan their running sums for.
#ifdef EIGEN_VECTORIZE_AVX512
constexpr int kVectorRegisters = 32;
#else
constexpr int kVectorRegisters = 16;
#endif

// Calls f(std::integral_constant<int, W>{}, c) for chunks c..c+W that cover g components: whole
// registers of T first, then halves and quarters of one, then one at a time.
template <typename T, class F>
void for_each_chunk(Index g, F&& f) {
  constexpr int kLanes = Eigen::internal::packet_traits<T>::size;
  Index c = 0;
  const auto chunks_of = [&](auto width) {
    constexpr int W = decltype(width)::value;
    if constexpr (W >= 1)
      for (; c + W <= g; c += W) f(width, c);
  };
  chunks_of(std::integral_constant<int, kLanes>{});
  chunks_of(std::integral_constant<int, kLanes / 2>{});
  if constexpr (kLanes / 4 >= 2) chunks_of(std::integral_constant<int, kLanes / 4>{});
  chunks_of(std::integral_constant<int, 1>{});
}

// Scalars per component in FullFactors::triangles: per feature j its offset and the j + 1
// entries U(0..j, j).
inline Index triangle_size(Index n) { return n + n * (n + 1) / 2; }

}  // namespace

template <typename T>
FullFactors<T>::FullFactors(const Mixture& mixture, const KernelFrame<T>& frame)
    : k(mixture.n_components()), n(mixture.n_features()), centre(frame.centre) {
  // Computed in double about the centre as rounded to T, and rounded once to T.
  const Vector<double> used = centre.template cast<double>();
  const RowMatrix<double> rel = mixture.means.rowwise() - used.transpose();
  log_norm = log_norms(mixture).cast<T>();
  // The pruned queries' bounds (pruned_query.cpp) take products of blocks with the factors side
  // by side: within a group the columns are feature-major (column j*g + c holds feature j of
  // component c), so their sums over features run across the group's components.
  group = full_group_size(k, n);
  RowMatrix<double> stack(n, k * n), offset(1, k * n), means_u(k, n);
  for (Index c0 = 0; c0 < k; c0 += group) {
    const Index g = std::min(group, k - c0);
    for (Index c = c0; c < c0 + g; ++c) {
      const RowMatrix<double> U = mixture.precisions_cholesky.middleRows(c * n, n).triangularView<Eigen::Upper>();
      const RowMatrix<double> off = rel.row(c) * U;
      means_u.row(c) = off;
      for (Index j = 0; j < n; ++j) {
        stack.col(c0 * n + j * g + (c - c0)) = U.col(j);
        offset(0, c0 * n + j * g + (c - c0)) = off(0, j);
      }
    }
  }
  stacked = stack.cast<T>();
  stacked_offset = offset.cast<T>();
  // The fused E-step's factors, chunk by chunk in the order it reads them (fused_full_chunk).
  triangles.resize(k * triangle_size(n));
  for_each_chunk<T>(k, [&](auto width, Index c) {
    constexpr int W = decltype(width)::value;
    T* u = triangles.data() + c * triangle_size(n);
    for (Index j = 0; j < n; ++j) {
      for (int w = 0; w < W; ++w) *u++ = static_cast<T>(-means_u(c + w, j));
      for (Index l = 0; l <= j; ++l)
        for (int w = 0; w < W; ++w) *u++ = static_cast<T>(mixture.precisions_cholesky((c + w) * n + l, j));
    }
  });
}

namespace {

// The fused E-step reads a chunk's factors in slices of features of at most this many bytes,
// each slice for all the block's rows before the next: a slice stays in the core's second-level
// cache while eight rows at a time stream through it (n = 64 in float is one slice of 133 KB
// for 16 components).
constexpr Index kFactorSliceBytes = Index(256) << 10;

// log weight + log N of the W components c..c+W for every row of the centred block xc, into
// out(:, c..c+W): for each feature j the sum over l <= j of x_l U_c(l, j), one W-wide
// multiply-add per (l, j) started from -means_c U_c(:, j), then squared into the row's running
// sum. The factors are read in order from the chunk's run of FullFactors::triangles; R rows at a
// time share each load. Features come in slices (kFactorSliceBytes): the first writes
// log_norm - sum / 2 for its features, each later one subtracts its own half sum.
template <int W, typename T>
void fused_full_chunk(const FullFactors<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc, Index c,
                      Eigen::Ref<RowMatrix<T>> out) {
  using Lanes = Eigen::Array<T, W, 1>;
  using Load = Eigen::Map<const Lanes, Eigen::Unaligned>;
  using Store = Eigen::Map<Lanes, Eigen::Unaligned>;
  // Two running sums per row (the feature's product and the row's sum of squares), each at most
  // one register (W never exceeds a register's lanes), and a few registers for the factors.
  constexpr int R = std::min(8, (kVectorRegisters - 4) / 2);
  const Index rows = xc.rows(), n = p.n;
  const Lanes ln = Load(p.log_norm.data() + c);
  const T* slice = p.triangles.data() + c * triangle_size(n);
  for (Index j0 = 0; j0 < n;) {
    // Features j0..j1 of this slice, each its offset and j + 1 factors.
    Index j1 = j0 + 1, entries = j0 + 2;
    while (j1 < n && (entries + j1 + 2) * W * Index(sizeof(T)) <= kFactorSliceBytes) {
      entries += j1 + 2;
      ++j1;
    }
    const bool first = j0 == 0;
    const auto rows_from = [&](Index i, auto count) {
      constexpr int Q = decltype(count)::value;
      const T* x[Q];
      for (int r = 0; r < Q; ++r) x[r] = xc.data() + (i + r) * xc.outerStride();
      Lanes ssq[Q];
      for (int r = 0; r < Q; ++r) ssq[r].setZero();
      const T* u = slice;
      for (Index j = j0; j < j1; ++j) {
        const Lanes start = Load(u);
        u += W;
        Lanes acc[Q];
        for (int r = 0; r < Q; ++r) acc[r] = start;
        for (Index l = 0; l <= j; ++l, u += W) {
          const Lanes f = Load(u);
          for (int r = 0; r < Q; ++r) acc[r] += x[r][l] * f;
        }
        for (int r = 0; r < Q; ++r) ssq[r] += acc[r] * acc[r];
      }
      for (int r = 0; r < Q; ++r) {
        Store o(&out(i + r, c));
        o = (first ? ln : Lanes(o)) - T(0.5) * ssq[r];
      }
    };
    Index i = 0;
    for (; i + R <= rows; i += R) rows_from(i, std::integral_constant<int, R>{});
    for (; i < rows; ++i) rows_from(i, std::integral_constant<int, 1>{});
    slice += entries * W;
    j0 = j1;
  }
}

// Register tile of the moment sums: for L rows l0.. of x1 and J features j0.. of the W
// components' weighted differences z (zp: the sub-block's rows, J * W scalars each), the sums
// over the rows of x1_il z_ij, L * J running sums of W lanes, added in double to `out` (entry
// (l, j) at out + (l - l0) * ld_out + (j - j0) * ld_feature). Entries with l < j belong to no
// moment and are not added.
template <int W, int L, int J, typename T>
void moment_tile(const T* x1, Index ld_x, Index rows, const T* zp, Index j0, Index l0, double* out, Index ld_out,
                 Index ld_feature) {
  using Lanes = Eigen::Array<T, W, 1>;
  using Load = Eigen::Map<const Lanes, Eigen::Unaligned>;
  Lanes acc[L][J];
  for (int a = 0; a < L; ++a)
    for (int b = 0; b < J; ++b) acc[a][b].setZero();
  for (Index i = 0; i < rows; ++i) {
    const T* xi = x1 + i * ld_x + l0;
    const T* zi = zp + i * J * W;
    Lanes z[J];
    for (int b = 0; b < J; ++b) z[b] = Load(zi + b * W);
    for (int a = 0; a < L; ++a) {
      const T xa = xi[a];
      for (int b = 0; b < J; ++b) acc[a][b] += xa * z[b];
    }
  }
  for (int a = 0; a < L; ++a)
    for (int b = 0; b < J; ++b)
      if (l0 + a >= j0 + b)
        Eigen::Map<Eigen::Array<double, W, 1>, Eigen::Unaligned>(out + a * ld_out + b * ld_feature) +=
            acc[a][b].template cast<double>();
}

// The moment sums of the W components c..c+W for the block x1 = [xc, 1], added to `sums`
// ((n + 1) x k n, column j k + c for feature j of component c; see FullFusedKernel::end_slot): in sub-blocks
// of rows and panels of J features, the weighted differences z_ij = r_i (x_ij - shift_j) of the
// panel are formed once into a small buffer that stays in the first-level cache, then every tile
// of L rows l >= j0 of x1 runs over them (moment_tile): L * J multiply-adds for L + J loads, the
// same balance as a matrix product's inner kernel, with nothing packed and z never stored whole.
template <int W, typename T>
void fused_full_moments_chunk(const Eigen::Ref<const RowMatrix<T>>& x1, const Eigen::Ref<const RowMatrix<T>>& resp,
                              Index c, const Eigen::Ref<const RowMatrix<T>>& shift_t, RowMatrix<double>& sums) {
  using Lanes = Eigen::Array<T, W, 1>;
  using Load = Eigen::Map<const Lanes, Eigen::Unaligned>;
  // 32 registers: 24 sums, 6 differences and a broadcast of x; 16: 9 sums, 3 differences, a
  // broadcast.
  constexpr int kL = kVectorRegisters >= 32 ? 4 : 3, kJ = kVectorRegisters >= 32 ? 6 : 3;
  // The sub-block's z (24 KiB at most) and rows of x1 stay in the first-level cache together.
  constexpr Index kSubRows = 64;
  alignas(64) T zp[kSubRows * kJ * W];
  const Index n = x1.cols() - 1, k = resp.cols(), rows = x1.rows(), ld_x = x1.outerStride();
  const Index ld_out = sums.outerStride(), ld_r = resp.outerStride();
  const T* r = resp.data() + c;
  for (Index i0 = 0; i0 < rows; i0 += kSubRows) {
    const Index sub = std::min(kSubRows, rows - i0);
    const T* xs = x1.data() + i0 * ld_x;
    for (Index j0 = 0; j0 < n; j0 += kJ) {
      with_fixed_size<1, kJ>(std::min<Index>(kJ, n - j0), [&](auto panel) {
        constexpr int J = decltype(panel)::value;
        if constexpr (J > 0) {
          Lanes shift[J];
          for (int b = 0; b < J; ++b) shift[b] = Load(shift_t.data() + (j0 + b) * shift_t.outerStride() + c);
          for (Index i = 0; i < sub; ++i) {
            const Lanes ri = Load(r + (i0 + i) * ld_r);
            const T* xi = xs + i * ld_x + j0;
            for (int b = 0; b < J; ++b)
              Eigen::Map<Lanes, Eigen::Unaligned>(zp + (i * J + b) * W) = (xi[b] - shift[b]) * ri;
          }
          double* column = sums.data() + j0 * k + c;
          Index l0 = j0;
          for (; l0 + kL <= n + 1; l0 += kL)
            moment_tile<W, kL, J, T>(xs, ld_x, sub, zp, j0, l0, column + l0 * ld_out, ld_out, k);
          with_fixed_size<1, kL>(n + 1 - l0, [&](auto tile) {
            constexpr int Q = decltype(tile)::value;
            if constexpr (Q > 0) moment_tile<W, Q, J, T>(xs, ld_x, sub, zp, j0, l0, column + l0 * ld_out, ld_out, k);
          });
        }
      });
    }
  }
}

}  // namespace

namespace {

// Per component, sum_i r_ic x1_i (xc_i - shift_c)^T with x1 = [xc, 1]: rows l < n give
// sum_i r_ic xc_i (xc_i - shift_c)^T, from which the moments about the shift follow by
// subtracting shift_c s1_c^T; row n gives s1_c = sum_i r_ic (xc_i - shift_c). Only one factor is
// centred on the component, so float data lose digits in proportion to |shift_c| / spread, not
// its square. Only the lower triangle (l >= j) is formed (see SufficientStats). The sums are
// added in double over the blocks of a slot and moved into the statistics at its end: moving
// them, a strided scatter, once per block cost as much as a fifth of the pass.
template <typename T>
class FullFusedKernel final : public Kernel<T> {
  using Base = Kernel<T>;
  using Base::frame_;
  using Base::k_;
  using Base::n_;

 public:
  FullFusedKernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>> frame,
                  std::shared_ptr<const FullFactors<T>> factors)
      : Base(k, n, block_rows_for(k, n), std::move(frame)),
        factors_(std::move(factors)),
        shift_t_(frame_->rel_shift.transpose()) {}

  std::unique_ptr<Base> clone() const override {
    auto copy = std::make_unique<FullFusedKernel>(k_, n_, frame_, factors_);
    copy->pruned_features_ = pruned_features_;
    copy->pruned_cut_ = pruned_cut_;
    return copy;
  }

  void load(const Eigen::Ref<const RowMatrix<T>>& rows) override {
    rows_ = rows.rows();
    // x1 = [xc, 1]: the moments' tiles read the column of ones for s1.
    grow(x1_, this->block_rows_, n_ + 1);
    auto x1 = x1_.topRows(rows_);
    x1.leftCols(n_) = rows.rowwise() - frame_->centre.transpose();
    x1.col(n_).setOnes();
  }

  void log_prob(Eigen::Ref<RowMatrix<T>> out) override {
    const auto xc = x1_.topLeftCorner(rows_, n_);
    for_each_chunk<T>(k_,
                      [&](auto width, Index c) { fused_full_chunk<decltype(width)::value, T>(*factors_, xc, c, out); });
  }

  void moments(const Eigen::Ref<const RowMatrix<T>>& resp, const Eigen::Ref<const Vector<T>>&,
               SufficientStats& stats) override {
    grow(nk_block_, k_);
    column_sums<T>(resp, nk_block_);
    stats.n_k += nk_block_.template cast<double>();
    if (!pending_) {
      sums_.setZero(n_ + 1, k_ * n_);
      pending_ = true;
    }
    const auto x1 = x1_.topRows(rows_);
    for_each_chunk<T>(k_, [&](auto width, Index c) {
      fused_full_moments_chunk<decltype(width)::value, T>(x1, resp, c, shift_t_, sums_);
    });
  }

  void end_slot(SufficientStats& stats) override {
    if (!pending_) return;
    pending_ = false;
    const RowMatrix<T>& rel_shift = frame_->rel_shift;
    // Column j k + c of the sums holds sum r_c xc_l (xc_j - shift_cj) in row l and
    // sum r_c (xc_j - shift_cj) in row n; the moments about the shift follow by subtracting
    // shift_cl times the latter (lower triangle only, see SufficientStats).
    for (Index c = 0; c < k_; ++c) {
      auto s2 = stats.s2.middleRows(c * n_, n_);
      auto s1 = stats.s1.row(c);
      for (Index j = 0; j < n_; ++j) {
        const Index col = j * k_ + c;
        const double first = sums_(n_, col);
        s1[j] += first;
        for (Index l = j; l < n_; ++l) s2(l, j) += sums_(l, col) - static_cast<double>(rel_shift(c, l)) * first;
      }
    }
  }

  void plan_query(const Eigen::Ref<const RowMatrix<T>>& X, LogProbOutput output) override {
    // Labels and scores compute only the log-densities that can matter (pruned_query.hpp),
    // where the mixture is large enough and a sample of X's rows says it pays.
    pruned_features_ = 0;
    if (output != LogProbOutput::Labels && output != LogProbOutput::ScoreSamples) return;
    const Index h = pruning_features(*factors_, output == LogProbOutput::ScoreSamples);
    if (h == 0) return;
    pruned_cut_ = pruning_cut<T>(output);
    if (pruning_pays<T>(*factors_, h, pruned_cut_, X, pruned_workspace(h))) pruned_features_ = h;
  }

  Index query_rows() const override { return pruned_features_ > 0 ? kPrunedBlockRows : this->block_rows_; }

  typename Base::QueryBlock query(const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out,
                                  double* labels) override {
    if (pruned_features_ > 0 && pruned_log_prob_block<T>(*factors_, pruned_features_, pruned_cut_, rows,
                                                         pruned_workspace(pruned_features_), out))
      return {};
    // A block where too many components survive the bound gets every log-density.
    return Base::query(rows, out, labels);
  }

 private:
  PrunedWorkspace<T>& pruned_workspace(Index h) {
    if (!pruned_) pruned_ = std::make_unique<PrunedWorkspace<T>>();
    pruned_->reserve(*factors_, h);
    return *pruned_;
  }

  std::shared_ptr<const FullFactors<T>> factors_;  // null for a moments-only kernel
  Index rows_ = 0;
  RowMatrix<T> x1_;            // (block rows, n + 1) the loaded block centred, and a column of ones
  Vector<T> nk_block_;         // (k) the block's responsibility sums
  RowMatrix<T> shift_t_;       // (n, k) the shifts transposed
  RowMatrix<double> sums_;     // (n + 1, k n) the moment sums of the slot's blocks so far
  bool pending_ = false;       // sums_ holds sums not yet added to a slot's statistics
  Index pruned_features_ = 0;  // > 0: queries take the pruned route with this bound
  T pruned_cut_ = T(0);
  std::unique_ptr<PrunedWorkspace<T>> pruned_;
};

}  // namespace

template <typename T>
std::unique_ptr<Kernel<T>> make_full_fused_kernel(const Mixture& mixture, std::shared_ptr<const KernelFrame<T>> frame) {
  auto factors = std::make_shared<const FullFactors<T>>(mixture, *frame);
  return std::make_unique<FullFusedKernel<T>>(mixture.n_components(), mixture.n_features(), std::move(frame),
                                              std::move(factors));
}

template <typename T>
std::unique_ptr<Kernel<T>> make_full_fused_moments_kernel(Index k, Index n,
                                                          std::shared_ptr<const KernelFrame<T>> frame) {
  return std::make_unique<FullFusedKernel<T>>(k, n, std::move(frame), nullptr);
}

#define GAUSSMIX_INSTANTIATE(T)                                                                         \
  template struct FullFactors<T>;                                                                       \
  template std::unique_ptr<Kernel<T>> make_full_fused_kernel<T>(const Mixture&,                         \
                                                                std::shared_ptr<const KernelFrame<T>>); \
  template std::unique_ptr<Kernel<T>> make_full_fused_moments_kernel<T>(Index, Index,                   \
                                                                        std::shared_ptr<const KernelFrame<T>>);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
