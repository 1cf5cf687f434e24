// The diagonal and spherical kernel: log N = log_norm - 1/2 sum_j p_cj (x_j - m_cj)^2 as one
// product of the block's [x^2, x] with [-p/2; p m] plus a constant, in double, and the moments
// as one product of the responsibilities with the same [x^2, x]. The expansion cancels about
// (|m| / spread)^2 digits, which double can spare for data centred on the mixture and float
// cannot. Queries of up to 16 components fuse centring, [x^2, x] and the product per row.
#include "kernels/kernels.hpp"

#include "detail/argmax.hpp"

#include <limits>
#include <type_traits>

namespace gaussmix::detail {

namespace {

// Queries with up to this many components take the fused loop.
constexpr Index kFusedDiagComponents = 16;

template <typename T>
struct DiagFactors {
  Index k = 0, n = 0;
  Vector<T> centre;            // (n) the frame's centre
  RowMatrix<double> w;         // (2n, k) coefficients of [x^2, x]
  RowMatrix<double> constant;  // (1, k) the rest of each log-density
  // Up to kFusedDiagComponents: [w; constant] (2n + 1 rows), columns padded with zeros to 8
  // or 16 (whole vector registers, so every sum is a full packet) and -inf constants (so the
  // labels' maximum may run over whole registers); otherwise empty.
  RowMatrix<double> fused;
};

template <int K, typename T>
Index diag_log_prob_rows_fixed(const DiagFactors<T>& p, const Eigen::Ref<const RowMatrix<T>>& rows,
                               Eigen::Ref<RowMatrix<T>> out, double* labels) {
  using Sums = Eigen::Matrix<double, K, 1>;
  using Row = Eigen::Map<const Sums>;
  const Index n = p.n, k = p.k, m = rows.rows();
  const double* w = p.fused.data();  // row j: x_j^2, row n + j: x_j, row 2n: constant
  const T* centre = p.centre.data();
  // Centred in T, as the EM pass centres its blocks, then widened.
  const auto centred = [&](Index i, Index j) { return static_cast<double>(rows(i, j) - centre[j]); };
  // Row i's sums to its label or its log-densities; false where a label has no finite maximum.
  const auto store = [&](Index i, const Sums& s) {
    if (labels == nullptr) {
      out.row(i) = s.head(k).transpose().template cast<T>();
      return true;
    }
    // Padding lanes are -inf. Float data's labels come from the sums rounded to float, as their
    // log-densities are returned, so that predict agrees with the argmax of predict_proba.
    Index best;
    if constexpr (std::is_same<T, float>::value) {
      const Eigen::Matrix<float, K, 1> rounded = s.template cast<float>();
      best = first_max_index<float, K>(rounded.data(), K);
    } else {
      best = first_max_index<double, K>(s.data(), K);
    }
    labels[i] = static_cast<double>(best);
    return best >= 0;
  };
  // R rows at a time: R independent chains of multiply-adds, so their latency is hidden. Their
  // sums must stay in registers, at most 8 vector registers of them: four rows of 16 sums in AVX
  // registers (16 in all) spilled, and two rows were 20% faster on an AVX2 machine.
  constexpr int kLanes = Eigen::internal::packet_traits<double>::size;
  constexpr int kRegistersPerRow = (K + kLanes - 1) / kLanes;
  constexpr int R = std::max(1, std::min(4, 8 / kRegistersPerRow));
  Index i = 0;
  for (; i + R <= m; i += R) {
    Sums s[R];
    for (int r = 0; r < R; ++r) s[r] = Row(w + 2 * n * K);
    for (Index j = 0; j < n; ++j) {
      const Row square(w + j * K), linear(w + (n + j) * K);
      for (int r = 0; r < R; ++r) {
        // Two statements, so that each is one multiply-add into the sums; as one expression
        // the compiler made a product, a multiply-add and an addition of it.
        const double d = centred(i + r, j);
        s[r] += (d * d) * square;
        s[r] += d * linear;
      }
    }
    for (int r = 0; r < R; ++r)
      if (!store(i + r, s[r])) return i + r;
  }
  for (; i < m; ++i) {
    Sums s = Row(w + 2 * n * K);
    for (Index j = 0; j < n; ++j) {
      const double d = centred(i, j);
      s += (d * d) * Row(w + j * K);
      s += d * Row(w + (n + j) * K);
    }
    if (!store(i, s)) return i;
  }
  return -1;
}

template <typename T>
class DiagKernel final : public Kernel<T> {
  using Base = Kernel<T>;
  using Base::frame_;
  using Base::k_;
  using Base::n_;
  static constexpr bool kDouble = std::is_same<T, double>::value;

 public:
  DiagKernel(Index k, Index n, bool spherical, std::shared_ptr<const KernelFrame<T>> frame,
             std::shared_ptr<const DiagFactors<T>> factors)
      : Base(k, n, block_rows_for(k, n), std::move(frame)), spherical_(spherical), factors_(std::move(factors)) {}

  std::unique_ptr<Base> clone() const override {
    return std::make_unique<DiagKernel>(k_, n_, spherical_, frame_, factors_);
  }

  void load(const Eigen::Ref<const RowMatrix<T>>& rows) override {
    rows_ = rows.rows();
    grow(powers_, this->block_rows_, 2 * n_);
    powers_ready_ = false;
    // Double rows are centred straight into the x half of [x^2, x]; float rows first in float,
    // as every pass centres its blocks in the data's precision, then widened.
    if constexpr (kDouble) {
      powers_.topRows(rows_).rightCols(n_) = rows.rowwise() - frame_->centre.transpose();
    } else {
      grow(xc_, this->block_rows_, n_);
      xc_.topRows(rows_) = rows.rowwise() - frame_->centre.transpose();
      powers_.topRows(rows_).rightCols(n_) = xc_.topRows(rows_).template cast<double>();
    }
  }

  void log_prob(Eigen::Ref<RowMatrix<T>> out) override {
    const auto z = powers();
    if constexpr (kDouble) {
      out.noalias() = z * factors_->w;
      out.rowwise() += factors_->constant.row(0);
    } else {
      grow(log_prob_d_, this->block_rows_, k_);
      auto lp = log_prob_d_.topRows(rows_);
      lp.noalias() = z * factors_->w;
      lp.rowwise() += factors_->constant.row(0);
      out = lp.template cast<T>();
    }
  }

  void moments(const Eigen::Ref<const RowMatrix<T>>& resp, const Eigen::Ref<const Vector<T>>&,
               SufficientStats& stats) override {
    grow(nk_block_, k_);
    column_sums<T>(resp, nk_block_);
    stats.n_k += nk_block_.template cast<double>();
    // sum r x^2 and sum r x for all components in one product, in double, then moved to the
    // shifts: sum r (x - s) = sum r x - N s, sum r (x - s)^2 = sum r x^2 - 2 s sum r x + N s^2.
    const auto z = powers();
    grow(moments_, k_, 2 * n_);
    grow(nk_double_, k_);
    // The responsibility sums in double: float responsibilities are summed again in double.
    if constexpr (kDouble) {
      moments_.noalias() = resp.transpose() * z;
      nk_double_ = nk_block_;
    } else {
      grow(resp_d_, this->block_rows_, k_);
      auto r = resp_d_.topRows(rows_);
      r = resp.template cast<double>();
      moments_.noalias() = r.transpose() * z;
      column_sums<double>(r, nk_double_);
    }
    const RowMatrix<T>& rel_shift = frame_->rel_shift;
    for (Index c = 0; c < k_; ++c) {
      if (nk_block_[c] == T(0)) continue;
      const auto s = rel_shift.row(c).template cast<double>().array();
      const auto sx = moments_.row(c).tail(n_).array();
      const auto sxx = moments_.row(c).head(n_).array();
      stats.s1.row(c).array() += sx - nk_double_[c] * s;
      const auto second = sxx - 2.0 * s * sx + nk_double_[c] * s.square();
      if (spherical_) {
        stats.s2(c, 0) += second.sum();
      } else {
        stats.s2.row(c).array() += second;
      }
    }
  }

  typename Base::QueryBlock query(const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out,
                                  double* labels) override {
    if (factors_->fused.size() == 0) return Base::query(rows, out, labels);
    // Labels straight from the sums in registers: no log-densities stored and read back.
    const Index bad = factors_->fused.cols() == 8 ? diag_log_prob_rows_fixed<8, T>(*factors_, rows, out, labels)
                                                  : diag_log_prob_rows_fixed<16, T>(*factors_, rows, out, labels);
    typename Base::QueryBlock q;
    q.labelled = labels != nullptr;
    q.bad_row = bad;
    return q;
  }

 private:
  // [x^2, x] of the loaded block, the square half computed once per block.
  auto powers() {
    auto z = powers_.topRows(rows_);
    if (!powers_ready_) {
      z.leftCols(n_) = z.rightCols(n_).array().square().matrix();
      powers_ready_ = true;
    }
    return z;
  }

  bool spherical_;
  std::shared_ptr<const DiagFactors<T>> factors_;  // null for a moments-only kernel
  Index rows_ = 0;
  RowMatrix<double> powers_;               // (block rows, 2n) [x^2, x] of the loaded block, in double
  bool powers_ready_ = false;              // the x^2 half is filled for the loaded block
  RowMatrix<T> xc_;                        // float: (block rows, n) the loaded block centred
  RowMatrix<double> log_prob_d_, resp_d_;  // float: (block rows, k) in double
  RowMatrix<double> moments_;              // (k, 2n) the block's sums of r x^2 and r x
  Vector<T> nk_block_;                     // (k)
  Vector<double> nk_double_;               // (k) the same in double
};

}  // namespace

template <typename T>
std::unique_ptr<Kernel<T>> make_diag_kernel(const Mixture& mixture, bool spherical,
                                            std::shared_ptr<const KernelFrame<T>> frame) {
  const Index k = mixture.n_components(), n = mixture.n_features();
  auto f = std::make_shared<DiagFactors<T>>();
  f->k = k;
  f->n = n;
  f->centre = frame->centre;
  const Vector<double> used = frame->centre.template cast<double>();
  const RowMatrix<double> rel = mixture.means.rowwise() - used.transpose();
  const Vector<double> log_norm = log_norms(mixture);
  RowMatrix<double> w(2 * n, k), cst(1, k);
  for (Index c = 0; c < k; ++c) {
    for (Index j = 0; j < n; ++j) {
      const double factor = mixture.precisions_cholesky(c, spherical ? 0 : j);
      const double prec = factor * factor;
      w(j, c) = -0.5 * prec;
      w(n + j, c) = prec * rel(c, j);
    }
    cst(0, c) = log_norm[c] - 0.5 * (rel.row(c).array().square() * (-2.0 * w.col(c).head(n).transpose().array())).sum();
  }
  f->w = std::move(w);
  f->constant = std::move(cst);
  if (k <= kFusedDiagComponents) {
    const Index width = k <= 8 ? 8 : 16;
    RowMatrix<double> c = RowMatrix<double>::Zero(2 * n + 1, width);
    c.topLeftCorner(2 * n, k) = f->w;
    c.bottomLeftCorner(1, k) = f->constant;
    c.bottomRightCorner(1, width - k).setConstant(-std::numeric_limits<double>::infinity());
    f->fused = std::move(c);
  }
  return std::make_unique<DiagKernel<T>>(k, n, spherical, std::move(frame), std::move(f));
}

template <typename T>
std::unique_ptr<Kernel<T>> make_diag_moments_kernel(Index k, Index n, bool spherical,
                                                    std::shared_ptr<const KernelFrame<T>> frame) {
  return std::make_unique<DiagKernel<T>>(k, n, spherical, std::move(frame), nullptr);
}

#define GAUSSMIX_INSTANTIATE(T)                                                                   \
  template std::unique_ptr<Kernel<T>> make_diag_kernel<T>(const Mixture&, bool,                   \
                                                          std::shared_ptr<const KernelFrame<T>>); \
  template std::unique_ptr<Kernel<T>> make_diag_moments_kernel<T>(Index, Index, bool,             \
                                                                  std::shared_ptr<const KernelFrame<T>>);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
