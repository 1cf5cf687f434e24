// What every kernel family shares: the frames, the block size, the log-density constants,
// column sums, and the default query route.
#include "kernels/kernel.hpp"

#include "detail/fixed_size.hpp"

#include <cmath>

namespace gaussmix::detail {

template <typename T>
KernelFrame<T> frame_of(const Mixture& mixture, bool pooled) {
  const Index k = mixture.n_components(), n = mixture.n_features();
  // The weighted mean of the means: the centre of the data, about which the rows are centred
  // (and pooled moments are taken).
  const double wsum = mixture.weights.sum();
  const Vector<double> centre = wsum > 0 ? Vector<double>(mixture.means.transpose() * mixture.weights / wsum)
                                         : Vector<double>(mixture.means.colwise().mean().transpose());
  KernelFrame<T> f;
  f.centre = centre.cast<T>();
  // Rows are centred on the centre as rounded to T, so the means must be taken relative to that
  // same point: for float data far from the origin the rounding exceeds the clusters' spread.
  const Vector<double> used = f.centre.template cast<double>();
  if (pooled) {
    f.rel_shift = RowMatrix<T>::Zero(k, n);
    f.shift = used.transpose().replicate(k, 1);
  } else {
    f.rel_shift = (mixture.means.rowwise() - used.transpose()).template cast<T>();
    f.shift = f.rel_shift.template cast<double>().rowwise() + used.transpose();
  }
  return f;
}

template <typename T>
KernelFrame<T> frame_about(const RowMatrix<double>& shift) {
  // The centre is computed in double and rounded to T, and the shifts taken relative to that
  // rounded point; the reported shifts are then exactly the points the moments were taken
  // about (for float data far from the origin the rounding of the centre is larger than the
  // data's spread).
  KernelFrame<T> f;
  f.centre = Vector<double>(shift.colwise().mean().transpose()).cast<T>();
  const Vector<double> used = f.centre.template cast<double>();
  f.rel_shift = (shift.rowwise() - used.transpose()).template cast<T>();
  f.shift = f.rel_shift.template cast<double>().rowwise() + used.transpose();
  return f;
}

Index block_rows_for(Index k, Index n) {
  // Sized so that rows x (n + k + min(k n, kProductCols)) scalars stay in a core's L2 cache, as
  // when the full-covariance E-step kept a rows x kProductCols product per block; the other
  // families were tuned with these sizes. The fused full-covariance kernels work in sub-blocks
  // of their own and run alike with 128 to 512 rows. The vectorised-over-rows loops of few
  // features want long rows for little loop overhead.
  if (n <= kSmallFeatures) return 1024;
  const Index per_row = n + k + std::min<Index>(k * n, kProductCols) + 8;
  const Index rows = (Index(1) << 17) / per_row;
  return std::max<Index>(64, std::min<Index>(512, rows));
}

Vector<double> log_norms(const Mixture& mixture) {
  const Vector<double> log_det = mixture.log_det_precision_cholesky();
  const double half_n_log_2pi = 0.5 * static_cast<double>(mixture.n_features()) * kLog2Pi;
  // Scalar std::log: Eigen's vectorised log may round differently on different instruction sets.
  Vector<double> out(log_det.size());
  for (Index c = 0; c < out.size(); ++c) out[c] = std::log(mixture.weights[c]) + log_det[c] - half_n_log_2pi;
  return out;
}

template <typename T>
void column_sums(const Eigen::Ref<const RowMatrix<T>>& m, Eigen::Ref<Vector<T>> out) {
  // Eigen's column-wise sum of a row-major block strides down each column, one scalar at a
  // time; the four running sums also hide the latency of the additions.
  const Index rows = m.rows(), cols = m.cols();
  out.setZero();
  with_fixed_size<1, 16>(cols, [&](auto fixed) {
    constexpr int K = decltype(fixed)::value;
    if constexpr (K == 0) {
      for (Index i = 0; i < rows; ++i) out += m.row(i).transpose();
    } else {
      T sums[4][K] = {};
      Index i = 0;
      for (; i + 4 <= rows; i += 4)
        for (int q = 0; q < 4; ++q) {
          const T* row = m.row(i + q).data();
          for (int c = 0; c < K; ++c) sums[q][c] += row[c];
        }
      for (; i < rows; ++i)
        for (int c = 0; c < K; ++c) sums[0][c] += m(i, c);
      for (int c = 0; c < K; ++c) out[c] = (sums[0][c] + sums[1][c]) + (sums[2][c] + sums[3][c]);
    }
  });
}

template <typename T>
typename Kernel<T>::QueryBlock Kernel<T>::query(const Eigen::Ref<const RowMatrix<T>>& rows,
                                                Eigen::Ref<RowMatrix<T>> out, double* /*labels*/) {
  for (Index s = 0; s < rows.rows(); s += block_rows_) {
    const Index sub = std::min(block_rows_, rows.rows() - s);
    load(rows.middleRows(s, sub));
    log_prob(out.middleRows(s, sub));
  }
  return {};
}

#define GAUSSMIX_INSTANTIATE(T)                                                               \
  template KernelFrame<T> frame_of<T>(const Mixture&, bool);                                  \
  template KernelFrame<T> frame_about<T>(const RowMatrix<double>&);                           \
  template void column_sums<T>(const Eigen::Ref<const RowMatrix<T>>&, Eigen::Ref<Vector<T>>); \
  template class Kernel<T>;
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
