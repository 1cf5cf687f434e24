// mclust's constrained models (Celeux & Govaert 1995): each
// covariance Sigma_c = lambda_c D_c A_c D_c^T (volume, orientation, shape with det A_c = 1),
// each part Equal across components, Variable, or the Identity. They gather the full model's
// per-component scatter matrices W_c and are stored like it; only the M-step and the
// parameter count (mclust's nVarParams) differ. EII, EEI, EVI, EEV and EVV have closed forms;
// VEI, VEE and VEV alternate between volumes and the shared part; EVE and VVE find their common
// orientation by plane rotations. VII, VVI, EEE and VVV are
// spherical, diag, tied and full. Six of the ten take a conjugate prior (PriorForm below), and
// their MAP M-step is their own M-step on statistics augmented by the prior.
//
// A component whose scatter is singular (an emptied component, or fewer rows than features) has
// no defined shape; it takes the identity shape instead of a NaN, and the others are unaffected.
// GCC 12 reports a false positive (-Wuninitialized) inside its own AVX-512 intrinsic headers
// when Eigen's eigen-solver is instantiated with AVX-512 enabled; see CMakeLists.txt for the
// same in its -Wmaybe-uninitialized form.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <limits>

namespace gaussmix::detail {

namespace {

// The geometric mean of positive values (|.|^(1/n) of a diagonal or of eigenvalues); 0 when
// any is not positive.
double geometric_mean(const Eigen::VectorXd& values) {
  if (!(values.minCoeff() > 0.0)) return 0.0;
  return std::exp(values.array().log().mean());
}

// Eigenvalues in decreasing order and their eigenvectors, of a symmetric matrix.
std::pair<Eigen::VectorXd, Eigen::MatrixXd> decreasing_eigen(const Eigen::MatrixXd& W) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(W);
  return {solver.eigenvalues().reverse(), solver.eigenvectors().rowwise().reverse()};
}

// How a constrained model carries the conjugate prior (Prior). The mean of every component has
// the same prior, mu_c | Sigma_c ~ N(m, Sigma_c / kappa); the covariances have
// - SharedVariance (EII): the one variance sigma2 ~ IG(nu / 2, s / 2), scale (1, 1);
// - SharedVariances (EEI): each feature's one variance sigma2_j ~ IG(nu / 2, s_j / 2), (1, n);
// - ComponentVariances (VEI, EVI): diag's prior on every component's variances, sigma2_cj ~
//   IG(nu / 2, s_j / 2), restricted to the model's covariances, (1, n);
// - ComponentMatrices (EEV, VEV): full's, Sigma_c ~ IW(nu, Lambda), restricted, (n, n);
// - None (VEE, EVE, VVE, EVV): no conjugate form; a prior is refused.
// A covariance shared by every component carries its prior once (as tied does), covariances that
// differ between components each carry it (as full and diag do): the rule of
// scikit-learn's four, which are mclust's VII, VVI, EEE and VVV.
enum class PriorForm { None, SharedVariance, SharedVariances, ComponentVariances, ComponentMatrices };

class ConstrainedModel : public PerComponentMatrices {
 public:
  ConstrainedModel(CovarianceType type, const char* name, std::uint8_t file_code, PriorForm prior_form)
      : PerComponentMatrices(type, name, MomentsLayout::PerComponentMatrix, file_code), prior_form_(prior_form) {}

  bool admits_prior() const override { return prior_form_ != PriorForm::None; }

  RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                double reg_covar, MStepState& state) const override {
    if (map && !admits_prior())
      throw InvalidArgument(std::string("priors are not available for covariance_type '") + name() + "'");
    const Index k = stats.n_components(), n = stats.n_features();
    std::vector<Eigen::MatrixXd> W = scatter_matrices(stats, nk);
    Vector<double> counts = nk;
    if (map) add_prior_pseudo_data(*map, W, counts);
    std::vector<Eigen::MatrixXd> before;
    if (state.previous)
      for (Index c = 0; c < k; ++c) before.emplace_back(state.previous->middleRows(c * n, n));
    const std::vector<Eigen::MatrixXd> sigma = constrained(W, counts, n, before, state.unsettled);
    RowMatrix<double> cov(k * n, n);
    for (Index c = 0; c < k; ++c) {
      auto block = cov.middleRows(c * n, n);
      block = 0.5 * (sigma[c] + sigma[c].transpose());
      block.diagonal().array() += reg_covar;
    }
    return cov;
  }

  std::pair<Index, Index> prior_scale_shape(Index n) const override {
    switch (prior_form_) {
      case PriorForm::SharedVariance:
        return {1, 1};
      case PriorForm::SharedVariances:
      case PriorForm::ComponentVariances:
        return {1, n};
      default:
        return {n, n};
    }
  }
  double prior_min_degrees_of_freedom(Index n) const override {
    return matrix_prior() ? static_cast<double>(n) - 1.0 : 0.0;
  }
  void check_prior_scale(const RowMatrix<double>& scale) const override {
    if (matrix_prior()) {
      check_matrix_prior_scale(scale);
    } else {
      check_positive_prior_scale(scale);
    }
  }

  // For the restricted priors (ComponentVariances, ComponentMatrices) this is diag's or full's
  // normalised density at the mixture's covariances: the restriction's own normalising constant
  // has no closed form, and a constant changes neither the posterior mode nor EM's progress.
  double add_log_prior(const Mixture& mix, const Prior& prior, double out) const override {
    if (matrix_prior()) return PerComponentMatrices::add_log_prior(mix, prior, out);
    const Index k = mix.n_components(), n = mix.n_features();
    const double nu = prior.degrees_of_freedom, kappa = prior.mean_precision;
    const bool shared = prior_form_ != PriorForm::ComponentVariances;
    // The variance of feature j in component c (EII: one for all, the mean of the diagonal).
    const auto variance = [&](Index c, Index j) {
      const auto block = mix.covariances.middleRows((shared ? 0 : c) * n, n);
      return prior_form_ == PriorForm::SharedVariance ? block.diagonal().mean() : block(j, j);
    };
    if (prior_form_ == PriorForm::SharedVariance) {
      out += log_inverse_gamma(variance(0, 0), 0.5 * nu, 0.5 * prior.scale(0, 0));
    } else if (shared) {
      for (Index j = 0; j < n; ++j) out += log_inverse_gamma(variance(0, j), 0.5 * nu, 0.5 * prior.scale(0, j));
    }
    for (Index c = 0; c < k; ++c) {
      for (Index j = 0; j < n; ++j) {
        const double var = variance(c, j);
        if (!shared) out += log_inverse_gamma(var, 0.5 * nu, 0.5 * prior.scale(0, j));
        const double diff = mix.means(c, j) - prior.mean[j];
        out += -0.5 * kLog2Pi + 0.5 * std::log(kappa / var) - 0.5 * kappa * diff * diff / var;
      }
    }
    return out;
  }

 protected:
  /// The model's covariances from the scatter matrices W_c and the (floored) counts N_c; previous
  /// holds the covariances the E-step used (empty when there were none). An inner iteration
  /// that stops at kInnerMaxIter before it settles sets unsettled.
  virtual std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk,
                                                   Index n, const std::vector<Eigen::MatrixXd>& previous,
                                                   bool& unsettled) const = 0;

 private:
  bool matrix_prior() const { return prior_form_ == PriorForm::ComponentMatrices || prior_form_ == PriorForm::None; }

  // The posterior mode as a maximum-likelihood M-step: the expected complete-data log-likelihood
  // plus the log prior is, in the covariances, sum_c -(N'_c / 2) log|Sigma_c| -
  // tr(W'_c Sigma_c^-1) / 2 over the model's covariances, the likelihood's own form. So the
  // model's M-step (constrained()) applied to the augmented W'_c and N'_c is its MAP M-step, the
  // closed forms exact and the alternations as sure to climb as without a prior. Each
  // component's mean prior, at the pulled mean, adds kappa N_c / (N_c + kappa) d_c d_c^T to W_c
  // and 1 to N_c; the covariance prior adds its scale to W_c and the power of |Sigma_c|^(-1/2)
  // in its density to N_c. A shared covariance's prior is added once: split evenly over the
  // components, since EII's and EEI's M-steps read only the sums over components.
  void add_prior_pseudo_data(const MapTerms& map, std::vector<Eigen::MatrixXd>& W, Vector<double>& counts) const {
    const Prior& prior = map.prior;
    const Index k = static_cast<Index>(W.size()), n = prior.mean.size();
    const double dn = static_cast<double>(n), dk = static_cast<double>(k), nu = prior.degrees_of_freedom;
    Eigen::MatrixXd scatter;  // the covariance prior's pseudo-scatter, per component
    double count = 0.0;       // and its pseudo-count
    switch (prior_form_) {
      case PriorForm::SharedVariance:  // IG(nu/2, s/2) on sigma2, |Sigma| = sigma2^n
        scatter = (prior.scale(0, 0) / (dn * dk)) * Eigen::MatrixXd::Identity(n, n);
        count = (nu + 2.0) / (dn * dk);
        break;
      case PriorForm::SharedVariances:  // IG(nu/2, s_j/2) on each sigma2_j
        scatter = (prior.scale.row(0).transpose() / dk).asDiagonal();
        count = (nu + 2.0) / dk;
        break;
      case PriorForm::ComponentVariances:
        scatter = prior.scale.row(0).transpose().asDiagonal();
        count = nu + 2.0;
        break;
      case PriorForm::ComponentMatrices:  // IW(nu, Lambda): |Sigma|^(-(nu + n + 1) / 2)
        scatter = prior.scale;
        count = nu + dn + 1.0;
        break;
      case PriorForm::None:
        return;
    }
    for (Index c = 0; c < k; ++c) {
      const Eigen::VectorXd d = map.dev.row(c).transpose();
      W[c] += map.shrink[c] * d * d.transpose() + scatter;
      counts[c] += 1.0 + count;
    }
  }

  PriorForm prior_form_;
};

// EII: lambda I, one volume, spherical: lambda = sum_c tr W_c / (n N).
class EII final : public ConstrainedModel {
 public:
  EII() : ConstrainedModel(CovarianceType::EII, "EII", 4, PriorForm::SharedVariance) {}
  Index n_covariance_parameters(Index, Index) const override { return 1; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool&) const override {
    const double N = nk.sum();
    double trace = 0.0;
    for (const auto& w : W) trace += w.trace();
    const double lambda = trace / (static_cast<double>(n) * N);
    return std::vector<Eigen::MatrixXd>(W.size(), lambda * Eigen::MatrixXd::Identity(n, n));
  }
};

// EEI: lambda A, one diagonal matrix for all: diag(sum_c W_c) / N.
class EEI final : public ConstrainedModel {
 public:
  EEI() : ConstrainedModel(CovarianceType::EEI, "EEI", 5, PriorForm::SharedVariances) {}
  Index n_covariance_parameters(Index, Index n) const override { return n; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool&) const override {
    const double N = nk.sum();
    Eigen::VectorXd diag = Eigen::VectorXd::Zero(n);
    for (const auto& w : W) diag += w.diagonal();
    const Eigen::MatrixXd common = (diag / N).asDiagonal();
    return std::vector<Eigen::MatrixXd>(W.size(), common);
  }
};

// EVI: lambda A_c, one volume, each component its own axis-aligned shape:
// A_c = diag(W_c) / |diag W_c|^(1/n), lambda = sum_c |diag W_c|^(1/n) / N.
class EVI final : public ConstrainedModel {
 public:
  EVI() : ConstrainedModel(CovarianceType::EVI, "EVI", 6, PriorForm::ComponentVariances) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + k * (n - 1); }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool&) const override {
    const double N = nk.sum();
    double volume = 0.0;
    std::vector<Eigen::VectorXd> shapes;
    for (const auto& w : W) {
      const Eigen::VectorXd d = w.diagonal();
      const double g = geometric_mean(d);
      volume += g;
      shapes.push_back(g > 0.0 ? Eigen::VectorXd(d / g) : Eigen::VectorXd::Ones(n));
    }
    const double lambda = volume / N;
    std::vector<Eigen::MatrixXd> out;
    for (const auto& a : shapes) out.emplace_back((lambda * a).asDiagonal());
    return out;
  }
};

// EEV: lambda D_c A D_c^T, one volume and shape, each component its own orientation: with
// W_c = L_c O_c L_c^T (eigenvalues decreasing), O = sum_c O_c, A = O / |O|^(1/n),
// lambda = |O|^(1/n) / N, D_c = L_c.
class EEV final : public ConstrainedModel {
 public:
  EEV() : ConstrainedModel(CovarianceType::EEV, "EEV", 7, PriorForm::ComponentMatrices) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + (n - 1) + k * n * (n - 1) / 2; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool&) const override {
    const double N = nk.sum();
    Eigen::VectorXd omega = Eigen::VectorXd::Zero(n);
    std::vector<Eigen::MatrixXd> axes;
    for (const auto& w : W) {
      auto [values, vectors] = decreasing_eigen(w);
      omega += values.cwiseMax(0.0);
      axes.push_back(std::move(vectors));
    }
    const double g = geometric_mean(omega);
    // All scatter singular: no shape to share; the identity keeps the covariances finite.
    const Eigen::VectorXd scaled = g > 0.0 ? Eigen::VectorXd(omega / N) : Eigen::VectorXd::Zero(n);
    std::vector<Eigen::MatrixXd> out;
    for (const auto& L : axes) out.emplace_back(L * scaled.asDiagonal() * L.transpose());
    return out;
  }
};

// EVV: lambda C_c, one volume, each component its own shape and orientation:
// C_c = W_c / |W_c|^(1/n), lambda = sum_c |W_c|^(1/n) / N.
class EVV final : public ConstrainedModel {
 public:
  EVV() : ConstrainedModel(CovarianceType::EVV, "EVV", 8, PriorForm::None) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + k * (n * (n + 1) / 2 - 1); }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool&) const override {
    const double N = nk.sum();
    double volume = 0.0;
    std::vector<Eigen::MatrixXd> shapes;
    for (const auto& w : W) {
      const double g = geometric_mean(decreasing_eigen(w).first);
      volume += g;
      shapes.push_back(g > 0.0 ? Eigen::MatrixXd(w / g) : Eigen::MatrixXd::Identity(n, n));
    }
    const double lambda = volume / N;
    for (auto& s : shapes) s *= lambda;
    return shapes;
  }
};

// The models whose M-step has no closed form alternate between their parts, each step the exact
// maximiser of the expected complete-data log-likelihood given the others, so no step lowers
// it (Celeux & Govaert 1995). The alternation stops when the shared part moves by less than
// kInnerTol relative (the objective is flat near its optimum, so its own change says little), or
// after kInnerMaxIter steps; the last iterate is then kept, at least as good as the start.
constexpr int kInnerMaxIter = 500;
constexpr double kInnerTol = 1e-13;

template <class M>
bool settled(const M& before, const M& after) {
  const double scale = std::max(before.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  return (after - before).cwiseAbs().maxCoeff() <= kInnerTol * scale;
}

// VEI: lambda_c B, each component its own volume, one axis-aligned shape B (det 1):
// B = diag(sum_c W_c / lambda_c) normalised, lambda_c = tr(W_c B^-1) / (n N_c).
class VEI final : public ConstrainedModel {
 public:
  VEI() : ConstrainedModel(CovarianceType::VEI, "VEI", 9, PriorForm::ComponentVariances) {}
  Index n_covariance_parameters(Index k, Index n) const override { return k + (n - 1); }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool& unsettled) const override {
    const Index k = static_cast<Index>(W.size());
    Eigen::VectorXd B = Eigen::VectorXd::Ones(n), lambda(k);
    const auto volumes = [&] {
      for (Index c = 0; c < k; ++c)
        lambda[c] = (W[c].diagonal().array() / B.array()).sum() / (static_cast<double>(n) * nk[c]);
    };
    volumes();
    int it = 0;
    for (; it < kInnerMaxIter; ++it) {
      Eigen::VectorXd sum = Eigen::VectorXd::Zero(n);
      for (Index c = 0; c < k; ++c)
        if (lambda[c] > 0.0) sum += W[c].diagonal() / lambda[c];
      const double g = geometric_mean(sum);
      if (!(g > 0.0)) break;  // a singular pooled diagonal: keep the current shape
      const Eigen::VectorXd updated = sum / g;
      const bool done = settled(B, updated);
      B = updated;
      volumes();
      if (done) break;
    }
    if (it == kInnerMaxIter) unsettled = true;
    std::vector<Eigen::MatrixXd> out;
    for (Index c = 0; c < k; ++c) out.emplace_back((lambda[c] * B).asDiagonal());
    return out;
  }
};

// VEE: lambda_c C, each component its own volume, one shape and orientation C (det 1):
// C = (sum_c W_c / lambda_c) normalised, lambda_c = tr(W_c C^-1) / (n N_c).
class VEE final : public ConstrainedModel {
 public:
  VEE() : ConstrainedModel(CovarianceType::VEE, "VEE", 10, PriorForm::None) {}
  Index n_covariance_parameters(Index k, Index n) const override { return k + (n - 1) + n * (n - 1) / 2; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool& unsettled) const override {
    const Index k = static_cast<Index>(W.size());
    Eigen::MatrixXd C = Eigen::MatrixXd::Identity(n, n), C_inv = C;
    Eigen::VectorXd lambda(k);
    const auto volumes = [&] {
      for (Index c = 0; c < k; ++c)  // tr(W_c C^-1), both symmetric
        lambda[c] = W[c].cwiseProduct(C_inv).sum() / (static_cast<double>(n) * nk[c]);
    };
    volumes();
    int it = 0;
    for (; it < kInnerMaxIter; ++it) {
      Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(n, n);
      for (Index c = 0; c < k; ++c)
        if (lambda[c] > 0.0) sum += W[c] / lambda[c];
      const auto [values, vectors] = decreasing_eigen(sum);
      const double g = geometric_mean(values);
      if (!(g > 0.0)) break;  // singular pooled scatter: keep the current shape
      const Eigen::MatrixXd updated = vectors * (values / g).asDiagonal() * vectors.transpose();
      const bool done = settled(C, updated);
      C = updated;
      C_inv = vectors * (g / values.array()).matrix().asDiagonal() * vectors.transpose();
      volumes();
      if (done) break;
    }
    if (it == kInnerMaxIter) unsettled = true;
    std::vector<Eigen::MatrixXd> out;
    for (Index c = 0; c < k; ++c) out.emplace_back(lambda[c] * C);
    return out;
  }
};

// VEV: lambda_c D_c A D_c^T, each component its own volume and orientation, one shape A:
// with W_c = L_c O_c L_c^T (D_c = L_c, eigenvalues decreasing), A = (sum_c O_c / lambda_c)
// normalised, lambda_c = sum_j O_cj / A_j / (n N_c).
class VEV final : public ConstrainedModel {
 public:
  VEV() : ConstrainedModel(CovarianceType::VEV, "VEV", 11, PriorForm::ComponentMatrices) {}
  Index n_covariance_parameters(Index k, Index n) const override { return k + (n - 1) + k * n * (n - 1) / 2; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>&, bool& unsettled) const override {
    const Index k = static_cast<Index>(W.size());
    std::vector<Eigen::VectorXd> omega;
    std::vector<Eigen::MatrixXd> axes;
    for (const auto& w : W) {
      auto [values, vectors] = decreasing_eigen(w);
      omega.push_back(values.cwiseMax(0.0));
      axes.push_back(std::move(vectors));
    }
    Eigen::VectorXd A = Eigen::VectorXd::Ones(n), lambda(k);
    const auto volumes = [&] {
      for (Index c = 0; c < k; ++c) lambda[c] = (omega[c].array() / A.array()).sum() / (static_cast<double>(n) * nk[c]);
    };
    volumes();
    int it = 0;
    for (; it < kInnerMaxIter; ++it) {
      Eigen::VectorXd sum = Eigen::VectorXd::Zero(n);
      for (Index c = 0; c < k; ++c)
        if (lambda[c] > 0.0) sum += omega[c] / lambda[c];
      const double g = geometric_mean(sum);
      if (!(g > 0.0)) break;
      const Eigen::VectorXd updated = sum / g;
      const bool done = settled(A, updated);
      A = updated;
      volumes();
      if (done) break;
    }
    if (it == kInnerMaxIter) unsettled = true;
    std::vector<Eigen::MatrixXd> out;
    for (Index c = 0; c < k; ++c) out.emplace_back(axes[c] * (lambda[c] * A).asDiagonal() * axes[c].transpose());
    return out;
  }
};

// EVE and VVE share one orientation D across components, each with its own diagonal shape.
// Given D, the shapes (and volumes) are closed forms; given those, D minimises
// f(D) = sum_c tr(Lambda_c^-1 D^T W_c D) over orthogonal matrices, Lambda_c = lambda_c A_c,
// which has no closed form. The M-step alternates: a sweep of plane rotations of D, each the
// exact minimiser of f over the rotations of one pair of axes with the Lambda_c held (the
// Jacobi idea that Flury & Gautschi's algorithm for common principal components also uses),
// then the Lambda_c given D. Neither step raises the objective, and a sweep costs O(k n^3) on
// the rotated scatters D^T W_c D, so it settles in far less time than the MM iteration of
// Browne & McNicholas (2014), which moves D by small steps.
class CommonOrientationModel : public ConstrainedModel {
 public:
  using ConstrainedModel::ConstrainedModel;

 protected:
  /// Each component's diagonal Lambda_c (volume times shape) given the rotated scatters
  /// diag(D^T W_c D) and the counts.
  virtual std::vector<Eigen::VectorXd> scales(const std::vector<Eigen::VectorXd>& rotated_diagonals,
                                              const Vector<double>& nk, Index n) const = 0;

  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, const Vector<double>& nk, Index n,
                                           const std::vector<Eigen::MatrixXd>& previous,
                                           bool& unsettled) const override {
    const Index k = static_cast<Index>(W.size());
    // The search starts from the E-step's orientation when there is one, so the M-step never
    // ends below the previous parameters and EM's likelihood never falls (from a fresh start
    // each time it could, and did, on real data); the first M-step starts from the pooled axes.
    Eigen::MatrixXd D;
    if (previous.empty()) {
      Eigen::MatrixXd pooled = Eigen::MatrixXd::Zero(n, n);
      for (const auto& w : W) pooled += w;
      D = decreasing_eigen(pooled).second;
    } else {
      D = common_axes(previous);
    }
    std::vector<Eigen::MatrixXd> R;  // D^T W_c D, kept up to date through the rotations
    for (const auto& w : W) R.emplace_back(D.transpose() * w * D);
    std::vector<Eigen::VectorXd> lambda = scales(diagonals(R), nk, n);
    std::vector<double> inv_p(k), inv_q(k);
    int sweep = 0;
    for (; sweep < kInnerMaxIter; ++sweep) {
      double objective = 0.0;
      for (Index c = 0; c < k; ++c)
        for (Index j = 0; j < n; ++j)
          if (lambda[c][j] > 0.0) objective += R[c](j, j) / lambda[c][j];
      double largest = 0.0;  // the largest rotation of the sweep, |sin theta|
      for (Index p = 0; p + 1 < n; ++p)
        for (Index q = p + 1; q < n; ++q) {
          // Rotating axes p and q by theta changes f by P (cos 2theta - 1) + Q sin 2theta.
          double P = 0.0, Q = 0.0;
          for (Index c = 0; c < k; ++c) {
            const double ip = lambda[c][p] > 0.0 ? 1.0 / lambda[c][p] : 0.0;
            const double iq = lambda[c][q] > 0.0 ? 1.0 / lambda[c][q] : 0.0;
            P += 0.5 * (R[c](p, p) - R[c](q, q)) * (ip - iq);
            Q += R[c](p, q) * (ip - iq);
          }
          const double r = std::hypot(P, Q);
          // The best rotation lowers f by P + r; one that gains nothing measurable is skipped,
          // so that flat directions (equal shapes along p and q) do not spin the axes.
          if (!(P + r > 1e-15 * objective)) continue;
          const double cos2 = -P / r, sin2 = -Q / r;
          double cs, sn;  // cos and sin of theta from those of 2 theta, stably
          if (cos2 >= 0.0) {
            cs = std::sqrt(0.5 * (1.0 + cos2));
            sn = sin2 / (2.0 * cs);
          } else {
            sn = std::copysign(std::sqrt(0.5 * (1.0 - cos2)), sin2);
            cs = sin2 / (2.0 * sn);
          }
          largest = std::max(largest, std::abs(sn));
          rotate(D, R, p, q, cs, sn);
        }
      lambda = scales(diagonals(R), nk, n);
      if (largest <= kRotationTol) break;
    }
    if (sweep == kInnerMaxIter) unsettled = true;
    std::vector<Eigen::MatrixXd> out;
    for (Index c = 0; c < k; ++c) out.emplace_back(D * lambda[c].asDiagonal() * D.transpose());
    return out;
  }

 private:
  // A sweep whose rotations all stay below this (|sin theta|) ends the M-step.
  static constexpr double kRotationTol = 1e-12;

  static std::vector<Eigen::VectorXd> diagonals(const std::vector<Eigen::MatrixXd>& R) {
    std::vector<Eigen::VectorXd> out;
    for (const auto& r : R) out.emplace_back(r.diagonal());
    return out;
  }

  // Axes p and q of D turned by theta (d_p' = c d_p + s d_q, d_q' = -s d_p + c d_q), and every
  // rotated scatter with them: R_c' = G^T R_c G.
  static void rotate(Eigen::MatrixXd& D, std::vector<Eigen::MatrixXd>& R, Index p, Index q, double c, double s) {
    const Eigen::VectorXd dp = D.col(p), dq = D.col(q);
    D.col(p) = c * dp + s * dq;
    D.col(q) = c * dq - s * dp;
    for (auto& r : R) {
      const Eigen::VectorXd rp = r.col(p), rq = r.col(q);
      r.col(p) = c * rp + s * rq;
      r.col(q) = c * rq - s * rp;
      const Eigen::RowVectorXd sp = r.row(p), sq = r.row(q);
      r.row(p) = c * sp + s * sq;
      r.row(q) = c * sq - s * sp;
    }
  }

  // The orientation D shared by covariances of the form D Lambda_c D^T (plus reg_covar I, which
  // keeps D): the eigenvectors of a combination of them with unequal coefficients, whose
  // eigenvalues are distinct unless every component's are alike along two axes (and then any
  // rotation of those axes serves).
  static Eigen::MatrixXd common_axes(const std::vector<Eigen::MatrixXd>& sigma) {
    const Index n = sigma.front().rows();
    Eigen::MatrixXd combination = Eigen::MatrixXd::Zero(n, n);
    for (std::size_t c = 0; c < sigma.size(); ++c) {
      const double scale = sigma[c].trace();
      if (scale > 0.0) combination += (1.0 + 0.6180339887498949 * static_cast<double>(c)) / scale * sigma[c];
    }
    return decreasing_eigen(combination).second;
  }
};

// The shape of a rotated diagonal: d / |d|^(1/n), or the identity shape when it is singular.
Eigen::VectorXd shape_of(const Eigen::VectorXd& d, double& g) {
  g = geometric_mean(d);
  return g > 0.0 ? Eigen::VectorXd(d / g) : Eigen::VectorXd::Ones(d.size());
}

// EVE: lambda D A_c D^T, one volume and orientation, each component its own shape:
// A_c = diag(D^T W_c D) normalised, lambda = sum_c |diag(D^T W_c D)|^(1/n) / N.
class EVE final : public CommonOrientationModel {
 public:
  EVE() : CommonOrientationModel(CovarianceType::EVE, "EVE", 12, PriorForm::None) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + k * (n - 1) + n * (n - 1) / 2; }

 protected:
  std::vector<Eigen::VectorXd> scales(const std::vector<Eigen::VectorXd>& d, const Vector<double>& nk,
                                      Index) const override {
    double volume = 0.0;
    std::vector<Eigen::VectorXd> shapes;
    for (const auto& dc : d) {
      double g = 0.0;
      shapes.push_back(shape_of(dc, g));
      volume += g;
    }
    const double lambda = volume / nk.sum();
    for (auto& a : shapes) a *= lambda;
    return shapes;
  }
};

// VVE: lambda_c D A_c D^T, one orientation, each component its own volume and shape:
// lambda_c A_c = diag(D^T W_c D) / N_c.
class VVE final : public CommonOrientationModel {
 public:
  VVE() : CommonOrientationModel(CovarianceType::VVE, "VVE", 13, PriorForm::None) {}
  Index n_covariance_parameters(Index k, Index n) const override { return k + k * (n - 1) + n * (n - 1) / 2; }

 protected:
  std::vector<Eigen::VectorXd> scales(const std::vector<Eigen::VectorXd>& d, const Vector<double>& nk,
                                      Index) const override {
    std::vector<Eigen::VectorXd> out;
    for (std::size_t c = 0; c < d.size(); ++c) out.emplace_back(d[c] / nk[static_cast<Index>(c)]);
    return out;
  }
};

}  // namespace

const Structure& eve_structure() {
  static const EVE instance;
  return instance;
}
const Structure& vve_structure() {
  static const VVE instance;
  return instance;
}

const Structure& vei_structure() {
  static const VEI instance;
  return instance;
}
const Structure& vee_structure() {
  static const VEE instance;
  return instance;
}
const Structure& vev_structure() {
  static const VEV instance;
  return instance;
}

const Structure& eii_structure() {
  static const EII instance;
  return instance;
}
const Structure& eei_structure() {
  static const EEI instance;
  return instance;
}
const Structure& evi_structure() {
  static const EVI instance;
  return instance;
}
const Structure& eev_structure() {
  static const EEV instance;
  return instance;
}
const Structure& evv_structure() {
  static const EVV instance;
  return instance;
}

}  // namespace gaussmix::detail
