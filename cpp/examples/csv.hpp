// Reading numeric CSV files into a matrix (for the example programs).
#pragma once

#include <gaussmix/types.hpp>

#include <string>

/// Rows of comma-separated numbers, one sample per line. Empty lines and lines starting with '#'
/// are skipped, and so is a first line that is not numeric (a header). Throws std::runtime_error
/// naming the file and line on a malformed number or a row of the wrong length.
gaussmix::RowMatrix<double> read_csv(const std::string& path);
