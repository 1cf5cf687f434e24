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
// above it the fused kernels below.
constexpr Index kSmallFeatures = 4;

// Full covariances with more features take the fused kernels (fused_full_log_prob,
// fused_full_moments_chunk) in both precisions: the triangular products, the offsets and the sums
// of squares in registers, row by row, a register's worth of components at a time, instead of
// matrix products of each block with the stacked factors. The products' packing and their
// stored intermediates cost as much as their arithmetic at n = 16 in float, and panels of
// products (to skip the zeros of the triangular factors) left them thin at any n. Measured on one
// thread (AVX-512, ms per EM iteration, products -> fused), float: n = 16, k = 16, m = 2e5
// 67 -> 32; n = 40, k = 16, m = 5e4 80 -> 40; n = 64, k = 32, m = 5e4 256 -> 201; n = 96, k = 16,
// m = 3e4 415 -> 147; double: n = 16 82 -> 70 (against the quadratic path), n = 96 740 -> 350.
// The fused moments hold a tile of sums in registers while running over the rows
// (moment_tile), the fused E-step a row's running sums while running over the factors, read in
// order from Prepared::triangles, in slices that stay in cache (kFactorSliceBytes).

// Vector registers the fused kernels may plan their running sums for.
#ifdef EIGEN_VECTORIZE_AVX512
constexpr int kVectorRegisters = 32;
#else
constexpr int kVectorRegisters = 16;
#endif

// From this many features double data may take the quadratic path (see kMaxQuadraticFeatures).
constexpr Index kQuadraticMinFeatures = 33;

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

// Scalars per component in Prepared::triangles: per feature j its offset and the j + 1 entries
// U(0..j, j).
inline Index triangle_size(Index n) { return n + n * (n + 1) / 2; }

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
// squared take it (losing at most 5 of double's 16 digits); the rest keep the centred kernels.
constexpr double kQuadraticMaxOffset = 1e5;

// Magnitudes the quadratic products must stay within: squares of centred values times the
// coefficients may neither overflow nor lose their digits to underflow.
constexpr double kQuadraticMaxCoefficient = 1e150;
constexpr double kQuadraticMaxProduct = 1e250;

// Up to this many features the quadratic path was measured faster than the centred matrix
// products that preceded the fused kernels (config E, n = 64); beyond it a block's features
// (n^2 / 2 per row) outgrow the cache. Below kQuadraticMinFeatures the fused centred kernels are
// faster, and they lose no digits to the expansion; from there to 64 the two were within the
// noise of each other (double, n = 64, k = 32: 462 and 485 ms per iteration on one thread, 257
// and 260 on two).
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
    if (n >= kQuadraticMinFeatures && n <= kMaxQuadraticFeatures && offset <= kQuadraticMaxOffset &&
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
    // The pruned queries' bounds (pruned_query.cpp) take products of blocks with the factors
    // side by side: within a group the columns are feature-major (column j*g + c holds feature j
    // of component c), so their sums over features run across the group's components.
    p.group = Workspace<T>::group_size(k, n);
    RowMatrix<double> stacked(n, k * n), offset(1, k * n), means_u(k, n);
    for (Index c0 = 0; c0 < k; c0 += p.group) {
      const Index g = std::min(p.group, k - c0);
      for (Index c = c0; c < c0 + g; ++c) {
        const RowMatrix<double> U = mixture.precisions_cholesky.middleRows(c * n, n)
                                        .triangularView<Eigen::Upper>();
        const RowMatrix<double> off = rel.row(c) * U;
        means_u.row(c) = off;
        for (Index j = 0; j < n; ++j) {
          stacked.col(c0 * n + j * g + (c - c0)) = U.col(j);
          offset(0, c0 * n + j * g + (c - c0)) = off(0, j);
        }
      }
    }
    p.stacked = stacked.cast<T>();
    p.stacked_offset = offset.cast<T>();
    // The fused E-step's factors, chunk by chunk in the order it reads them (fused_full_chunk).
    p.triangles.resize(k * triangle_size(n));
    for_each_chunk<T>(k, [&](auto width, Index c) {
      constexpr int W = decltype(width)::value;
      T* u = p.triangles.data() + c * triangle_size(n);
      for (Index j = 0; j < n; ++j) {
        for (int w = 0; w < W; ++w) *u++ = static_cast<T>(-means_u(c + w, j));
        for (Index l = 0; l <= j; ++l)
          for (int w = 0; w < W; ++w) *u++ = static_cast<T>(mixture.precisions_cholesky((c + w) * n + l, j));
      }
    });
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

// The fused E-step reads a chunk's factors in slices of features of at most this many bytes,
// each slice for all the block's rows before the next: a slice stays in the core's second-level
// cache while eight rows at a time stream through it (n = 64 in float is one slice of 133 KB
// for 16 components).
constexpr Index kFactorSliceBytes = Index(256) << 10;

// log weight + log N of the W components c..c+W for every row of the centred block xc, into
// out(:, c..c+W): for each feature j the sum over l <= j of x_l U_c(l, j), one W-wide
// multiply-add per (l, j) started from -means_c U_c(:, j), then squared into the row's running
// sum. The factors are read in order from the chunk's run of Prepared::triangles; R rows at a
// time share each load. Features come in slices (kFactorSliceBytes): the first writes
// log_norm - sum / 2 for its features, each later one subtracts its own half sum.
template <int W, typename T>
void fused_full_chunk(const Prepared<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc, Index c,
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

// The fused kernel for every component, a register's worth at a time.
template <typename T>
void fused_full_log_prob(const Prepared<T>& p, const Eigen::Ref<const RowMatrix<T>>& xc,
                         Eigen::Ref<RowMatrix<T>> out) {
  for_each_chunk<T>(p.k, [&](auto width, Index c) { fused_full_chunk<decltype(width)::value, T>(p, xc, c, out); });
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
// 3.6e5 and took the then slower centred products; about this point the largest offset of that
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
      n >= kQuadraticMinFeatures && n <= kMaxQuadraticFeatures) {
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
      if (n > kSmallFeatures) {
        fused_full_log_prob<T>(p, xc, out);
      } else {
        // Few features: each component's log-densities in one pass over the block's rows
        // (vectorised across rows), then into its column.
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
// reload x after every store in case they overlap. (The path starts at kQuadraticMinFeatures
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
  // Some components take the centred kernels: both parts side by side, then scattered.
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

// Register tile of the moment sums: for L rows l0.. of x1 and J features j0.. of the W
// components' weighted differences z (zp: the sub-block's rows, J * W scalars each), the sums
// over the rows of x1_il z_ij, L * J running sums of W lanes, added in double to `out` (entry
// (l, j) at out + (l - l0) * ld_out + (j - j0) * ld_feature). Entries with l < j belong to no
// moment and are not added.
template <int W, int L, int J, typename T>
void moment_tile(const T* x1, Index ld_x, Index rows, const T* zp, Index j0, Index l0, double* out,
                 Index ld_out, Index ld_feature) {
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
// ((n + 1) x k n, column j k + c for feature j of component c; see flush_moments): in sub-blocks
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
    // Per component, sum_i r_ic x1_i (xc_i - shift_c)^T with x1 = [xc, 1]: rows l < n give
    // sum_i r_ic xc_i (xc_i - shift_c)^T, from which the moments about the shift follow by
    // subtracting shift_c s1_c^T; row n gives s1_c = sum_i r_ic (xc_i - shift_c). Only one factor
    // is centred on the component, so float data lose digits in proportion to |shift_c| /
    // spread, not its square. Only the lower triangle (l >= j) is formed (see SufficientStats).
    // The sums are added in double over the blocks of a slot (see flush_moments): moving them
    // into stats, a strided scatter, once per block cost as much as a fifth of the pass.
    auto x1 = ws.xc1.topRows(rows);
    x1.leftCols(n) = xc;
    x1.col(n).setOnes();
    if (!ws.full_pending) {
      ws.full_sums.setZero(n + 1, k * n);
      ws.full_pending = true;
    }
    auto shift_t = ws.shift_t.topLeftCorner(n, k);
    shift_t = rel_shift.transpose();
    for_each_chunk<T>(k, [&](auto width, Index c) {
      fused_full_moments_chunk<decltype(width)::value, T>(x1, resp, c, shift_t, ws.full_sums);
    });
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
  const auto& A = ws.full_sums;
  // Column j k + c of the sums holds sum r_c xc_l (xc_j - shift_cj) in row l and
  // sum r_c (xc_j - shift_cj) in row n; the moments about the shift follow by subtracting
  // shift_cl times the latter (lower triangle only, see SufficientStats).
  for (Index c = 0; c < k; ++c) {
    auto s2 = stats.s2.middleRows(c * n, n);
    auto s1 = stats.s1.row(c);
    for (Index j = 0; j < n; ++j) {
      const Index col = j * k + c;
      const double first = A(n, col);
      s1[j] += first;
      for (Index l = j; l < n; ++l) s2(l, j) += A(l, col) - static_cast<double>(rel_shift(c, l)) * first;
    }
  }
}

Index block_rows_for(Index k, Index n) {
  // Sized so that rows x (n + k + min(k n, kProductCols)) scalars stay in a core's L2 cache, as
  // when the full-covariance E-step kept a rows x kProductCols product per block; the other
  // types were tuned with these sizes. The fused full-covariance kernels work in sub-blocks of
  // their own and ran alike with 128 to 512 rows (n = 8, 16, 64 in float on one thread). The
  // vectorised-over-rows paths want long rows for little loop overhead.
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
