// Per-covariance-type kernels: log-densities of a block of rows, and its moment sums.
#include "gaussmix/detail/covariance.hpp"
#include "gaussmix/detail/argmax.hpp"
#include "gaussmix/detail/fixed_size.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace gaussmix::detail {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;

// Features up to this many take the transposed, vectorised-over-rows path for full covariances;
// above it one matrix product per block does the E-step.
constexpr Index kSmallFeatures = 4;

// Full covariances with 5 to this many features take the fused kernels (fused_full_log_prob,
// fused_full_moments_chunk) in both precisions: the triangular products, the offsets and the sums
// of squares in registers, row by row, instead of products whose inner dimension (1 to n
// features for the E-step) is too short for a matrix product to run at speed: at n = 16 in float
// the products' packing cost as much as their arithmetic. Measured on one thread (AVX-512), ms
// per EM iteration, against the panel products in float and the quadratic path in double: n = 16,
// k = 16, m = 2e5 67 -> 32 (float), 82 -> 70 (double); n = 8, k = 8, m = 1e6 101 -> 66, 134 -> 87;
// n = 32, k = 16, m = 5e4 48 -> 30, 78 -> 63 (bench/README.md). At n = 40 the fused float kernels
// took three times as long as the products (a chunk's triangle of factors no longer fits in the
// first-level cache).
constexpr Index kFusedFullFeatures = 32;

// Features per panel of the triangular products of the centred path (full covariance, more than
// kFusedFullFeatures features): narrower panels skip more zeros but make products too thin to run
// at full speed (measured in float32 on one thread: n = 64 slower in panels of 4). Groups of fewer
// than 4 components (the quadratic path's far components, often one) take one panel: their
// panel products would be a few columns wide, all overhead (one far component of 16 at n = 16
// cost 5 ms more per iteration on one thread in panels).
constexpr Index kPanelFeatures = 8;

Index panel_features(Index n, Index g) { return g < 4 ? n : kPanelFeatures; }

// log weight_c + log det U_c - n/2 log(2 pi): the constant part of each log-density. A weight of
// exactly zero gives log 0 = -inf: that component never takes responsibility.
Vector<double> log_norms(const Mixture& mixture) {
  const Vector<double> log_det = mixture.log_det_precision_cholesky();
  const double half_n_log_2pi = 0.5 * static_cast<double>(mixture.n_features()) * kLog2Pi;
  // Scalar std::log: Eigen's vectorised log may round differently on different instruction sets.
  Vector<double> out(log_det.size());
  for (Index c = 0; c < out.size(); ++c) out[c] = std::log(mixture.weights[c]) + log_det[c] - half_n_log_2pi;
  return out;
}

// The quadratic path expands (x - m)^T P (x - m) = x^T P x - 2 m^T P x + m^T P m, whose terms
// are about m^T P m times larger than the result for a mean m at that Mahalanobis distance from
// the centre (the expansion point, chosen to keep these offsets small, see
// precision_weighted_centre): the expansion loses log10 of that many digits, in the
// log-densities and in the moments alike. Components whose mean lies within this distance
// squared take it (losing at most 5 of double's 16 digits); the rest keep the centred products.
constexpr double kQuadraticMaxOffset = 1e5;

// Magnitudes the quadratic products must stay within: squares of centred values times the
// coefficients may neither overflow nor lose their digits to underflow.
constexpr double kQuadraticMaxCoefficient = 1e150;
constexpr double kQuadraticMaxProduct = 1e250;

// Up to this many features the quadratic path was measured faster (config E, n = 64); beyond it
// a block's features (n^2 / 2 per row) outgrow the cache. Below kFusedFullFeatures + 1 the fused
// centred kernels are faster, and they lose no digits to the expansion.
constexpr Index kMaxQuadraticFeatures = 64;

// Chooses the components that take the quadratic path (see Prepared::quadratic) and fills
// their coefficients.
template <typename T>
void prepare_quadratic(const Mixture& mixture, const RowMatrix<double>& rel, const Vector<double>& log_norm,
                       Prepared<T>& p) {
  const Index k = p.k, n = p.n, d = quadratic_dim(n);
  RowMatrix<double> w(d, k);
  double max_coef = 0.0;
  for (Index c = 0; c < k; ++c) {
    const RowMatrix<double> U =
        mixture.precisions_cholesky.middleRows(c * n, n).triangularView<Eigen::Upper>();
    const RowMatrix<double> P = U * U.transpose();
    const Vector<double> Pm = P * rel.row(c).transpose();
    const double offset = (rel.row(c) * U).squaredNorm();
    Index q = 0;
    for (Index j = 0; j < n; ++j) {
      w(q++, c) = -0.5 * P(j, j);
      for (Index l = j + 1; l < n; ++l) w(q++, c) = -P(j, l);
    }
    for (Index j = 0; j < n; ++j) w(q++, c) = Pm[j];
    w(q, c) = log_norm[c] - 0.5 * offset;
    const double coef = w.topRows(d - 1).col(c).cwiseAbs().maxCoeff();
    if (n > kFusedFullFeatures && n <= kMaxQuadraticFeatures && offset <= kQuadraticMaxOffset &&
        coef <= kQuadraticMaxCoefficient) {
      p.quad_components.push_back(c);
      max_coef = std::max(max_coef, coef);
    } else {
      p.other_components.push_back(c);
    }
  }
  if (p.quad_components.empty()) {
    p.other_components.clear();
    return;
  }
  p.quadratic = true;
  const Index kq = static_cast<Index>(p.quad_components.size());
  p.quad_w.resize(d, kq);
  for (Index j = 0; j < kq; ++j) p.quad_w.col(j) = w.col(p.quad_components[j]);
  // Centred values up to quad_max_abs keep every product within kQuadraticMaxProduct.
  p.quad_max_abs = std::sqrt(kQuadraticMaxProduct /
                             std::max(max_coef, kQuadraticMaxProduct / kQuadraticMaxCoefficient));
}

// The forms the fast kernels read, computed in double and rounded once to T. rel holds the
// means relative to the centre, log_norm the constants of log_norms().
template <typename T>
void prepare_fast_paths(const Mixture& mixture, const RowMatrix<double>& rel, const Vector<double>& log_norm,
                        Prepared<T>& p) {
  const Index k = p.k, n = p.n;
  if (p.type == CovarianceType::Full && n > kSmallFeatures) {
    // E-step as one product per block and group of components: y = xc [U_c ...], then
    // (y_c - means_c U_c) squared and summed. Within a group the columns are feature-major
    // (column j*g + c holds feature j of component c), so the sums over features run as
    // element-wise, vectorised additions across the group's components.
    p.group = Workspace<T>::group_size(k, n);
    RowMatrix<double> stacked(n, k * n), offset(1, k * n);
    for (Index c0 = 0; c0 < k; c0 += p.group) {
      const Index g = std::min(p.group, k - c0);
      for (Index c = c0; c < c0 + g; ++c) {
        const RowMatrix<double> U = mixture.precisions_cholesky.middleRows(c * n, n)
                                        .triangularView<Eigen::Upper>();
        const RowMatrix<double> off = rel.row(c) * U;
        for (Index j = 0; j < n; ++j) {
          stacked.col(c0 * n + j * g + (c - c0)) = U.col(j);
          offset(0, c0 * n + j * g + (c - c0)) = off(0, j);
        }
      }
    }
    p.stacked = stacked.cast<T>();
    p.stacked_offset = offset.cast<T>();
  } else if (p.type == CovarianceType::Diag || p.type == CovarianceType::Spherical) {
    const Vector<double>& log_norm_d = log_norm;
    // log N = log_norm - 1/2 sum_j p_cj (x_j - m_cj)^2 as one product of [x^2, x] with
    // [-p/2; p m] plus a constant, in double: the expansion cancels about (|m| / spread)^2 digits,
    // which double can spare for data centred on the mixture and float cannot.
    RowMatrix<double> w(2 * n, k), cst(1, k);
    for (Index c = 0; c < k; ++c) {
      for (Index j = 0; j < n; ++j) {
        const double f = p.type == CovarianceType::Diag ? mixture.precisions_cholesky(c, j)
                                                        : mixture.precisions_cholesky(c, 0);
        const double prec = f * f;
        w(j, c) = -0.5 * prec;
        w(n + j, c) = prec * rel(c, j);
      }
      cst(0, c) = log_norm_d[c] -
                  0.5 * (rel.row(c).array().square() * (-2.0 * w.col(c).head(n).transpose().array())).sum();
    }
    p.diag_w = std::move(w);
    p.diag_const = std::move(cst);
  }
}

constexpr Index kChunk = 8;

// out[w] = ln[w] - 0.5 sum_j (y[j*g + w] - off[j*g + w])^2 for w < W: the squared norms of W
// components whose features lie g apart.
template <typename T, Index W>
inline void sum_squares(const T* y, const T* off, Index g, Index n, const T* ln, T* out) {
  T acc[W] = {};
  for (Index j = 0; j < n; ++j) {
    for (Index w = 0; w < W; ++w) {
      const T d = y[j * g + w] - off[j * g + w];
      acc[w] += d * d;
    }
  }
  for (Index w = 0; w < W; ++w) out[w] = ln[w] - T(0.5) * acc[w];
}

// log weight + log N of W components (c..c+W of the group of g that starts at component c0) for
// every row of the centred block xc, into out(:, c0+c..c0+c+W):
// for each feature j the sum over l <= j of x_l U_c(l, j), which for the group's feature-major
// columns is one W-wide multiply-add per (l, j), started from -means_c U_c(:, j), then squared
// into the row's running sum. R rows at a time share each load of the factors.
template <int W, typename T>
void fused_full_chunk(const Prepared<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc, Index c0, Index g,
                      Index c, Eigen::Ref<RowMatrix<T>> out) {
  using Lanes = Eigen::Array<T, W, 1>;
  using Load = Eigen::Map<const Lanes, Eigen::Unaligned>;
#ifdef EIGEN_VECTORIZE_AVX512
  constexpr int kRegisters = 32;
#else
  constexpr int kRegisters = 16;
#endif
  // Two running sums per row (the feature's product and the row's sum of squares), each at most
  // one register (W never exceeds a register's lanes), and a few registers for the factors.
  constexpr int R = std::min(8, (kRegisters - 4) / 2);
  const Index rows = xc.rows(), n = p.n, ld = p.stacked.outerStride();
  // The group's columns start at c0 n; feature j of its component c is column j g + c.
  const T* s = p.stacked.data() + c0 * n + c;
  const T* off = p.stacked_offset.data() + c0 * n + c;
  const Lanes ln = Load(p.log_norm.data() + c0 + c);
  const auto rows_from = [&](Index i, auto count) {
    constexpr int Q = decltype(count)::value;
    const T* x[Q];
    for (int r = 0; r < Q; ++r) x[r] = xc.data() + (i + r) * xc.outerStride();
    Lanes ssq[Q];
    for (int r = 0; r < Q; ++r) ssq[r].setZero();
    for (Index j = 0; j < n; ++j) {
      const Lanes start = -Load(off + j * g);
      Lanes acc[Q];
      for (int r = 0; r < Q; ++r) acc[r] = start;
      for (Index l = 0; l <= j; ++l) {
        const Lanes u = Load(s + l * ld + j * g);
        for (int r = 0; r < Q; ++r) acc[r] += x[r][l] * u;
      }
      for (int r = 0; r < Q; ++r) ssq[r] += acc[r] * acc[r];
    }
    for (int r = 0; r < Q; ++r)
      Eigen::Map<Lanes, Eigen::Unaligned>(&out(i + r, c0 + c)) = ln - T(0.5) * ssq[r];
  };
  Index i = 0;
  for (; i + R <= rows; i += R) rows_from(i, std::integral_constant<int, R>{});
  for (; i < rows; ++i) rows_from(i, std::integral_constant<int, 1>{});
}

// Calls f(std::integral_constant<int, W>{}, c) for chunks c..c+W that cover the g components of
// a group: whole registers of T first, then halves and quarters of one, then one at a time.
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

// The fused kernel for every component, group by group.
template <typename T>
void fused_full_log_prob(const Prepared<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc,
                         Eigen::Ref<RowMatrix<T>> out) {
  for (Index c0 = 0; c0 < p.k; c0 += p.group) {
    const Index g = std::min(p.group, p.k - c0);
    for_each_chunk<T>(g, [&](auto width, Index c) {
      fused_full_chunk<decltype(width)::value, T>(p, xc, c0, g, c, out);
    });
  }
}

// The block's [x^2, x] in double, for the diag and spherical products.
template <typename T>
auto powers_of(const Eigen::Ref<const RowMatrix<T>>& xc, Workspace<T>& ws) {
  const Index rows = xc.rows(), n = xc.cols();
  auto z = ws.powers.topRows(rows);
  // centre_block may have written xc in place already.
  if (static_cast<const void*>(xc.data()) != static_cast<const void*>(z.rightCols(n).data()))
    z.rightCols(n) = xc.template cast<double>();
  z.leftCols(n) = z.rightCols(n).array().square().matrix();
  return z;
}

// xt (n x rows) = xc transposed, so that each feature's values for the block are contiguous and
// the per-component arithmetic below runs vectorised over rows.
template <typename T>
auto transposed(const Eigen::Ref<const RowMatrix<T>>& xc, Workspace<T>& ws) {
  auto xt = ws.xt.leftCols(xc.rows());
  xt = xc.transpose();
  return xt;
}
}

namespace {
// The mixture prepared about a given centre (a value of T). `split` lets full covariances with
// n > 4 send the components that allow it down the quadratic path.
template <typename T>
Prepared<T> prepare_about(const Mixture& mixture, const Vector<T>& centre, bool split) {
  Prepared<T> p;
  p.type = mixture.covariance_type;
  p.k = mixture.n_components();
  p.n = mixture.n_features();
  p.centre = centre;
  // Rows are centred on the centre as rounded to T, so the means must be taken relative to that
  // same point: for float data far from the origin the rounding exceeds the clusters' spread.
  const Vector<double> used_centre = p.centre.template cast<double>();
  const RowMatrix<double> rel = mixture.means.rowwise() - used_centre.transpose();
  const Vector<double> log_norm = log_norms(mixture);
  p.means = rel.cast<T>();
  p.prec_chol = mixture.precisions_cholesky.cast<T>();
  p.log_norm = log_norm.cast<T>();
  switch (p.type) {
    case CovarianceType::Tied: {
      p.tied_means_prec = (rel * mixture.precisions_cholesky.triangularView<Eigen::Upper>()).cast<T>();
      break;
    }
    case CovarianceType::Diag:
    case CovarianceType::Spherical:
      p.prec = mixture.precisions_cholesky.array().square().matrix().cast<T>();
      break;
    case CovarianceType::Full:
      break;
  }
  prepare_fast_paths(mixture, rel, log_norm, p);
  if (kHasQuadraticPath<T> && split && p.type == CovarianceType::Full && p.n > kSmallFeatures) {
    prepare_quadratic(mixture, rel, log_norm, p);
    if (!p.other_components.empty()) {
      // The rest keep their own weights (log_norm uses each component's weight only).
      const Index ko = static_cast<Index>(p.other_components.size()), n = p.n;
      Mixture rest;
      rest.covariance_type = p.type;
      rest.weights.resize(ko);
      rest.means.resize(ko, n);
      rest.covariances.resize(ko * n, n);
      rest.precisions_cholesky.resize(ko * n, n);
      for (Index j = 0; j < ko; ++j) {
        const Index c = p.other_components[j];
        rest.weights[j] = mixture.weights[c];
        rest.means.row(j) = mixture.means.row(c);
        rest.covariances.middleRows(j * n, n) = mixture.covariances.middleRows(c * n, n);
        rest.precisions_cholesky.middleRows(j * n, n) = mixture.precisions_cholesky.middleRows(c * n, n);
      }
      p.others = std::make_shared<const Prepared<T>>(prepare_about<T>(rest, p.centre, false));
    }
  }
  return p;
}
}  // namespace

// The point about which the quadratic path expands: the one that minimises the sum of the
// components' offsets (m_c - z)^T P_c (m_c - z), z = (sum P_c)^-1 sum P_c m_c over the components
// with weight. Each component loses about log10 of its offset in digits (see
// kQuadraticMaxOffset), and a tight cluster far from the weighted mean of the means has a large
// one: with the means' weighted mean as the centre, one such cluster of B's k-means start sat at
// 3.6e5 and took the slower centred products; about this point the largest offset of that
// mixture is 3.8e3. Empty when the sum is not positive definite.
Vector<double> precision_weighted_centre(const Mixture& mixture) {
  const Index k = mixture.n_components(), n = mixture.n_features();
  RowMatrix<double> total = RowMatrix<double>::Zero(n, n);
  Vector<double> rhs = Vector<double>::Zero(n);
  for (Index c = 0; c < k; ++c) {
    if (!(mixture.weights[c] > 0.0)) continue;
    const RowMatrix<double> U =
        mixture.precisions_cholesky.middleRows(c * n, n).triangularView<Eigen::Upper>();
    const RowMatrix<double> P = U * U.transpose();
    total += P;
    rhs += P * mixture.means.row(c).transpose();
  }
  const Eigen::LLT<RowMatrix<double>> llt(total);
  if (llt.info() != Eigen::Success) return {};
  Vector<double> z = llt.solve(rhs);
  if (!z.allFinite()) return {};
  return z;
}

template <typename T>
Prepared<T> prepare(const Mixture& mixture) {
  mixture.validate();
  const Index n = mixture.n_features();
  if (kHasQuadraticPath<T> && mixture.covariance_type == CovarianceType::Full && n > kSmallFeatures &&
      n > kFusedFullFeatures && n <= kMaxQuadraticFeatures) {
    const Vector<double> centre = precision_weighted_centre(mixture);
    if (centre.size() == n) return prepare_about<T>(mixture, centre.cast<T>(), true);
  }
  // Elsewhere the weighted mean of the means: the centre of the data, about which the rows are
  // centred (and tied covariances keep their one total second moment).
  const double wsum = mixture.weights.sum();
  const Vector<double> centre =
      wsum > 0 ? Vector<double>(mixture.means.transpose() * mixture.weights / wsum)
               : Vector<double>(mixture.means.colwise().mean().transpose());
  return prepare_about<T>(mixture, centre.cast<T>(), true);
}

// Diag and spherical queries with up to this many components take diag_log_prob_rows.
constexpr Index kFusedDiagComponents = 16;

template <typename T>
RowMatrix<double> fused_diag_coefficients(const Prepared<T>& p) {
  if ((p.type != CovarianceType::Diag && p.type != CovarianceType::Spherical) ||
      p.k > kFusedDiagComponents)
    return {};
  // Whole vector registers only: padding to 8 or 16 columns keeps every sum a full packet.
  const Index width = p.k <= 8 ? 8 : 16;
  RowMatrix<double> c = RowMatrix<double>::Zero(2 * p.n + 1, width);
  c.topLeftCorner(2 * p.n, p.k) = p.diag_w;
  c.bottomLeftCorner(1, p.k) = p.diag_const;
  // Padding columns sum to -inf, so the labels' maximum may run over whole registers.
  c.bottomRightCorner(1, width - p.k).setConstant(-std::numeric_limits<double>::infinity());
  return c;
}

namespace {
template <int K, typename T>
Index diag_log_prob_rows_fixed(const Prepared<T>& p, const RowMatrix<double>& coefficients,
                               const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out,
                               double* labels) {
  using Sums = Eigen::Matrix<double, K, 1>;
  using Row = Eigen::Map<const Sums>;
  const Index n = p.n, k = p.k, m = rows.rows();
  const double* w = coefficients.data();  // row j: x_j^2, row n + j: x_j, row 2n: constant
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
}  // namespace

template <typename T>
Index diag_log_prob_rows(const Prepared<T>& p, const RowMatrix<double>& coefficients,
                         const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out,
                         double* labels) {
  return coefficients.cols() == 8 ? diag_log_prob_rows_fixed<8, T>(p, coefficients, rows, out, labels)
                                  : diag_log_prob_rows_fixed<16, T>(p, coefficients, rows, out, labels);
}

template <typename T>
Eigen::Ref<RowMatrix<T>> centre_block(const Prepared<T>& p,
                                      const Eigen::Ref<const RowMatrix<T>>& rows, Workspace<T>& ws) {
  if constexpr (std::is_same<T, double>::value) {
    if (p.type == CovarianceType::Diag || p.type == CovarianceType::Spherical) {
      auto xc = ws.powers.topRows(rows.rows()).rightCols(p.n);
      xc = rows.rowwise() - p.centre.transpose();
      return xc;
    }
  }
  auto xc = ws.xc.topRows(rows.rows());
  xc = rows.rowwise() - p.centre.transpose();
  return xc;
}

// log weight_c + log N(x_i | c) of component c for each row of the block transposed (xt, one
// feature per row), full covariance with N <= kSmallFeatures features: the differences, the
// triangular factor and the sum of squares per row, the whole loop vectorised across rows.
template <int N, typename T>
void small_full_log_prob(const Eigen::Ref<const RowMatrix<T>>& xt, const Prepared<T>& p, Index c,
                         T* out) {
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

template <typename T>
void weighted_log_prob_block(const Prepared<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc,
                             Workspace<T>& ws, Eigen::Ref<RowMatrix<T>> out) {
  const Index rows = xc.rows(), n = p.n;
  const T half = T(0.5);
  switch (p.type) {
    case CovarianceType::Full:
      if constexpr (kHasQuadraticPath<T>) {
        if (takes_quadratic_path(p, xc)) {
          quadratic_log_prob_block(p, xc, ws, out);
          break;
        }
      }
      if (n > kSmallFeatures && n <= kFusedFullFeatures) {
        fused_full_log_prob<T>(p, xc, out);
      } else if (n > kSmallFeatures) {
        // The Mahalanobis terms of a group of components in one product of the block with
        // their stacked factors (groups keep the product buffer in cache), then the offsets
        // means_c U_c subtracted and each component's segment squared and summed.
        for (Index c0 = 0; c0 < p.k; c0 += p.group) {
          const Index g = std::min(p.group, p.k - c0);
          auto y = ws.prod.topLeftCorner(rows, g * n);
          // U_c is upper triangular, so the columns of feature j need only the first j + 1
          // features of the block: taking the features in panels, each panel's product stops
          // at its last feature, which skips about 3/8 of the work for 4 panels (exact zeros
          // only, so the sums are the same).
          const Index panel = panel_features(n, g);
          for (Index j0 = 0; j0 < n; j0 += panel) {
            const Index j1 = std::min(n, j0 + panel);
            y.middleCols(j0 * g, (j1 - j0) * g).noalias() =
                xc.leftCols(j1) * p.stacked.block(0, c0 * n + j0 * g, j1, (j1 - j0) * g);
          }
          const T* off = p.stacked_offset.data() + c0 * n;
          for (Index i = 0; i < rows; ++i) {
            const T* yi = &y(i, 0);
            T* oi = &out(i, c0);
            const T* ln = p.log_norm.data() + c0;
            Index c = 0;
            // Chunks of kChunk components keep their sums in registers across the features.
            for (; c + kChunk <= g; c += kChunk) sum_squares<T, kChunk>(yi + c, off + c, g, n, ln + c, oi + c);
            for (; c < g; ++c) sum_squares<T, 1>(yi + c, off + c, g, n, ln + c, oi + c);
          }
        }
      } else {
        // Few features: a product would be all overhead. Each component's log-densities in
        // one pass over the block's rows (vectorised across rows), then into its column.
        const auto xt = transposed<T>(xc, ws);
        auto col = ws.colvec.head(rows);
        with_fixed_size<1, kSmallFeatures>(n, [&](auto fixed) {
          constexpr int N = decltype(fixed)::value;
          if constexpr (N > 0) {
            for (Index c = 0; c < p.k; ++c) {
              small_full_log_prob<N, T>(xt, p, c, col.data());
              out.col(c) = col;
            }
          }
        });
      }
      break;
    case CovarianceType::Tied: {
      // One product for all components: (x - m_c) U = x U - m_c U.
      auto prod = ws.prod.topLeftCorner(rows, n);
      prod.noalias() = xc * p.prec_chol.template triangularView<Eigen::Upper>();
      for (Index c = 0; c < p.k; ++c) {
        out.col(c) = (-half * (prod.rowwise() - p.tied_means_prec.row(c)).rowwise().squaredNorm()).array() +
                     p.log_norm[c];
      }
      break;
    }
    case CovarianceType::Diag:
    case CovarianceType::Spherical: {
      const auto z = powers_of<T>(xc, ws);
      if constexpr (std::is_same<T, double>::value) {
        out.noalias() = z * p.diag_w;
        out.rowwise() += p.diag_const.row(0);
      } else {
        auto lp = ws.log_prob_d.topRows(rows);
        lp.noalias() = z * p.diag_w;
        lp.rowwise() += p.diag_const.row(0);
        out = lp.template cast<T>();
      }
      break;
    }
  }
}

bool takes_quadratic_path(const Prepared<double>& p, const Eigen::Ref<const RowMatrix<double>>& xc) {
  return p.quadratic && xc.rows() > 0 && xc.cwiseAbs().maxCoeff() <= p.quad_max_abs;
}

void begin_quadratic_slot(const Prepared<double>& p, Workspace<double>& ws) {
  ws.quad_acc.setZero();
  if (!p.others) return;
  const Index ko = static_cast<Index>(p.other_components.size());
  // Only the sums are used; the shift recorded here is never merged.
  ws.other_stats = SufficientStats::zeros(p.type, ko, p.n, RowMatrix<double>());
}

namespace {

// Products x_j x_l for l >= j, row by row of the upper triangle (the order of quad_w), then x,
// then 1. The row is copied first: phi and xc are both double, and the compiler would otherwise
// reload x after every store in case they overlap. (The path starts above kFusedFullFeatures
// features, where the triangle's rows are long enough that runtime loop bounds cost little; at
// n = 8, when it started at 5, they took a fifth of the pass and needed compiled sizes.)
void quadratic_features(const Eigen::Ref<const RowMatrix<double>>& xc,
                        Eigen::Ref<RowMatrix<double>> phi) {
  const Index n = xc.cols();
  for (Index i = 0; i < xc.rows(); ++i) {
    double x[kMaxQuadraticFeatures];
    std::copy_n(xc.data() + i * xc.outerStride(), n, x);
    double* f = phi.data() + i * phi.outerStride();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#endif
    for (Index j = 0; j < n; ++j) {
      const double xj = x[j];
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#endif
      for (Index l = j; l < n; ++l) *f++ = xj * x[l];
    }
    for (Index j = 0; j < n; ++j) *f++ = x[j];
    *f = 1.0;
  }
}

}  // namespace

void quadratic_log_prob_block(const Prepared<double>& p,
                                      const Eigen::Ref<const RowMatrix<double>>& xc,
                                      Workspace<double>& ws, Eigen::Ref<RowMatrix<double>> out) {
  const Index rows = xc.rows();
  const Index kq = static_cast<Index>(p.quad_components.size()), ko = p.k - kq;
  auto phi = ws.phi.topRows(rows);
  quadratic_features(xc, phi);
  if (!p.others) {
    out.noalias() = phi * p.quad_w;
    return;
  }
  // Some components take the centred products: both parts side by side, then scattered.
  auto lp = ws.split_lp.topRows(rows);
  lp.leftCols(kq).noalias() = phi * p.quad_w;
  weighted_log_prob_block<double>(*p.others, xc, ws, lp.middleCols(kq, ko));
  for (Index j = 0; j < kq; ++j) out.col(p.quad_components[j]) = lp.col(j);
  for (Index j = 0; j < ko; ++j) out.col(p.other_components[j]) = lp.col(kq + j);
}

void quadratic_moments_block(const Prepared<double>& p,
                                     const Eigen::Ref<const RowMatrix<double>>& xc,
                                     const Eigen::Ref<const RowMatrix<double>>& resp,
                                     const Eigen::Ref<const Vector<double>>& row_weight,
                                     Workspace<double>& ws) {
  const Index rows = resp.rows();
  const auto phi = ws.phi.topRows(rows);
  if (!p.others) {
    ws.quad_acc.noalias() += resp.transpose() * phi;
    return;
  }
  const Index kq = static_cast<Index>(p.quad_components.size()), ko = p.k - kq;
  auto r = ws.split_resp.topRows(rows);
  for (Index j = 0; j < kq; ++j) r.col(j) = resp.col(p.quad_components[j]);
  for (Index j = 0; j < ko; ++j) r.col(kq + j) = resp.col(p.other_components[j]);
  ws.quad_acc.topRows(kq).noalias() += r.leftCols(kq).transpose() * phi;
  accumulate_moments_block<double>(p.type, xc, r.middleCols(kq, ko), row_weight, p.others->means, ws,
                                   ws.other_stats);
  // At once: the sums it defers are shared with the pass's blocks that skip the quadratic path.
  flush_moments<double>(p.others->means, ws, ws.other_stats);
}

void flush_quadratic_moments(const Prepared<double>& p, const RowMatrix<double>& rel_shift,
                                     Workspace<double>& ws, SufficientStats& stats) {
  const Index n = p.n, d = quadratic_dim(n);
  const Index linear = d - 1 - n;  // first column of the values x_j
  const Index kq = static_cast<Index>(p.quad_components.size());
  for (Index j = 0; j < kq; ++j) {
    const Index c = p.quad_components[j];
    const auto a = ws.quad_acc.row(j);
    const double N = a[d - 1];
    stats.n_k[c] += N;
    if (N == 0.0) continue;
    // About the shift s: sum r (x - s) = L - N s and
    // sum r (x - s)(x - s)^T = Q - s L^T - L s^T + N s s^T (lower half kept, see SufficientStats).
    const Vector<double> s = rel_shift.row(c).transpose();
    const auto L = a.segment(linear, n);
    stats.s1.row(c) += L - N * s.transpose();
    auto S = stats.s2.middleRows(c * n, n);
    Index q = 0;
    for (Index jj = 0; jj < n; ++jj) {
      for (Index l = jj; l < n; ++l, ++q)
        S(l, jj) += a[q] - s[jj] * L[l] - L[jj] * s[l] + N * s[jj] * s[l];
    }
  }
  if (!p.others) return;
  const auto& o = ws.other_stats;
  for (Index j = 0; j < static_cast<Index>(p.other_components.size()); ++j) {
    const Index c = p.other_components[j];
    stats.n_k[c] += o.n_k[j];
    stats.s1.row(c) += o.s1.row(j);
    stats.s2.middleRows(c * n, n) += o.s2.middleRows(j * n, n);
  }
}

// Column sums of a row-major block, taken along the rows' contiguous memory (Eigen's column-wise
// sum of a row-major block strides down each column, one scalar at a time). Up to 16 columns the
// row length is compiled in and four running sums, over rows i mod 4, hide the latency of the
// additions; they are added in a fixed order, so the result depends on the block alone.
template <typename T>
void column_sums(const Eigen::Ref<const RowMatrix<T>>& m, Eigen::Ref<Vector<T>> out) {
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

// The moments of component c about its shift for full covariances with N <= kSmallFeatures
// features: the first moments and the lower triangle of the second, from the block transposed
// (xt, one feature per row). Each sum keeps kLanes partial sums, one per row of a group, so the
// loop over a group vectorises across rows without reordering any single sum.
template <int N, typename T>
void small_full_moments(const Eigen::Ref<const RowMatrix<T>>& xt, const Eigen::Ref<const RowMatrix<T>>& resp,
                        Index c, const RowMatrix<T>& rel_shift, SufficientStats& stats) {
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

// The same for groups narrower than a packet (the quadratic path's far components, often one),
// with the shifts as rows (g, n): plain loops, which vectorise across the features; Eigen's
// packets cost ten times the arithmetic in per-feature setup at g = 1.
template <typename T>
void narrow_weighted_differences(const Eigen::Ref<const RowMatrix<T>>& xc,
                                 const Eigen::Ref<const RowMatrix<T>>& resp, Index c0,
                                 const Eigen::Ref<const RowMatrix<T>>& shifts, Eigen::Ref<RowMatrix<T>> z) {
  const Index g = shifts.rows(), n = xc.cols();
  for (Index i = 0; i < xc.rows(); ++i) {
    const T* xi = xc.data() + i * xc.outerStride();
    const T* ri = resp.data() + i * resp.outerStride() + c0;
    T* zi = z.data() + i * z.outerStride();
    for (Index c = 0; c < g; ++c) {
      const T rc = ri[c];
      const T* sc = shifts.data() + c * shifts.outerStride();
      for (Index j = 0; j < n; ++j) zi[j * g + c] = (xi[j] - sc[j]) * rc;
    }
  }
}

// z(i, j*g + c) = (xc_ij - shift_c0+c,j) r_i,c0+c: the weighted differences of a group of g
// components, feature-major. G > 0 fixes g at compile time.
template <int G, typename T>
void weighted_differences(const Eigen::Ref<const RowMatrix<T>>& xc, const Eigen::Ref<const RowMatrix<T>>& resp,
                          Index c0, Index g, const Eigen::Ref<const RowMatrix<T>>& shift_t,
                          Eigen::Ref<RowMatrix<T>> z) {
  // Eigen packets: each feature is one broadcast, subtraction and multiplication across the
  // group (left to itself, the compiler vectorised across features instead, gathering the
  // shifts). With g compiled in, the row's responsibilities are copied so they stay in
  // registers; otherwise they are read in place (a copy would allocate).
  using Group = Eigen::Array<T, (G > 0 ? G : Eigen::Dynamic), 1>;
  using Responsibilities = std::conditional_t<(G > 0), const Group, const Eigen::Map<const Group>>;
  const Index gg = G > 0 ? G : g, n = xc.cols();
  for (Index i = 0; i < xc.rows(); ++i) {
    const T* xi = xc.data() + i * xc.outerStride();
    const Responsibilities r = Eigen::Map<const Group>(resp.data() + i * resp.outerStride() + c0, gg);
    T* zi = z.data() + i * z.outerStride();
    for (Index j = 0; j < n; ++j) {
      const Eigen::Map<const Group> sj(shift_t.data() + j * shift_t.outerStride(), gg);
      Eigen::Map<Group>(zi + j * gg, gg) = (xi[j] - sj) * r;
    }
  }
}

// Up to kFusedFullFeatures features (see there) the moment products are fused as well: for W
// components (c..c+W of the group of g starting at c0), feature j and Q consecutive rows l0.. of
// x1 = [xc, 1], the sums over the block's rows of x1_il z_ij with z_ij = r_i (x_ij - shift_j),
// each (l, j) one W-wide running sum in a register, added in double to the slot's sums `out`
// (row l0, the chunk's column for feature j; rows ld_out apart). z is formed in registers, never
// stored, and there is nothing to pack: at n = 16 in float the products' packing and the stored
// z cost more than their multiply-adds.
template <int W, int Q, typename T>
void fused_moment_tile(const Eigen::Ref<const RowMatrix<T>>& x1, const T* resp, Index ld_resp,
                       const T* shift, Index j, Index l0, double* out, Index ld_out) {
  using Lanes = Eigen::Array<T, W, 1>;
  using Load = Eigen::Map<const Lanes, Eigen::Unaligned>;
  Lanes acc[Q];
  for (int t = 0; t < Q; ++t) acc[t].setZero();
  const Lanes sh = Load(shift);
  for (Index i = 0; i < x1.rows(); ++i) {
    const T* xi = x1.data() + i * x1.outerStride();
    const Lanes z = (xi[j] - sh) * Load(resp + i * ld_resp);
    for (int t = 0; t < Q; ++t) acc[t] += xi[l0 + t] * z;
  }
  for (int t = 0; t < Q; ++t)
    Eigen::Map<Eigen::Array<double, W, 1>, Eigen::Unaligned>(out + t * ld_out) += acc[t].template cast<double>();
}

// The lower triangle (rows l >= j) and the first moments (row n) of W components' sums, in
// tiles of up to kTile rows held in registers across the block.
template <int W, typename T>
void fused_full_moments_chunk(const Eigen::Ref<const RowMatrix<T>>& x1, const Eigen::Ref<const RowMatrix<T>>& resp,
                              Index c0, Index g, Index c, const Eigen::Ref<const RowMatrix<T>>& shift_t,
                              RowMatrix<double>& sums) {
  // 8 sums of at most one register each (W never exceeds a register's lanes), with the
  // shifts, the weighted differences and a responsibility load: within AVX2's 16 registers too.
  constexpr int kTile = 8;
  const Index n = x1.cols() - 1;
  const T* r = resp.data() + c0 + c;
  for (Index j = 0; j < n; ++j) {
    const T* shift = shift_t.data() + j * shift_t.outerStride() + c;
    double* column = sums.data() + c0 * n + j * g + c;
    Index l0 = j;
    for (; l0 + kTile <= n + 1; l0 += kTile)
      fused_moment_tile<W, kTile, T>(x1, r, resp.outerStride(), shift, j, l0, column + l0 * sums.outerStride(),
                                     sums.outerStride());
    with_fixed_size<1, kTile>(n + 1 - l0, [&](auto fixed) {
      constexpr int Q = decltype(fixed)::value;
      if constexpr (Q > 0)
        fused_moment_tile<W, Q, T>(x1, r, resp.outerStride(), shift, j, l0, column + l0 * sums.outerStride(),
                                   sums.outerStride());
    });
  }
}

template <typename T>
void accumulate_moments_block(CovarianceType type, const Eigen::Ref<const RowMatrix<T>>& xc,
                              const Eigen::Ref<const RowMatrix<T>>& resp,
                              const Eigen::Ref<const Vector<T>>& row_weight,
                              const RowMatrix<T>& rel_shift, Workspace<T>& ws,
                              SufficientStats& stats, bool powers_ready) {
  const Index rows = xc.rows(), n = xc.cols(), k = resp.cols();
  auto nk_block = ws.nk_block.head(k);
  column_sums<T>(resp, nk_block);
  stats.n_k += nk_block.template cast<double>();
  if (type == CovarianceType::Tied) {
    // Common shift: first moments by one product, and one total second moment taken in double
    // (it is the difference of two large terms in maximize, so it needs the extra digits).
    // The first moments in double too: maximize() subtracts s1 s1^T / N from the total, and for
    // well-separated clusters both are far larger than the within-cluster scatter.
    auto& cd = ws.centred_double;
    cd = (xc.rowwise() - rel_shift.row(0)).template cast<double>();
    auto r = ws.resp_d.topRows(rows);
    r = resp.template cast<double>();
    stats.s1.noalias() += r.transpose() * cd;
    cd.array().colwise() *= row_weight.template cast<double>().array().sqrt();
    stats.s2.template selfadjointView<Eigen::Lower>().rankUpdate(cd.transpose());
    return;
  }
  if (type == CovarianceType::Full && n > kSmallFeatures) {
    // For a group of components one product xc^T [z_c ...] with z_c = r_c (xc - shift_c): it
    // gives sum_i r_ic xc_i (xc_i - shift_c)^T, from which the moments about the shift follow by
    // subtracting shift_c s1_c^T, with s1_c = sum_i z_c,i. Only one factor is centred on the
    // component, so float data lose digits in proportion to |shift_c| / spread, not its square.
    const Index g_max = Workspace<T>::group_size(k, n);
    // xc with a column of ones: the extra row of the product holds the first moments.
    auto x1 = ws.xc1.topRows(rows);
    x1.leftCols(n) = xc;
    x1.col(n).setOnes();
    // Only the lower triangle of each second moment is kept (see SufficientStats), so the
    // columns of feature j need only the rows l >= j: with z feature-major (column j*g + c holds
    // feature j of component c) each panel of features is one product that starts at the
    // panel's first feature, skipping about 3/8 of the multiply-adds for 4 panels and more for
    // more (the same panels as the E-step's triangular factors).
    // The products are summed in double over the blocks of a slot (see flush_moments): moving
    // them into stats, a strided scatter, once per block cost as much as a fifth of the pass.
    if (!ws.full_pending) {
      ws.full_sums.setZero(n + 1, k * n);
      ws.full_pending = true;
    }
    for (Index c0 = 0; c0 < k; c0 += g_max) {
      const Index g = std::min(g_max, k - c0);
      if (n <= kFusedFullFeatures) {
        // The same sums without z or products: see fused_moment_tile.
        auto shift_t = ws.shift_t.topLeftCorner(n, g);
        shift_t = rel_shift.middleRows(c0, g).transpose();
        for_each_chunk<T>(g, [&](auto width, Index c) {
          fused_full_moments_chunk<decltype(width)::value, T>(x1, resp, c0, g, c, shift_t, ws.full_sums);
        });
        continue;
      }
      auto z = ws.prod.topLeftCorner(rows, g * n);
      if (g < 4) {
        narrow_weighted_differences<T>(xc, resp, c0, rel_shift.middleRows(c0, g), z);
      } else {
        auto shift_t = ws.shift_t.topLeftCorner(n, g);
        shift_t = rel_shift.middleRows(c0, g).transpose();
        // A compiled group width keeps a row's responsibilities in registers across the features.
        if (g == 8) {
          weighted_differences<8, T>(xc, resp, c0, g, shift_t, z);
        } else if (g == 16) {
          weighted_differences<16, T>(xc, resp, c0, g, shift_t, z);
        } else {
          weighted_differences<0, T>(xc, resp, c0, g, shift_t, z);
        }
      }
      auto S = ws.moments.topLeftCorner(n + 1, g * n);
      const Index panel = panel_features(n, g);
      for (Index j0 = 0; j0 < n; j0 += panel) {
        const Index j1 = std::min(n, j0 + panel);
        auto part = S.block(j0, j0 * g, n + 1 - j0, (j1 - j0) * g);
        part.noalias() = x1.rightCols(n + 1 - j0).transpose() * z.middleCols(j0 * g, (j1 - j0) * g);
        ws.full_sums.block(j0, c0 * n + j0 * g, n + 1 - j0, (j1 - j0) * g) += part.template cast<double>();
      }
    }
    return;
  }

  if (type == CovarianceType::Diag || type == CovarianceType::Spherical) {
    // sum r x^2 and sum r x for all components in one product, in double, then moved to the
    // shifts: sum r (x - s) = sum r x - N s, sum r (x - s)^2 = sum r x^2 - 2 s sum r x + N s^2.
    const auto z = powers_ready ? ws.powers.topRows(rows) : powers_of<T>(xc, ws);
    auto A = ws.moments_d.topRows(k);
    // The responsibility sums in double: float responsibilities are summed again in double.
    auto nb = ws.nk_d.head(k);
    if constexpr (std::is_same<T, double>::value) {
      A.noalias() = resp.transpose() * z;
      nb = nk_block;
    } else {
      auto r = ws.resp_d.topRows(rows);
      r = resp.template cast<double>();
      A.noalias() = r.transpose() * z;
      column_sums<double>(r, nb);
    }
    for (Index c = 0; c < k; ++c) {
      if (nk_block[c] == T(0)) continue;
      const auto s = rel_shift.row(c).template cast<double>().array();
      const auto sx = A.row(c).tail(n).array();
      const auto sxx = A.row(c).head(n).array();
      stats.s1.row(c).array() += sx - nb[c] * s;
      const auto second = sxx - 2.0 * s * sx + nb[c] * s.square();
      if (type == CovarianceType::Diag) {
        stats.s2.row(c).array() += second;
      } else {
        stats.s2(c, 0) += second.sum();
      }
    }
    return;
  }
  // Few features (full): every sum of a component in one pass over the block's rows.
  const auto xt = transposed<T>(xc, ws);
  with_fixed_size<1, kSmallFeatures>(n, [&](auto fixed) {
    constexpr int N = decltype(fixed)::value;
    if constexpr (N > 0) {
      for (Index c = 0; c < k; ++c)
        if (nk_block[c] != T(0)) small_full_moments<N, T>(xt, resp, c, rel_shift, stats);
    }
  });
}

template <typename T>
void flush_moments(const RowMatrix<T>& rel_shift, Workspace<T>& ws, SufficientStats& stats) {
  if (!ws.full_pending) return;
  ws.full_pending = false;
  const Index k = rel_shift.rows(), n = rel_shift.cols();
  const Index g_max = Workspace<T>::group_size(k, n);
  const auto& A = ws.full_sums;
  // Column c0 n + j g + c of the sums holds sum r_c xc_l (xc_j - shift_cj) in row l and
  // sum r_c (xc_j - shift_cj) in row n; the moments about the shift follow by subtracting
  // shift_cl times the latter (lower triangle only, see SufficientStats).
  for (Index c0 = 0; c0 < k; c0 += g_max) {
    const Index g = std::min(g_max, k - c0);
    for (Index c = 0; c < g; ++c) {
      const Index cc = c0 + c;
      auto s2 = stats.s2.middleRows(cc * n, n);
      auto s1 = stats.s1.row(cc);
      for (Index j = 0; j < n; ++j) {
        const Index col = c0 * n + j * g + c;
        const double first = A(n, col);
        s1[j] += first;
        for (Index l = j; l < n; ++l) s2(l, j) += A(l, col) - static_cast<double>(rel_shift(cc, l)) * first;
      }
    }
  }
}

Index block_rows_for(Index k, Index n) {
  // The product path keeps rows x (n + 1 + 256) scalars of a block in a core's L2 cache; the
  // vectorised-over-rows paths want long rows for little loop overhead, within the same bound.
  if (n <= kSmallFeatures) return 1024;
  const Index per_row = n + k + std::min<Index>(k * n, Workspace<double>::kProductCols) + 8;
  const Index rows = (Index(1) << 17) / per_row;
  return std::max<Index>(64, std::min<Index>(512, rows));
}

template <typename T>
Index block_rows_for(const Prepared<T>& p) {
  if (!p.quadratic) return block_rows_for(p.k, p.n);
  // A block's features (rows x quadratic_dim(n) doubles) stay within a core's L2 cache.
  const Index per_row = quadratic_dim(p.n) + 2 * p.k + p.n + 8;
  return std::max<Index>(64, std::min<Index>(512, (Index(1) << 17) / per_row));
}

Index max_slots_for(CovarianceType type, Index k, Index n) {
  const auto shape = covariance_storage_shape(type, k, n);
  const Index bytes = 8 * (shape.first * shape.second + k * n + k + 8);
  const Index budget = Index(32) << 20;  // 32 MiB of partial sums at most
  return std::max<Index>(1, std::min<Index>(64, budget / std::max<Index>(bytes, 1)));
}

#define GAUSSMIX_INSTANTIATE(T)                                                                    \
  template Prepared<T> prepare<T>(const Mixture&);                                                 \
  template RowMatrix<double> fused_diag_coefficients<T>(const Prepared<T>&);                       \
  template Index diag_log_prob_rows<T>(const Prepared<T>&, const RowMatrix<double>&,               \
                                       const Eigen::Ref<const RowMatrix<T>>&,                      \
                                       Eigen::Ref<RowMatrix<T>>, double*);                         \
  template Eigen::Ref<RowMatrix<T>> centre_block<T>(const Prepared<T>&,                            \
                                                    const Eigen::Ref<const RowMatrix<T>>&,           \
                                                    Workspace<T>&);                                  \
  template void weighted_log_prob_block<T>(const Prepared<T>&,                                     \
                                           const Eigen::Ref<const RowMatrix<T>>&, Workspace<T>&,   \
                                           Eigen::Ref<RowMatrix<T>>);                              \
  template void accumulate_moments_block<T>(                                                       \
      CovarianceType, const Eigen::Ref<const RowMatrix<T>>&, const Eigen::Ref<const RowMatrix<T>>&, \
      const Eigen::Ref<const Vector<T>>&, const RowMatrix<T>&, Workspace<T>&, SufficientStats&,    \
      bool);                                                                                       \
  template void flush_moments<T>(const RowMatrix<T>&, Workspace<T>&, SufficientStats&);            \
  template Index block_rows_for<T>(const Prepared<T>&);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix::detail
