// Log-densities to responsibilities and to scores (see responsibilities.hpp).
#include "responsibilities.hpp"

#include "detail/exp.hpp"
#include "detail/fixed_size.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace gaussmix::detail {

namespace {

// Component counts up to this get the per-row loops of normalize_log_prob compiled for their size.
constexpr int kFixedRowComponents = 16;

// A row whose every log-density is -inf or NaN: no responsibilities and no most probable component.
}  // namespace

Error zero_density_error(Index sample) {
  return Error("sample " + std::to_string(sample) +
               " has zero density under every component (its Mahalanobis distance overflows); "
               "rescale the data or increase reg_covar");
}

namespace {

// exp of `size` clamped, shifted log-densities in place: the range-restricted kernel of
// detail/exp.hpp, in either precision; results below `cut` become exactly 0.
template <typename T>
void exp_in_place(T* v, Index size, T cut) {
  for (Index i = 0; i < size; ++i) {
    const T e = detail::exp_nonpositive(v[i]);
    v[i] = e < cut ? T(0) : e;
  }
}

}  // namespace

// Turns weighted log-probabilities (rows x k) into responsibilities in place and returns the
// per-row log-sum-exp in `lse`. Subtracting the row maximum keeps exp() in range. `sums` (at
// least rows long) is scratch for the row sums. (Score queries, which want `lse` alone, take
// log_sum_exp_rows.)
//
// Terms below a floor (relative to the row's largest) become exactly 0: below the smallest normal
// number, because Eigen's vectorised exp clamps differently on different instruction sets and
// would otherwise leave a far component a subnormal sliver of responsibility on some machines
// only; and, with `flush` (the EM pass), already below exp(-460) (float: exp(-57)), where no sum
// changes visibly but subnormal products later on would slow the moment products a hundredfold.

template <typename T>
void normalize_log_prob(Eigen::Ref<RowMatrix<T>> lp, Eigen::Ref<Vector<T>> lse, Eigen::Ref<Vector<T>> sums,
                        Index first_row, bool flush) {
  const Index rows = lp.rows(), k = lp.cols();
  const T floor =
      flush ? (std::is_same<T, float>::value ? T(-57) : T(-460)) : T(std::log(std::numeric_limits<T>::min()));
  // Row by row on a plain array map: Eigen's row-wise reductions over the block cost a setup per
  // row that dominates when k is small, and for k up to 16 the map's size is compiled in, so the
  // reductions unroll. The shifted terms are clamped at the floor here so the exp below is a
  // plain pass over the block.
  detail::with_fixed_size<1, kFixedRowComponents>(k, [&](auto fixed) {
    constexpr int N = decltype(fixed)::value;
    using RowArray = Eigen::Map<Eigen::Array<T, N == 0 ? Eigen::Dynamic : N, 1>>;
    for (Index i = 0; i < rows; ++i) {
      RowArray row(lp.row(i).data(), k);
      const T mx = row.maxCoeff();
      if (!std::isfinite(static_cast<double>(mx))) throw zero_density_error(first_row + i);
      row = (row - mx).max(floor);
      lse[i] = mx;
    }
    // The vectorised exp, the clamped terms (which come out near exp(floor), a normal number)
    // set to zero in the same loop.
    const T cut = T(2) * std::exp(floor);
    if (lp.outerStride() == lp.cols()) {
      // Contiguous: one flat array, so the exp vectorises even when rows are shorter than a
      // vector register (few components).
      exp_in_place(lp.data(), lp.size(), cut);
    } else {
      for (Index i = 0; i < rows; ++i) exp_in_place(lp.row(i).data(), k, cut);
    }
    for (Index i = 0; i < rows; ++i) {
      RowArray row(lp.row(i).data(), k);
      sums[i] = row.sum();
      row *= T(1) / sums[i];
    }
  });
  lse.array() += sums.head(rows).array().log();
}

// The log-sum-exp of each row of a block of weighted log-probabilities, for score queries, which
// need no responsibilities. Only terms within `cut` of their row's largest are exponentiated: the
// rest add less than k e^cut, relative, to a sum of at least 1 (e^-40 in double, e^-20 in
// float: below the sum's rounding for any practical k). The kept terms are first gathered in row
// order into `gathered` (room for all of lp's terms), so the exp runs vectorised over them alone:
// for well-separated clusters most of a row's terms are far below its largest (85% on config C),
// and this step took 40% less time than exponentiating every term (gathering in place, into lp
// itself, saved nothing: the compiler then reloaded every term after each store). `kept` and
// `sums` (at least rows long) are scratch. NaN terms are kept, so they reach the result as
// before.
template <typename T>
void log_sum_exp_rows(const Eigen::Ref<const RowMatrix<T>>& lp, Eigen::Ref<Vector<T>> lse,
                      Eigen::Ref<Vector<Index>> kept, Eigen::Ref<Vector<T>> sums, T* __restrict gathered,
                      Index first_row) {
  const Index rows = lp.rows(), k = lp.cols();
  const T cut = kScoreCut<T>;
  Index q = 0;
  for (Index i = 0; i < rows; ++i) {
    const T* row = lp.data() + i * lp.outerStride();
    const T mx = Eigen::Map<const Vector<T>>(row, k).maxCoeff();
    if (!std::isfinite(static_cast<double>(mx))) throw zero_density_error(first_row + i);
    lse[i] = mx;
    const Index start = q;
    for (Index c = 0; c < k; ++c) {
      const T v = row[c] - mx;
      gathered[q] = v;
      q += !(v <= cut);
    }
    kept[i] = q - start;
  }
  exp_in_place(gathered, q, T(0));
  q = 0;
  for (Index i = 0; i < rows; ++i) {
    T s = T(0);
    for (Index t = 0; t < kept[i]; ++t) s += gathered[q++];
    sums[i] = s;
  }
  lse.head(rows).array() += sums.head(rows).array().log();
}

#define GAUSSMIX_INSTANTIATE(T)                                                                                      \
  template void normalize_log_prob<T>(Eigen::Ref<RowMatrix<T>>, Eigen::Ref<Vector<T>>, Eigen::Ref<Vector<T>>, Index, \
                                      bool);                                                                         \
  template void log_sum_exp_rows<T>(const Eigen::Ref<const RowMatrix<T>>&, Eigen::Ref<Vector<T>>,                    \
                                    Eigen::Ref<Vector<Index>>, Eigen::Ref<Vector<T>>, T* __restrict, Index);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
