// The one place the bindings include pybind11, plus the conversions they share.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "gaussmix/gaussmix.hpp"

#include <functional>

namespace py = pybind11;

namespace gaussmix::bindings {

// Inputs arrive as references to the caller's NumPy memory: the Python layer makes them
// C-contiguous float32/float64 first, and .noconvert() turns any other layout into a TypeError
// instead of a silent copy.
template <typename T>
using DataRef = Eigen::Ref<const RowMatrix<T>>;
using WeightRef = Eigen::Ref<const Vector<double>>;

/// A should-stop callback for the core's passes: at most every 50 ms it takes the GIL back for
/// a moment and runs the interpreter's pending signal handlers, throwing their exception (for
/// Ctrl-C, KeyboardInterrupt) to abandon the pass. The core calls it only on the thread that
/// released the GIL, the only one that can see signals.
std::function<void()> interrupt_check();

void bind_mixture(py::module_& m);
void bind_fit(py::module_& m);
void bind_io(py::module_& m);

}  // namespace gaussmix::bindings
