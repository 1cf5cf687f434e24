// The long-running fits (EM, k-means): GIL released, Ctrl-C honoured within every pass.
#include "pybind.hpp"

#include <chrono>
#include <memory>

namespace gaussmix::bindings {

namespace {

// Re-enters Python between iterations: raises KeyboardInterrupt (or whatever a signal handler
// raised) as a C++ exception that unwinds the loop, then calls the optional Python callback.
void check_signals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

}  // namespace

std::function<void()> interrupt_check() {
  using Clock = std::chrono::steady_clock;
  auto last = std::make_shared<Clock::time_point>(Clock::now());
  return [last] {
    const Clock::time_point now = Clock::now();
    if (now - *last < std::chrono::milliseconds(50)) return;
    *last = now;
    py::gil_scoped_acquire acquire;
    check_signals();
  };
}

namespace {

template <typename T>
void bind_dtype(py::module_& m) {
  m.def(
      "run_em",
      [](DataRef<T> X, WeightRef w, const Mixture& initial, double tol, double reg_covar, int max_iter, int n_threads,
         double initial_lower_bound, py::object callback, std::optional<Prior> prior, bool missing) {
        const EmOptions options{tol, reg_covar, max_iter, n_threads, std::move(prior), interrupt_check(), missing};
        // Without a callback (verbose=0) the loop never re-enters Python between iterations:
        // the passes' own interrupt check sees Ctrl-C.
        IterationCallback cb;
        if (!callback.is_none()) {
          cb = [&callback](int iter, double lb, double change) {
            py::gil_scoped_acquire acquire;
            check_signals();
            callback(iter, lb, change);
          };
        }
        py::gil_scoped_release release;
        return run_em<T>(X, w, initial, options, initial_lower_bound, cb);
      },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("initial"), py::arg("tol"),
      py::arg("reg_covar"), py::arg("max_iter"), py::arg("n_threads"), py::arg("initial_lower_bound"),
      py::arg("callback") = py::none(), py::arg("prior") = py::none(), py::arg("missing") = false);
  // The C++ estimator's own fit (initialisation, restarts, EM), for the tests that check it
  // against the Python estimator, which drives the same core functions itself.
  m.def(
      "fit_model",
      [](DataRef<T> X, WeightRef w, Index n_components, CovarianceType type, double tol, double reg_covar, int max_iter,
         int n_init, const std::string& init, std::uint64_t seed, int n_threads) {
        FitOptions options;
        options.n_components = n_components;
        options.covariance_type = type;
        options.tol = tol;
        options.reg_covar = reg_covar;
        options.max_iter = max_iter;
        options.n_init = n_init;
        options.init = parse_init_method(init);
        options.seed = seed;
        options.n_threads = n_threads;
        py::gil_scoped_release release;
        const GaussianMixture model = fit(X, options, w);
        const FitInfo& info = model.fit_info();
        return std::make_tuple(model.mixture(), info.n_iter, info.converged, info.lower_bound);
      },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("n_components"),
      py::arg("covariance_type"), py::arg("tol"), py::arg("reg_covar"), py::arg("max_iter"), py::arg("n_init"),
      py::arg("init"), py::arg("seed"), py::arg("n_threads") = 0);
  m.def(
      "kmeans",
      [](DataRef<T> X, WeightRef w, Index k, std::uint64_t seed, int max_iter, double tol, int n_threads) {
        const KMeansOptions options{max_iter, tol, seed, n_threads};
        const std::function<void()> stop = interrupt_check();
        py::gil_scoped_release release;
        return kmeans<T>(X, w, k, options, stop);
      },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("k"), py::arg("seed"),
      py::arg("max_iter") = 300, py::arg("tol") = 1e-4, py::arg("n_threads") = 0);
  m.def(
      "kmeans_plusplus",
      [](DataRef<T> X, WeightRef w, Index k, std::uint64_t seed, int n_threads) {
        const std::function<void()> stop = interrupt_check();
        py::gil_scoped_release release;
        return kmeans_plusplus<T>(X, w, k, seed, n_threads, stop);
      },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("k"), py::arg("seed"),
      py::arg("n_threads") = 0);
  m.def(
      "assign_to_centers",
      [](DataRef<T> X, WeightRef w, const RowMatrix<double>& centers, const Vector<double>& origin, int n_threads) {
        const std::function<void()> stop = interrupt_check();
        py::gil_scoped_release release;
        return assign_to_centers<T>(X, w, centers, origin, n_threads, stop);
      },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("centers"), py::arg("origin"),
      py::arg("n_threads") = 0);
  m.def(
      "scaled_svd",
      [](DataRef<T> X, WeightRef w) {
        py::gil_scoped_release release;
        return scaled_svd<T>(X, w);
      },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert());
}

}  // namespace

void bind_fit(py::module_& m) {
  py::class_<EmResult>(m, "EmResult")
      .def_readonly("mixture", &EmResult::mixture)
      .def_readonly("n_iter", &EmResult::n_iter)
      .def_readonly("converged", &EmResult::converged)
      .def_readonly("lower_bound", &EmResult::lower_bound)
      .def_readonly("lower_bounds", &EmResult::lower_bounds)
      .def_readonly("unsettled_m_steps", &EmResult::unsettled_m_steps)
      .def_readonly("last_m_step_unsettled", &EmResult::last_m_step_unsettled);
  py::class_<KMeansResult>(m, "KMeansResult")
      .def_readonly("centers", &KMeansResult::centers)
      .def_readonly("labels", &KMeansResult::labels)
      .def_readonly("inertia", &KMeansResult::inertia)
      .def_readonly("n_iter", &KMeansResult::n_iter);
  py::class_<CenterAssignment>(m, "CenterAssignment")
      .def_readonly("labels", &CenterAssignment::labels)
      .def_readonly("sq_distances", &CenterAssignment::sq_distances)
      .def_readonly("sums", &CenterAssignment::sums)
      .def_readonly("counts", &CenterAssignment::counts)
      .def_readonly("inertia", &CenterAssignment::inertia);
  py::class_<Hierarchy>(m, "Hierarchy")
      .def_readonly("merges", &Hierarchy::merges)
      .def_readonly("costs", &Hierarchy::costs)
      .def_readonly("n_rows", &Hierarchy::n_rows)
      .def("labels", &Hierarchy::labels, py::arg("k"));
  m.def(
      "agglomerate",
      [](const Eigen::Ref<const RowMatrix<double>>& Z, WeightRef w, int n_threads) {
        const std::function<void()> stop = interrupt_check();
        py::gil_scoped_release release;
        return agglomerate(Z, w, n_threads, stop);
      },
      py::arg("Z").noconvert(), py::arg("sample_weight").noconvert(), py::arg("n_threads") = 0);
  bind_dtype<double>(m);
  bind_dtype<float>(m);
}

}  // namespace gaussmix::bindings
