// Reading numeric CSV files into a matrix (for the example programs).
#include "csv.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace {

// Parses one line; returns false when a field is not a number.
bool parse_line(const std::string& line, std::vector<double>& out) {
  out.clear();
  std::stringstream fields(line);
  std::string field;
  while (std::getline(fields, field, ',')) {
    const char* begin = field.c_str();
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(begin, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r') ++end;
    if (end == begin || *end != '\0' || errno == ERANGE) return false;
    out.push_back(value);
  }
  return !out.empty();
}

}  // namespace

gaussmix::RowMatrix<double> read_csv(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  std::vector<double> values, row;
  std::size_t n_cols = 0, n_rows = 0, line_no = 0;
  std::string line;
  while (std::getline(file, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    if (!parse_line(line, row)) {
      if (n_rows == 0 && n_cols == 0) {
        n_cols = static_cast<std::size_t>(-1);  // header seen; the next line must be numeric
        continue;
      }
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": not a row of numbers");
    }
    if (n_rows == 0) n_cols = row.size();
    if (row.size() != n_cols)
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + std::to_string(row.size()) +
                               " values, expected " + std::to_string(n_cols));
    values.insert(values.end(), row.begin(), row.end());
    ++n_rows;
  }
  if (n_rows == 0) throw std::runtime_error("'" + path + "' holds no rows of numbers");
  return Eigen::Map<gaussmix::RowMatrix<double>>(values.data(), static_cast<Eigen::Index>(n_rows),
                                                 static_cast<Eigen::Index>(n_cols));
}
