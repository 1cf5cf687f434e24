// The model file: a versioned little-endian binary format shared by C++ and Python.
#pragma once

#include "gaussmix/model.hpp"

#include <cstdint>
#include <string>

namespace gaussmix {

/// Element type of the parameter arrays in a model file.
enum class FileDtype : std::uint8_t {
  Float32 = 1,  ///< half the size; values are rounded to float once, when written
  Float64 = 2,  ///< exact
};

/// Format version this library writes; it reads exactly this version.
constexpr std::uint16_t kModelFormatVersion = 1;

/// A decoded model file: the model and the element type its arrays were stored in.
struct LoadedModel {
  GaussianMixture model;
  FileDtype dtype = FileDtype::Float64;
};

/// The bytes of a model file (the layout is documented in docs/model_format.md). Parameters are
/// written as stored in the model, precision Cholesky factors included, so a reader needs no
/// factorisation and gets bit-identical values (float64), or the float-rounded values widened
/// back exactly (float32). Throws NotFitted on a model without parameters.
std::string encode_model(const GaussianMixture& model, FileDtype dtype = FileDtype::Float64);

/// Decodes the bytes of a model file. Everything is checked before a model is built, so a
/// damaged input never yields a partly filled model: throws FormatError when the bytes are not
/// a gaussmix model (magic), were written with the other byte order, have an unsupported version,
/// are truncated or have trailing bytes, fail the checksum, or hold invalid parameters.
LoadedModel decode_model(const std::string& bytes);

/// Writes encode_model(model, dtype) to path, replacing the file. Throws IoError when the file
/// cannot be written (and NotFitted as encode_model).
void save(const GaussianMixture& model, const std::string& path, FileDtype dtype = FileDtype::Float64);

/// Reads a model file. Throws IoError when it cannot be read and FormatError as decode_model.
GaussianMixture load(const std::string& path);

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of size bytes: the file's checksum.
std::uint32_t crc32(const unsigned char* data, std::size_t size);

}  // namespace gaussmix
