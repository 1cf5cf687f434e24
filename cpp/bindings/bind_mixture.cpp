// Mixture and SufficientStats, the seam functions accumulate/maximize, and per-row queries.
#include "pybind.hpp"

namespace gaussmix::bindings {

namespace {

LogProbOutput parse_output(const std::string& what) {
  if (what == "weighted_log_prob") return LogProbOutput::WeightedLogProb;
  if (what == "predict_proba") return LogProbOutput::Responsibilities;
  if (what == "score_samples") return LogProbOutput::ScoreSamples;
  if (what == "predict") return LogProbOutput::Labels;
  throw InvalidArgument("unknown log-probability output '" + what + "'");
}

template <typename T>
void bind_dtype(py::module_& m) {
  // Long passes over the data release the GIL: they touch only their arguments, which the
  // caller keeps alive, and C++ state private to the call.
  m.def("accumulate", &accumulate<T>, py::arg("X").noconvert(), py::arg("sample_weight").noconvert(),
        py::arg("mixture"), py::arg("options"), py::call_guard<py::gil_scoped_release>());
  m.def(
      "log_prob",
      [](DataRef<T> X, const Mixture& mixture, const std::string& what, int n_threads, bool missing) {
        const LogProbOutput out = parse_output(what);
        PassOptions options{n_threads, interrupt_check(), missing};
        py::gil_scoped_release release;
        return log_prob_pass_native<T>(X, mixture, out, options);
      },
      py::arg("X").noconvert(), py::arg("mixture"), py::arg("output"), py::arg("n_threads") = 0,
      py::arg("missing") = false);
  m.def(
      "impute",
      [](DataRef<T> X, const Mixture& mixture, int n_threads, std::optional<Vector<double>> uniforms,
         std::optional<RowMatrix<double>> normals) {
        PassOptions options{n_threads, interrupt_check(), true};
        py::gil_scoped_release release;
        if (!uniforms || !normals) return impute<T>(X, mixture, options);
        const ImputeDraws draws{*uniforms, *normals};
        return impute<T>(X, mixture, options, &draws);
      },
      py::arg("X").noconvert(), py::arg("mixture"), py::arg("n_threads") = 0, py::arg("uniforms") = py::none(),
      py::arg("normals") = py::none());
  m.def(
      "pruned_query_block",
      [](DataRef<T> X, const Mixture& mixture, const std::string& what) {
        const PrunedQueryBlock block = pruned_query_block<T>(X, mixture, parse_output(what));
        return py::make_tuple(block.bound_features, block.pass_prunes, block.pruned, block.log_prob);
      },
      py::arg("X").noconvert(), py::arg("mixture"), py::arg("output"));
  m.def(
      "moments_from_labels",
      [](DataRef<T> X, WeightRef w, const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k, CovarianceType type,
         const PassOptions& options) { return moments_from_labels<T>(X, w, labels, k, type, options); },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("labels").noconvert(), py::arg("k"),
      py::arg("covariance_type"), py::arg("options"), py::call_guard<py::gil_scoped_release>());
  m.def(
      "moments_from_responsibilities",
      [](DataRef<T> X, WeightRef w, const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType type,
         const PassOptions& options) { return moments_from_responsibilities<T>(X, w, resp, type, options); },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("resp").noconvert(),
      py::arg("covariance_type"), py::arg("options"), py::call_guard<py::gil_scoped_release>());
  // The same about given shifts (one pass; chunks' statistics about the same shifts merge).
  m.def(
      "moments_from_labels_about",
      [](DataRef<T> X, WeightRef w, const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k, CovarianceType type,
         const RowMatrix<double>& shift,
         const PassOptions& options) { return moments_from_labels<T>(X, w, labels, k, type, shift, options); },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("labels").noconvert(), py::arg("k"),
      py::arg("covariance_type"), py::arg("shift"), py::arg("options"), py::call_guard<py::gil_scoped_release>());
  m.def(
      "moments_from_responsibilities_about",
      [](DataRef<T> X, WeightRef w, const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType type,
         const RowMatrix<double>& shift,
         const PassOptions& options) { return moments_from_responsibilities<T>(X, w, resp, type, shift, options); },
      py::arg("X").noconvert(), py::arg("sample_weight").noconvert(), py::arg("resp").noconvert(),
      py::arg("covariance_type"), py::arg("shift"), py::arg("options"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace

void bind_mixture(py::module_& m) {
  py::enum_<CovarianceType>(m, "CovarianceType")
      .value("full", CovarianceType::Full)
      .value("tied", CovarianceType::Tied)
      .value("diag", CovarianceType::Diag)
      .value("spherical", CovarianceType::Spherical)
      .value("EII", CovarianceType::EII)
      .value("EEI", CovarianceType::EEI)
      .value("EVI", CovarianceType::EVI)
      .value("EEV", CovarianceType::EEV)
      .value("EVV", CovarianceType::EVV)
      .value("VEI", CovarianceType::VEI)
      .value("VEE", CovarianceType::VEE)
      .value("VEV", CovarianceType::VEV)
      .value("EVE", CovarianceType::EVE)
      .value("VVE", CovarianceType::VVE);

  py::class_<PassOptions>(m, "PassOptions")
      .def(py::init([](int n_threads, bool missing) { return PassOptions{n_threads, {}, missing}; }),
           py::arg("n_threads") = 0, py::arg("missing") = false)
      .def_readwrite("n_threads", &PassOptions::n_threads)
      .def_readwrite("missing", &PassOptions::missing);

  py::class_<Mixture>(m, "Mixture")
      .def_static("from_covariances", &Mixture::from_covariances, py::arg("covariance_type"), py::arg("weights"),
                  py::arg("means"), py::arg("covariances"))
      .def_static("from_precisions", &Mixture::from_precisions, py::arg("covariance_type"), py::arg("weights"),
                  py::arg("means"), py::arg("precisions"))
      .def(py::init([](CovarianceType type, Vector<double> w, RowMatrix<double> means, RowMatrix<double> cov,
                       RowMatrix<double> prec_chol) {
             Mixture mix{type, std::move(w), std::move(means), std::move(cov), std::move(prec_chol)};
             mix.validate();
             return mix;
           }),
           py::arg("covariance_type"), py::arg("weights"), py::arg("means"), py::arg("covariances"),
           py::arg("precisions_cholesky"))
      .def_readonly("covariance_type", &Mixture::covariance_type)
      .def_readonly("weights", &Mixture::weights)
      .def_readonly("means", &Mixture::means)
      .def_readonly("covariances", &Mixture::covariances)
      .def_readonly("precisions_cholesky", &Mixture::precisions_cholesky)
      .def("precisions", &Mixture::precisions)
      .def("n_parameters", &Mixture::n_parameters)
      .def_property_readonly("n_components", &Mixture::n_components)
      .def_property_readonly("n_features", &Mixture::n_features)
      // Mixtures travel to Dask workers: they pickle as their fields and are validated again.
      .def(py::pickle(
          [](const Mixture& mix) {
            return py::make_tuple(mix.covariance_type, mix.weights, mix.means, mix.covariances,
                                  mix.precisions_cholesky);
          },
          [](const py::tuple& t) {
            if (t.size() != 5) throw InvalidArgument("invalid pickled Mixture");
            Mixture mix{t[0].cast<CovarianceType>(), t[1].cast<Vector<double>>(), t[2].cast<RowMatrix<double>>(),
                        t[3].cast<RowMatrix<double>>(), t[4].cast<RowMatrix<double>>()};
            mix.validate();
            return mix;
          }));

  // Statistics travel (Dask workers, partial_fit, user pipelines): they pickle as their fields
  // and merge with merge() or +=, the only operation a reduction needs.
  py::class_<SufficientStats>(m, "SufficientStats", R"doc(The additive summary of one pass over some rows.

Per component the summed responsibilities n_k, the first moments s1 and the second moments
s2 about `shift`, the log-likelihood and the total weight of the rows (cpp/include/gaussmix/
stats.hpp says what each field holds). Statistics of disjoint rows about the same shifts merge
with ``+``; ``about(shift)`` re-expresses them about other shifts, ``scaled(f)`` multiplies them.
They pickle.

Examples
--------
>>> import numpy as np
>>> from gaussmix import GaussianMixture
>>> X = np.random.RandomState(0).normal(size=(300, 2))
>>> gm = GaussianMixture(2, random_state=0).fit(X)
>>> stats = gm.statistics(X[:100]) + gm.statistics(X[100:])
>>> round(stats.weight_sum)
300
)doc")
      .def_static("zeros", &SufficientStats::zeros, py::arg("covariance_type"), py::arg("n_components"),
                  py::arg("n_features"), py::arg("shift"))
      .def_readonly("covariance_type", &SufficientStats::covariance_type)
      .def_readonly("n_k", &SufficientStats::n_k)
      .def_readonly("s1", &SufficientStats::s1)
      .def_readonly("s2", &SufficientStats::s2)
      .def_readonly("shift", &SufficientStats::shift)
      .def_readonly("log_likelihood", &SufficientStats::log_likelihood)
      .def_readonly("weight_sum", &SufficientStats::weight_sum)
      .def_readonly("n_samples", &SufficientStats::n_samples)
      .def_property_readonly("n_components", &SufficientStats::n_components)
      .def_property_readonly("n_features", &SufficientStats::n_features)
      .def("merge", &SufficientStats::merge, py::arg("other"), py::return_value_policy::reference_internal,
           "Adds other's sums (disjoint rows, same shifts) to these and returns them.")
      .def("__iadd__", &SufficientStats::merge, py::return_value_policy::reference_internal)
      .def("about", &SufficientStats::about, py::arg("shift"),
           "The same sums re-expressed about other shifts (k, n_features).")
      .def("scaled", &SufficientStats::scaled, py::arg("factor"), "Every sum multiplied by factor >= 0.")
      .def("__add__",
           [](const SufficientStats& a, const SufficientStats& b) {
             SufficientStats out = a;
             out.merge(b);
             return out;
           })
      .def(py::pickle(
          [](const SufficientStats& s) {
            return py::make_tuple(s.covariance_type, s.n_k, s.s1, s.s2, s.shift, s.log_likelihood, s.weight_sum,
                                  s.n_samples);
          },
          [](const py::tuple& t) {
            if (t.size() != 8) throw InvalidArgument("invalid pickled SufficientStats");
            SufficientStats s;
            s.covariance_type = t[0].cast<CovarianceType>();
            s.n_k = t[1].cast<Vector<double>>();
            s.s1 = t[2].cast<RowMatrix<double>>();
            s.s2 = t[3].cast<RowMatrix<double>>();
            s.shift = t[4].cast<RowMatrix<double>>();
            s.log_likelihood = t[5].cast<double>();
            s.weight_sum = t[6].cast<double>();
            s.n_samples = t[7].cast<Index>();
            const auto shape = covariance_storage_shape(s.covariance_type, s.s1.rows(), s.s1.cols());
            if (s.n_k.size() != s.s1.rows() || s.s2.rows() != shape.first || s.s2.cols() != shape.second ||
                s.shift.rows() != s.s1.rows() || s.shift.cols() != s.s1.cols())
              throw InvalidArgument("pickled SufficientStats have inconsistent shapes");
            return s;
          }));

  py::class_<Prior>(m, "Prior")
      .def(py::init([](double weight_concentration, Vector<double> mean, double mean_precision,
                       double degrees_of_freedom, RowMatrix<double> scale) {
             return Prior{weight_concentration, std::move(mean), mean_precision, degrees_of_freedom, std::move(scale)};
           }),
           py::kw_only(), py::arg("weight_concentration"), py::arg("mean"), py::arg("mean_precision"),
           py::arg("degrees_of_freedom"), py::arg("scale"))
      .def_readonly("weight_concentration", &Prior::weight_concentration)
      .def_readonly("mean", &Prior::mean)
      .def_readonly("mean_precision", &Prior::mean_precision)
      .def_readonly("degrees_of_freedom", &Prior::degrees_of_freedom)
      .def_readonly("scale", &Prior::scale)
      .def("validate", &Prior::validate, py::arg("covariance_type"), py::arg("n_features"));

  m.def(
      "maximize",
      [](const SufficientStats& stats, double reg_covar, std::optional<Prior> prior, const Mixture* previous) {
        MaximizeOptions options{reg_covar, std::move(prior)};
        options.previous = previous;
        return maximize(stats, options);
      },
      py::arg("stats"), py::arg("reg_covar"), py::arg("prior") = py::none(), py::arg("previous") = py::none());
  // maximize() that also says whether an inner iteration stopped at its cap (for EM loops run
  // from Python, which count such M-steps as run_em does).
  m.def(
      "maximize_reporting",
      [](const SufficientStats& stats, double reg_covar, std::optional<Prior> prior, const Mixture* previous) {
        bool unsettled = false;
        MaximizeOptions options{reg_covar, std::move(prior)};
        options.previous = previous;
        options.unsettled = &unsettled;
        Mixture mixture = maximize(stats, options);
        return std::make_pair(std::move(mixture), unsettled);
      },
      py::arg("stats"), py::arg("reg_covar"), py::arg("prior") = py::none(), py::arg("previous") = py::none());
  m.def("log_prior", &log_prior, py::arg("mixture"), py::arg("prior"));

  bind_dtype<double>(m);
  bind_dtype<float>(m);
}

}  // namespace gaussmix::bindings
