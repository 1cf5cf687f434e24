// The tied-covariance kernel: one product of the block with the shared factor serves every
// component, and one pooled second moment is summed in double about the common centre.
#include "kernels/kernels.hpp"

#include <cmath>

namespace gaussmix::detail {

namespace {

template <typename T>
struct TiedFactors {
  RowMatrix<T> prec_chol;   // (n, n) the shared factor U
  RowMatrix<T> means_prec;  // (k, n) row c = (mean_c - centre) U
  Vector<T> log_norm;       // (k)
};

template <typename T>
class TiedKernel final : public Kernel<T> {
  using Base = Kernel<T>;
  using Base::frame_;
  using Base::k_;
  using Base::n_;

 public:
  TiedKernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>> frame,
             std::shared_ptr<const TiedFactors<T>> factors)
      : Base(k, n, block_rows_for(k, n), std::move(frame)), factors_(std::move(factors)) {}

  std::unique_ptr<Base> clone() const override { return std::make_unique<TiedKernel>(k_, n_, frame_, factors_); }

  void load(const Eigen::Ref<const RowMatrix<T>>& rows) override {
    grow(xc_, this->block_rows_, n_);
    rows_ = rows.rows();
    xc_.topRows(rows_) = rows.rowwise() - frame_->centre.transpose();
  }

  void log_prob(Eigen::Ref<RowMatrix<T>> out) override {
    // One product for all components: (x - m_c) U = x U - m_c U.
    const auto xc = xc_.topRows(rows_);
    grow(prod_, this->block_rows_, n_);
    auto prod = prod_.topRows(rows_);
    prod.noalias() = xc * factors_->prec_chol.template triangularView<Eigen::Upper>();
    const T half = T(0.5);
    for (Index c = 0; c < k_; ++c) {
      out.col(c) = (-half * (prod.rowwise() - factors_->means_prec.row(c)).rowwise().squaredNorm()).array() +
                   factors_->log_norm[c];
    }
  }

  void moments(const Eigen::Ref<const RowMatrix<T>>& resp, const Eigen::Ref<const Vector<T>>& row_weight,
               SufficientStats& stats) override {
    grow(nk_block_, k_);
    column_sums<T>(resp, nk_block_);
    stats.n_k += nk_block_.template cast<double>();
    // Common shift: first moments by one product, and one total second moment taken in double
    // (it is the difference of two large terms in maximize, so it needs the extra digits). The
    // first moments in double too: maximize() subtracts s1 s1^T / N from the total, and for
    // well-separated clusters both are far larger than the within-cluster scatter.
    const auto xc = xc_.topRows(rows_);
    centred_ = (xc.rowwise() - frame_->rel_shift.row(0)).template cast<double>();
    resp_ = resp.template cast<double>();
    stats.s1.noalias() += resp_.transpose() * centred_;
    centred_.array().colwise() *= row_weight.template cast<double>().array().sqrt();
    stats.s2.template selfadjointView<Eigen::Lower>().rankUpdate(centred_.transpose());
  }

 private:
  std::shared_ptr<const TiedFactors<T>> factors_;  // null for a moments-only kernel
  Index rows_ = 0;
  RowMatrix<T> xc_, prod_;            // (block rows, n) the loaded block centred; times U
  Vector<T> nk_block_;                // (k)
  RowMatrix<double> centred_, resp_;  // the block's differences and responsibilities in double
};

}  // namespace

template <typename T>
std::unique_ptr<Kernel<T>> make_tied_kernel(const Mixture& mixture, std::shared_ptr<const KernelFrame<T>> frame) {
  auto f = std::make_shared<TiedFactors<T>>();
  const Vector<double> used = frame->centre.template cast<double>();
  const RowMatrix<double> rel = mixture.means.rowwise() - used.transpose();
  f->prec_chol = mixture.precisions_cholesky.cast<T>();
  f->means_prec = (rel * mixture.precisions_cholesky.triangularView<Eigen::Upper>()).cast<T>();
  f->log_norm = log_norms(mixture).cast<T>();
  return std::make_unique<TiedKernel<T>>(mixture.n_components(), mixture.n_features(), std::move(frame), std::move(f));
}

template <typename T>
std::unique_ptr<Kernel<T>> make_tied_moments_kernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>> frame) {
  return std::make_unique<TiedKernel<T>>(k, n, std::move(frame), nullptr);
}

#define GAUSSMIX_INSTANTIATE(T)                                                                                   \
  template std::unique_ptr<Kernel<T>> make_tied_kernel<T>(const Mixture&, std::shared_ptr<const KernelFrame<T>>); \
  template std::unique_ptr<Kernel<T>> make_tied_moments_kernel<T>(Index, Index, std::shared_ptr<const KernelFrame<T>>);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
