// The model file: encoding and decoding through the C++ format code (one implementation).
#include "pybind.hpp"

namespace gaussmix::bindings {

namespace {

FileDtype parse_dtype(const std::string& name) {
  if (name == "float64") return FileDtype::Float64;
  if (name == "float32") return FileDtype::Float32;
  throw InvalidArgument("dtype must be 'float32' or 'float64', got '" + name + "'");
}

}  // namespace

void bind_io(py::module_& m) {
  m.attr("model_format_version") = kModelFormatVersion;
  m.def(
      "encode_model",
      [](const Mixture& mixture, int n_iter, bool converged, double lower_bound, const std::string& dtype,
         const py::bytes& metadata) {
        const GaussianMixture model(mixture, FitInfo{n_iter, converged, lower_bound});
        return py::bytes(encode_model(model, parse_dtype(dtype), std::string(metadata)));
      },
      py::arg("mixture"), py::arg("n_iter"), py::arg("converged"), py::arg("lower_bound"), py::arg("dtype") = "float64",
      py::arg("metadata") = py::bytes());
  m.def(
      "decode_model",
      [](const py::bytes& data) {
        LoadedModel loaded = decode_model(std::string(data));
        const FitInfo& info = loaded.model.fit_info();
        return py::make_tuple(loaded.model.mixture(), info.n_iter, info.converged, info.lower_bound,
                              loaded.dtype == FileDtype::Float32 ? "float32" : "float64", py::bytes(loaded.metadata));
      },
      py::arg("data"));
}

}  // namespace gaussmix::bindings
