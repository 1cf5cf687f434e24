// Model file encoding and decoding (layout: docs/model_format.md), and the file wrappers.
#include "gaussmix/io.hpp"
#include "structures/structure.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <vector>

namespace gaussmix {

namespace {

// "\x89GMX\r\n\x1a\n": the high byte catches 7-bit channels, CR LF and LF catch newline
// translation, and ^Z stops a DOS `type` (the trick PNG uses).
constexpr std::array<unsigned char, 8> kMagic = {0x89, 'G', 'M', 'X', '\r', '\n', 0x1A, '\n'};
// Written little-endian it reads FF FE; a file written in the other byte order reads FE FF.
constexpr std::uint16_t kByteOrderMark = 0xFEFF;
constexpr std::size_t kHeaderSize = 56;
constexpr std::size_t kChecksumSize = 4;
// Version 2 and later: the metadata's length (u32) and bytes follow the parameter arrays.
constexpr std::size_t kMetadataSizeField = 4;

// ---------------------------------------------------------------- little-endian writing

void put_uint(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void put_double(std::string& out, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  put_uint(out, bits, 8);
}

void put_float(std::string& out, float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  put_uint(out, bits, 4);
}

std::uint64_t get_uint(const unsigned char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return value;
}

double get_double(const unsigned char* p) {
  const std::uint64_t bits = get_uint(p, 8);
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

float get_float(const unsigned char* p) {
  const auto bits = static_cast<std::uint32_t>(get_uint(p, 4));
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// ---------------------------------------------------------------- sizes

[[noreturn]] void fail(const std::string& why) { throw FormatError("invalid gaussmix model file: " + why); }

std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) fail("its dimensions overflow");
  return a * b;
}

std::uint64_t element_size(FileDtype dtype) { return dtype == FileDtype::Float32 ? 4 : 8; }

// Number of values of weights, means, covariances and factors for k components, n features.
std::uint64_t value_count(CovarianceType type, std::uint64_t k, std::uint64_t n) {
  // Bounds far beyond any real model keep every product below 2^63.
  constexpr std::uint64_t limit = std::uint64_t{1} << 30;
  if (k > limit || n > limit) fail("its dimensions overflow");
  const auto shape = detail::structure(type).storage_shape(static_cast<Index>(k), static_cast<Index>(n));
  const std::uint64_t cov =
      checked_mul(static_cast<std::uint64_t>(shape.first), static_cast<std::uint64_t>(shape.second));
  const std::uint64_t means = checked_mul(k, n);
  if (cov > (std::uint64_t{1} << 60)) fail("its dimensions overflow");
  return k + means + 2 * cov;
}

// ---------------------------------------------------------------- parameter checks

// What a model file may hold, checked on both sides so that every file written can be read:
// finite values, non-negative weights, precision factors with a positive diagonal and, for full
// and tied, nothing below it (the queries take their log-determinant from the diagonal alone).
// Returns what is wrong, or an empty string.
std::string parameter_problem(const Mixture& mix) {
  if (!mix.weights.allFinite() || !mix.means.allFinite() || !mix.covariances.allFinite() ||
      !mix.precisions_cholesky.allFinite())
    return "parameters contain NaN or infinity (or values too large for the file's dtype)";
  if ((mix.weights.array() < 0.0).any()) return "weights must be non-negative";
  if (!(mix.weights.sum() > 0.0)) return "weights must not all be zero";
  return detail::structure(mix.covariance_type).factor_problem(mix);
}

template <typename Dst>
void read_values(const unsigned char*& p, FileDtype dtype, Dst& dst) {
  for (Index i = 0; i < dst.rows(); ++i) {
    for (Index j = 0; j < dst.cols(); ++j) {
      dst(i, j) = dtype == FileDtype::Float32 ? static_cast<double>(get_float(p)) : get_double(p);
      p += element_size(dtype);
    }
  }
}

template <typename Src>
void write_values(std::string& out, FileDtype dtype, const Src& src) {
  for (Index i = 0; i < src.rows(); ++i) {
    for (Index j = 0; j < src.cols(); ++j) {
      if (dtype == FileDtype::Float32) {
        put_float(out, static_cast<float>(src(i, j)));
      } else {
        put_double(out, src(i, j));
      }
    }
  }
}

// The values a reader of a float32 file sees: each rounded to float once.
Mixture rounded_to(const Mixture& mix, FileDtype dtype) {
  if (dtype == FileDtype::Float64) return mix;
  Mixture out = mix;
  out.weights = mix.weights.cast<float>().cast<double>();
  out.means = mix.means.cast<float>().cast<double>();
  out.covariances = mix.covariances.cast<float>().cast<double>();
  out.precisions_cholesky = mix.precisions_cholesky.cast<float>().cast<double>();
  return out;
}

}  // namespace

std::uint32_t crc32(const unsigned char* data, std::size_t size) {
  // Written out here (no zlib dependency): the reflected polynomial 0xEDB88320 with a 256-entry
  // table built once, initial value and final XOR 0xFFFFFFFF, as in zlib and PNG.
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFU;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFFU] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFU;
}

std::string encode_model(const GaussianMixture& model, FileDtype dtype, const std::string& metadata) {
  if (dtype != FileDtype::Float32 && dtype != FileDtype::Float64)
    throw InvalidArgument("dtype must be FileDtype::Float32 or FileDtype::Float64");
  const Mixture& mix = model.mixture();  // throws NotFitted
  const FitInfo& info = model.fit_info();
  mix.validate();
  // Refuse to write what load() would refuse to read.
  const std::string problem = parameter_problem(rounded_to(mix, dtype));
  if (!problem.empty()) throw InvalidArgument("cannot save the model: " + problem);
  if (std::isnan(info.lower_bound) || info.lower_bound == std::numeric_limits<double>::infinity())
    throw InvalidArgument("cannot save the model: its lower bound is NaN or +infinity");
  if (info.n_iter < 0) throw InvalidArgument("cannot save the model: n_iter is negative");
  if (metadata.size() > std::numeric_limits<std::uint32_t>::max())
    throw InvalidArgument("cannot save the model: its metadata exceed 2^32 - 1 bytes");

  const auto k = static_cast<std::uint64_t>(mix.n_components());
  const auto n = static_cast<std::uint64_t>(mix.n_features());
  const std::uint64_t payload = value_count(mix.covariance_type, k, n) * element_size(dtype);
  std::string out;
  out.reserve(kHeaderSize + payload + kMetadataSizeField + metadata.size() + kChecksumSize);
  out.append(reinterpret_cast<const char*>(kMagic.data()), kMagic.size());
  put_uint(out, kByteOrderMark, 2);
  put_uint(out, kModelFormatVersion, 2);
  put_uint(out, static_cast<std::uint8_t>(dtype), 1);
  put_uint(out, detail::structure(mix.covariance_type).file_code(), 1);
  put_uint(out, info.converged ? 1 : 0, 1);
  put_uint(out, 0, 1);  // reserved
  put_uint(out, k, 8);
  put_uint(out, n, 8);
  put_uint(out, static_cast<std::uint64_t>(info.n_iter), 8);
  put_double(out, info.lower_bound);
  put_uint(out, payload, 8);
  write_values(out, dtype, mix.weights);
  write_values(out, dtype, mix.means);
  write_values(out, dtype, mix.covariances);
  write_values(out, dtype, mix.precisions_cholesky);
  put_uint(out, metadata.size(), kMetadataSizeField);
  out.append(metadata);
  put_uint(out, crc32(reinterpret_cast<const unsigned char*>(out.data()), out.size()), 4);
  return out;
}

LoadedModel decode_model(const std::string& bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t size = bytes.size();
  const std::size_t minimum = kHeaderSize + kChecksumSize;

  // Identity first, so a file of another kind is named as such rather than as "damaged".
  if (std::memcmp(data, kMagic.data(), std::min(size, kMagic.size())) != 0)
    fail("it does not start with the gaussmix magic bytes (not a gaussmix model file)");
  if (size < minimum)
    fail("it is truncated (" + std::to_string(size) + " bytes, shorter than the " + std::to_string(minimum) +
         "-byte header and checksum)");
  const auto bom = static_cast<std::uint16_t>(get_uint(data + 8, 2));
  if (bom == 0xFFFE) fail("it was written in big-endian byte order; this format is little-endian");
  if (bom != kByteOrderMark) fail("its byte-order mark is damaged");
  const auto version = static_cast<std::uint16_t>(get_uint(data + 10, 2));
  if (version < 1 || version > kModelFormatVersion)
    fail("format version " + std::to_string(version) + " is not supported (this library reads versions 1 to " +
         std::to_string(kModelFormatVersion) + ")");
  const bool has_metadata = version >= 2;

  // Header, arrays (P bytes), for version 2 the metadata (its u32 length M, then M bytes), checksum.
  const std::size_t fixed = minimum + (has_metadata ? kMetadataSizeField : 0);
  if (size < fixed)
    fail("it is truncated (" + std::to_string(size) + " bytes, shorter than the " + std::to_string(fixed) +
         "-byte header, metadata length and checksum)");
  const std::uint64_t payload = get_uint(data + 48, 8);
  const std::uint64_t available = size - fixed;
  const auto declared = [&](std::uint64_t body) {
    return body > std::numeric_limits<std::uint64_t>::max() - fixed ? std::string("more than 2^64")
                                                                    : std::to_string(body + fixed);
  };
  if (payload > available)
    fail("it is truncated (" + std::to_string(size) + " bytes, its header declares " + declared(payload) + ")");
  std::uint64_t metadata_size = 0;
  if (has_metadata) {
    metadata_size = get_uint(data + kHeaderSize + payload, kMetadataSizeField);
    if (metadata_size > available - payload)
      fail("it is truncated (" + std::to_string(size) + " bytes, its header and metadata length declare " +
           declared(payload + metadata_size) + ")");
  }
  if (payload + metadata_size < available)
    fail("it has " + std::to_string(available - payload - metadata_size) + " unexpected bytes after the model");
  const std::uint32_t stored_crc = static_cast<std::uint32_t>(get_uint(data + size - kChecksumSize, 4));
  if (crc32(data, size - kChecksumSize) != stored_crc) fail("checksum mismatch (the file is corrupted)");

  // The checksum matched: what follows catches files written wrongly rather than damaged.
  const std::uint8_t dtype_code = data[12], cov_code = data[13], converged = data[14], reserved = data[15];
  if (dtype_code != 1 && dtype_code != 2) fail("unknown dtype code " + std::to_string(dtype_code));
  const detail::Structure* structure = detail::structure_of_file_code(cov_code);
  if (structure == nullptr) fail("unknown covariance type code " + std::to_string(cov_code));
  if (converged > 1 || reserved != 0) fail("invalid flag bytes in the header");
  const auto dtype = static_cast<FileDtype>(dtype_code);
  const CovarianceType type = structure->type();
  const std::uint64_t k = get_uint(data + 16, 8), n = get_uint(data + 24, 8);
  const std::uint64_t n_iter = get_uint(data + 32, 8);
  const double lower_bound = get_double(data + 40);
  if (k < 1 || n < 1) fail("it declares no components or no features");
  if (checked_mul(value_count(type, k, n), element_size(dtype)) != payload)
    fail("its payload size does not match its dimensions");
  if (n_iter > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) fail("n_iter is out of range");
  if (std::isnan(lower_bound) || lower_bound == std::numeric_limits<double>::infinity())
    fail("its lower bound is NaN or +infinity");

  Mixture mix;
  mix.covariance_type = type;
  const auto K = static_cast<Index>(k), N = static_cast<Index>(n);
  const auto shape = covariance_storage_shape(type, K, N);
  mix.weights.resize(K);
  mix.means.resize(K, N);
  mix.covariances.resize(shape.first, shape.second);
  mix.precisions_cholesky.resize(shape.first, shape.second);
  const unsigned char* p = data + kHeaderSize;
  read_values(p, dtype, mix.weights);
  read_values(p, dtype, mix.means);
  read_values(p, dtype, mix.covariances);
  read_values(p, dtype, mix.precisions_cholesky);
  const std::string problem = parameter_problem(mix);
  if (!problem.empty()) fail(problem);
  LoadedModel out;
  out.model = GaussianMixture(std::move(mix), FitInfo{static_cast<int>(n_iter), converged == 1, lower_bound});
  out.dtype = dtype;
  if (has_metadata)
    out.metadata.assign(reinterpret_cast<const char*>(data + kHeaderSize + payload + kMetadataSizeField),
                        static_cast<std::size_t>(metadata_size));
  return out;
}

void save(const GaussianMixture& model, const std::string& path, FileDtype dtype, const std::string& metadata) {
  const std::string bytes = encode_model(model, dtype, metadata);
  // Written beside the target, then renamed over it: the rename replaces the file whole, so a
  // failure part-way (a full disk, an interrupt) leaves the old file or none, never half of one.
  const std::string temporary = path + ".partial";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) throw IoError("cannot open '" + temporary + "' for writing: " + std::strerror(errno));
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    if (!file) {
      const int error = errno;
      std::remove(temporary.c_str());
      throw IoError("cannot write '" + path + "': " + std::strerror(error));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    throw IoError("cannot replace '" + path + "': " + std::strerror(error));
  }
}

LoadedModel read_model(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IoError("cannot open '" + path + "' for reading: " + std::strerror(errno));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) throw IoError("cannot read '" + path + "'");
  try {
    return decode_model(contents.str());
  } catch (const FormatError& e) {
    throw FormatError(std::string(e.what()) + " ('" + path + "')");
  }
}

GaussianMixture load(const std::string& path) { return read_model(path).model; }

}  // namespace gaussmix
