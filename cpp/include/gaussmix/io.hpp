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

/// Format version this library writes. It reads this version and every earlier one (version 1
/// files have no metadata).
constexpr std::uint16_t kModelFormatVersion = 2;

/// A decoded model file: the model, the element type its arrays were stored in, and the
/// writer's metadata (opaque bytes to the library; Python stores the estimator's
/// hyper-parameters and feature names there as JSON). Version 1 files have empty metadata.
struct LoadedModel {
  GaussianMixture model;
  FileDtype dtype = FileDtype::Float64;
  std::string metadata;
};

/// The bytes of a model file (the layout is documented in docs/model_format.md). Parameters are
/// written as stored in the model, precision Cholesky factors included, so a reader needs no
/// factorisation and gets bit-identical values (float64), or the float-rounded values widened
/// back exactly (float32). Throws NotFitted on a model without parameters.
/// `metadata` (at most 2^32 - 1 bytes) is stored verbatim after the parameters.
std::string encode_model(const GaussianMixture& model, FileDtype dtype = FileDtype::Float64,
                         const std::string& metadata = {});

/// Decodes the bytes of a model file. Everything is checked before a model is built, so a
/// damaged input never yields a partly filled model: throws FormatError when the bytes are not
/// a gaussmix model (magic), were written with the other byte order, have an unsupported version,
/// are truncated or have trailing bytes, fail the checksum, or hold invalid parameters.
LoadedModel decode_model(const std::string& bytes);

/// Writes encode_model(model, dtype, metadata) to path, replacing the file. The bytes go to a
/// temporary file beside it that is renamed over path once complete, so a failed save leaves no
/// half-written file. Throws IoError when the file cannot be written (and NotFitted as
/// encode_model).
void save(const GaussianMixture& model, const std::string& path, FileDtype dtype = FileDtype::Float64,
          const std::string& metadata = {});

/// Reads a model file. Throws IoError when it cannot be read and FormatError as decode_model.
GaussianMixture load(const std::string& path);

/// Reads a model file with its dtype and metadata (see load()).
LoadedModel read_model(const std::string& path);

/// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of size bytes: the file's checksum.
std::uint32_t crc32(const unsigned char* data, std::size_t size);

}  // namespace gaussmix
