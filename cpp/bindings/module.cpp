// gaussmix._core: wires the binding files together and maps C++ exceptions to Python.
#include "pybind.hpp"

// Dispatch builds compile this file once per instruction-set level, as _core_<level>.
#ifndef GAUSSMIX_MODULE_NAME
#define GAUSSMIX_MODULE_NAME _core
#endif

PYBIND11_MODULE(GAUSSMIX_MODULE_NAME, m) {
  m.doc() = "Compiled core of gaussmix (private; use the gaussmix package).";
  m.attr("__version__") = GAUSSMIX_VERSION;
#ifdef _OPENMP
  m.attr("has_openmp") = true;
#else
  m.attr("has_openmp") = false;
#endif
  // Every deliberate error of the core is about the caller's input or data: ValueError.
  static py::exception<gaussmix::NotPositiveDefinite> not_pd(m, "NotPositiveDefiniteError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gaussmix::NotPositiveDefinite& e) {
      py::set_error(not_pd, e.what());
    } catch (const gaussmix::Error& e) {
      py::set_error(PyExc_ValueError, e.what());
    }
  });
  gaussmix::bindings::bind_mixture(m);
  gaussmix::bindings::bind_fit(m);
  gaussmix::bindings::bind_io(m);
}
