// mclust's constrained models with a closed-form M-step (Celeux & Govaert 1995): each
// covariance Sigma_c = lambda_c D_c A_c D_c^T (volume, orientation, shape with det A_c = 1),
// each part Equal across components, Variable, or the Identity. They gather the full model's
// per-component scatter matrices W_c and are stored like it; only the M-step and the
// parameter count (mclust's nVarParams) differ. EII, EEI, EVI, EEV and EVV live here; VII, VVI,
// EEE and VVV are spherical, diag, tied and full.
//
// A component whose scatter is singular (an emptied component, or fewer rows than features) has
// no defined shape; it takes the identity shape instead of a NaN, and the others are unaffected.
#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>

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

class ClosedFormModel : public PerComponentMatrices {
 public:
  using PerComponentMatrices::PerComponentMatrices;
  bool admits_prior() const override { return false; }

  RowMatrix<double> covariances(const SufficientStats& stats, const Vector<double>& nk, const MapTerms* map,
                                double reg_covar) const override {
    if (map) throw InvalidArgument(std::string("priors are not available for covariance_type '") + name() + "'");
    const Index k = stats.n_components(), n = stats.n_features();
    const std::vector<Eigen::MatrixXd> W = scatter_matrices(stats, nk);
    const std::vector<Eigen::MatrixXd> sigma = constrained(W, nk.sum(), n);
    RowMatrix<double> cov(k * n, n);
    for (Index c = 0; c < k; ++c) {
      auto block = cov.middleRows(c * n, n);
      block = 0.5 * (sigma[c] + sigma[c].transpose());
      block.diagonal().array() += reg_covar;
    }
    return cov;
  }

 protected:
  /// The model's covariances from the scatter matrices W_c and the total weight N.
  virtual std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, double N, Index n) const = 0;
};

// EII: lambda I, one volume, spherical: lambda = sum_c tr W_c / (n N).
class EII final : public ClosedFormModel {
 public:
  EII() : ClosedFormModel(CovarianceType::EII, "EII", MomentsLayout::PerComponentMatrix, 4) {}
  Index n_covariance_parameters(Index, Index) const override { return 1; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, double N, Index n) const override {
    double trace = 0.0;
    for (const auto& w : W) trace += w.trace();
    const double lambda = trace / (static_cast<double>(n) * N);
    return std::vector<Eigen::MatrixXd>(W.size(), lambda * Eigen::MatrixXd::Identity(n, n));
  }
};

// EEI: lambda A, one diagonal matrix for all: diag(sum_c W_c) / N.
class EEI final : public ClosedFormModel {
 public:
  EEI() : ClosedFormModel(CovarianceType::EEI, "EEI", MomentsLayout::PerComponentMatrix, 5) {}
  Index n_covariance_parameters(Index, Index n) const override { return n; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, double N, Index n) const override {
    Eigen::VectorXd diag = Eigen::VectorXd::Zero(n);
    for (const auto& w : W) diag += w.diagonal();
    const Eigen::MatrixXd common = (diag / N).asDiagonal();
    return std::vector<Eigen::MatrixXd>(W.size(), common);
  }
};

// EVI: lambda A_c, one volume, each component its own axis-aligned shape:
// A_c = diag(W_c) / |diag W_c|^(1/n), lambda = sum_c |diag W_c|^(1/n) / N.
class EVI final : public ClosedFormModel {
 public:
  EVI() : ClosedFormModel(CovarianceType::EVI, "EVI", MomentsLayout::PerComponentMatrix, 6) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + k * (n - 1); }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, double N, Index n) const override {
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
class EEV final : public ClosedFormModel {
 public:
  EEV() : ClosedFormModel(CovarianceType::EEV, "EEV", MomentsLayout::PerComponentMatrix, 7) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + (n - 1) + k * n * (n - 1) / 2; }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, double N, Index n) const override {
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
class EVV final : public ClosedFormModel {
 public:
  EVV() : ClosedFormModel(CovarianceType::EVV, "EVV", MomentsLayout::PerComponentMatrix, 8) {}
  Index n_covariance_parameters(Index k, Index n) const override { return 1 + k * (n * (n + 1) / 2 - 1); }

 protected:
  std::vector<Eigen::MatrixXd> constrained(const std::vector<Eigen::MatrixXd>& W, double N, Index n) const override {
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

}  // namespace

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
