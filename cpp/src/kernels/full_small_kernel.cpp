// The few-feature full-covariance kernel (n <= kSmallFeatures): each component's log-densities
// and moments in one pass over the block's rows, the block transposed so that every loop runs
// vectorised across rows, with the feature count compiled in.
#include "kernels/kernels.hpp"

#include "detail/fixed_size.hpp"

namespace gaussmix::detail {

namespace {

// The mixture in the data's precision, about the frame's centre.
template <typename T>
struct SmallFullFactors {
  RowMatrix<T> means;      // (k, n) means minus the centre
  RowMatrix<T> prec_chol;  // (k n, n) the factors
  Vector<T> log_norm;      // (k)
};

// log weight_c + log N(x_i | c) of component c for each row of the block transposed (xt, one
// feature per row), full covariance with N <= kSmallFeatures features: the differences, the
// triangular factor and the sum of squares per row, the whole loop vectorised across rows.
template <int N, typename T>
void small_full_log_prob(const Eigen::Ref<const RowMatrix<T>>& xt, const SmallFullFactors<T>& p, Index c, T* out) {
  const Index rows = xt.cols();
  const T* x[N];
  T mean[N], u[N][N];
  for (int j = 0; j < N; ++j) {
    x[j] = xt.row(j).data();
    mean[j] = p.means(c, j);
    for (int l = 0; l <= j; ++l) u[l][j] = p.prec_chol(c * N + l, j);
  }
  const T log_norm = p.log_norm[c], half = T(0.5);
  for (Index i = 0; i < rows; ++i) {
    T d[N];
    for (int j = 0; j < N; ++j) d[j] = x[j][i] - mean[j];
    T acc = T(0);
    for (int j = 0; j < N; ++j) {
      T y = d[0] * u[0][j];
      for (int l = 1; l <= j; ++l) y += d[l] * u[l][j];
      acc += y * y;
    }
    out[i] = log_norm - half * acc;
  }
}

// The moments of component c about its shift for full covariances with N <= kSmallFeatures
// features: the first moments and the lower triangle of the second, from the block transposed
// (xt, one feature per row). Each sum keeps kLanes partial sums, one per row of a group, so the
// loop over a group vectorises across rows without reordering any single sum. Kept out of line:
// inlined into the kernel, GCC contracts some products into the sums differently for one and two
// features (1-ulp changes); out of line it compiles as it always has (tools/core_fingerprint.py).
template <int N, typename T>
#if defined(__GNUC__)
__attribute__((noinline))
#endif
void small_full_moments(const Eigen::Ref<const RowMatrix<T>>& xt, const Eigen::Ref<const RowMatrix<T>>& resp, Index c,
                        const RowMatrix<T>& rel_shift, SufficientStats& stats) {
  constexpr int kLanes = 8;
  constexpr int kPairs = N * (N + 1) / 2;
  const Index rows = xt.cols(), stride = resp.outerStride();
  const T* r = resp.data() + c;
  const T* x[N];
  T shift[N];
  for (int j = 0; j < N; ++j) {
    x[j] = xt.row(j).data();
    shift[j] = rel_shift(c, j);
  }
  T s1[N][kLanes] = {};
  T s2[kPairs][kLanes] = {};
  const auto add_row = [&](Index i, int lane) {
    const T ri = r[i * stride];
    T d[N], rd[N];
    for (int j = 0; j < N; ++j) {
      d[j] = x[j][i] - shift[j];
      rd[j] = ri * d[j];
      s1[j][lane] += rd[j];
    }
    int p = 0;
    for (int j = 0; j < N; ++j)
      for (int l = j; l < N; ++l) s2[p++][lane] += rd[l] * d[j];
  };
  Index i0 = 0;
  for (; i0 + kLanes <= rows; i0 += kLanes)
    for (int lane = 0; lane < kLanes; ++lane) add_row(i0 + lane, lane);
  for (int lane = 0; i0 < rows; ++i0, ++lane) add_row(i0, lane);
  int p = 0;
  for (int j = 0; j < N; ++j) {
    T total = T(0);
    for (int lane = 0; lane < kLanes; ++lane) total += s1[j][lane];
    stats.s1(c, j) += static_cast<double>(total);
    for (int l = j; l < N; ++l, ++p) {
      T pair = T(0);
      for (int lane = 0; lane < kLanes; ++lane) pair += s2[p][lane];
      stats.s2(c * N + l, j) += static_cast<double>(pair);
    }
  }
}

template <typename T>
class FullSmallKernel final : public Kernel<T> {
  using Base = Kernel<T>;
  using Base::frame_;
  using Base::k_;
  using Base::n_;

 public:
  FullSmallKernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>> frame,
                  std::shared_ptr<const SmallFullFactors<T>> factors)
      : Base(k, n, block_rows_for(k, n), std::move(frame)), factors_(std::move(factors)) {}

  std::unique_ptr<Base> clone() const override { return std::make_unique<FullSmallKernel>(k_, n_, frame_, factors_); }

  void load(const Eigen::Ref<const RowMatrix<T>>& rows) override {
    // One feature per row: each feature's values for the block are contiguous.
    grow(xt_, n_, this->block_rows_);
    auto xt = xt_.leftCols(rows.rows());
    xt = (rows.rowwise() - frame_->centre.transpose()).transpose();
  }

  void log_prob(Eigen::Ref<RowMatrix<T>> out) override {
    const auto xt = xt_.leftCols(out.rows());
    grow(column_, out.rows());
    with_fixed_size<1, kSmallFeatures>(n_, [&](auto fixed) {
      constexpr int N = decltype(fixed)::value;
      if constexpr (N > 0) {
        for (Index c = 0; c < this->k_; ++c) {
          small_full_log_prob<N, T>(xt, *factors_, c, column_.data());
          out.col(c) = column_;
        }
      }
    });
  }

  void moments(const Eigen::Ref<const RowMatrix<T>>& resp, const Eigen::Ref<const Vector<T>>&,
               SufficientStats& stats) override {
    grow(nk_block_, k_);
    column_sums<T>(resp, nk_block_);
    stats.n_k += nk_block_.template cast<double>();
    const auto xt = xt_.leftCols(resp.rows());
    with_fixed_size<1, kSmallFeatures>(n_, [&](auto fixed) {
      constexpr int N = decltype(fixed)::value;
      if constexpr (N > 0) {
        for (Index c = 0; c < this->k_; ++c)
          if (nk_block_[c] != T(0)) small_full_moments<N, T>(xt, resp, c, this->frame_->rel_shift, stats);
      }
    });
  }

 private:
  std::shared_ptr<const SmallFullFactors<T>> factors_;  // null for a moments-only kernel
  RowMatrix<T> xt_;                                     // (n, block rows) the loaded block centred and transposed
  Vector<T> column_;                                    // (rows) one component's log-densities
  Vector<T> nk_block_;                                  // (k) the block's responsibility sums
};

}  // namespace

template <typename T>
std::unique_ptr<Kernel<T>> make_full_small_kernel(const Mixture& mixture, std::shared_ptr<const KernelFrame<T>> frame) {
  auto f = std::make_shared<SmallFullFactors<T>>();
  const Vector<double> used = frame->centre.template cast<double>();
  f->means = (mixture.means.rowwise() - used.transpose()).template cast<T>();
  f->prec_chol = mixture.precisions_cholesky.cast<T>();
  f->log_norm = log_norms(mixture).cast<T>();
  return std::make_unique<FullSmallKernel<T>>(mixture.n_components(), mixture.n_features(), std::move(frame),
                                              std::move(f));
}

template <typename T>
std::unique_ptr<Kernel<T>> make_full_small_moments_kernel(Index k, Index n,
                                                          std::shared_ptr<const KernelFrame<T>> frame) {
  return std::make_unique<FullSmallKernel<T>>(k, n, std::move(frame), nullptr);
}

#define GAUSSMIX_INSTANTIATE(T)                                                                         \
  template std::unique_ptr<Kernel<T>> make_full_small_kernel<T>(const Mixture&,                         \
                                                                std::shared_ptr<const KernelFrame<T>>); \
  template std::unique_ptr<Kernel<T>> make_full_small_moments_kernel<T>(Index, Index,                   \
                                                                        std::shared_ptr<const KernelFrame<T>>);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
