// The model file: exact round trips, and rejection of every kind of damaged file.
#include "check.hpp"
#include "data.hpp"

#include <cstdio>
#include <fstream>
#include <limits>

using namespace gaussmix;

namespace {

const CovarianceType kTypes[] = {
    CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical, CovarianceType::EII,
    CovarianceType::EEI,  CovarianceType::EVI,  CovarianceType::EEV,  CovarianceType::EVV,       CovarianceType::VEI,
    CovarianceType::VEE,  CovarianceType::VEV,  CovarianceType::EVE,  CovarianceType::VVE};

// Rewrites the trailing CRC after a deliberate edit, so a test reaches the checks behind it.
std::string with_fresh_checksum(std::string bytes) {
  const std::uint32_t crc = crc32(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size() - 4);
  for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  return bytes;
}

template <typename M>
M rounded(const M& m) {
  return m.template cast<float>().template cast<double>();
}

}  // namespace

GM_TEST(io_crc32_matches_the_standard_check_value) {
  const std::string digits = "123456789";
  CHECK(crc32(reinterpret_cast<const unsigned char*>(digits.data()), digits.size()) == 0xCBF43926U);
  CHECK(crc32(nullptr, 0) == 0U);
}

GM_TEST(io_round_trip_is_exact_for_every_type_and_dtype) {
  const RowMatrix<double> X = gaussmix_test::make_blobs(200, 3).X;
  for (CovarianceType type : kTypes) {
    const GaussianMixture gm = gaussmix_test::fitted_model(type);
    const LoadedModel back = decode_model(encode_model(gm, FileDtype::Float64));
    CHECK(back.dtype == FileDtype::Float64);
    const GaussianMixture& m = back.model;
    CHECK(m.covariance_type() == type);
    CHECK(m.weights() == gm.weights() && m.means() == gm.means());
    CHECK(m.covariances() == gm.covariances());
    CHECK(m.precisions_cholesky() == gm.precisions_cholesky());
    CHECK(m.fit_info().n_iter == gm.fit_info().n_iter);
    CHECK(m.fit_info().converged == gm.fit_info().converged);
    CHECK(m.fit_info().lower_bound == gm.fit_info().lower_bound);
    CHECK(m.score_samples(X) == gm.score_samples(X));
    CHECK((m.predict(X).array() == gm.predict(X).array()).all());

    const std::string bytes32 = encode_model(gm, FileDtype::Float32);
    const LoadedModel back32 = decode_model(bytes32);
    CHECK(back32.dtype == FileDtype::Float32);
    CHECK(back32.model.means() == rounded(gm.means()));
    CHECK(back32.model.covariances() == rounded(gm.covariances()));
    CHECK(back32.model.precisions_cholesky() == rounded(gm.precisions_cholesky()));
    CHECK(back32.model.fit_info().lower_bound == gm.fit_info().lower_bound);
    // A float32 file re-encodes to the same bytes: the rounding happens once.
    CHECK(encode_model(back32.model, FileDtype::Float32) == bytes32);
    CHECK((back32.model.predict(X).array() == gm.predict(X).array()).all());
  }
}

GM_TEST(io_file_round_trip) {
  const GaussianMixture gm = gaussmix_test::fitted_model(CovarianceType::Full);
  const std::string path = "gaussmix_test_model.gmm";
  save(gm, path);
  const GaussianMixture back = load(path);
  std::remove(path.c_str());
  CHECK(back.means() == gm.means() && back.precisions_cholesky() == gm.precisions_cholesky());
}

GM_TEST(io_missing_and_unwritable_paths_are_io_errors) {
  const GaussianMixture gm = gaussmix_test::fitted_model(CovarianceType::Diag);
  CHECK_THROWS(IoError, load("no/such/dir/model.gmm"), "no/such/dir/model.gmm");
  CHECK_THROWS(IoError, save(gm, "no/such/dir/model.gmm"), "for writing");
  CHECK_THROWS(NotFitted, encode_model(GaussianMixture()), "fit()");
}

GM_TEST(io_every_truncation_is_rejected) {
  for (CovarianceType type : kTypes) {
    const std::string bytes = encode_model(gaussmix_test::fitted_model(type), FileDtype::Float32);
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      const std::string cut = bytes.substr(0, length);
      CHECK_THROWS(FormatError, decode_model(cut), "truncated");
    }
  }
}

GM_TEST(io_every_flipped_byte_is_rejected) {
  const std::string bytes = encode_model(gaussmix_test::fitted_model(CovarianceType::Tied));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
      CHECK_THROWS(FormatError, decode_model(damaged), "invalid gaussmix model file");
    }
  }
}

GM_TEST(io_header_problems_have_their_own_messages) {
  const std::string bytes = encode_model(gaussmix_test::fitted_model(CovarianceType::Spherical));
  std::string other = bytes;
  other[1] = 'X';
  CHECK_THROWS(FormatError, decode_model(other), "magic");
  CHECK_THROWS(FormatError, decode_model("GMM 1.0\nweights 0.5 0.5\n"), "magic");
  std::string swapped = bytes;
  std::swap(swapped[8], swapped[9]);
  CHECK_THROWS(FormatError, decode_model(swapped), "big-endian");
  std::string newer = bytes;
  newer[10] = 3;
  CHECK_THROWS(FormatError, decode_model(newer), "version 3 is not supported");
  CHECK_THROWS(FormatError, decode_model(bytes.substr(0, bytes.size() - 9)), "truncated");
  CHECK_THROWS(FormatError, decode_model(bytes + "extra"), "5 unexpected bytes");
  std::string flipped = bytes;
  flipped[70] = static_cast<char>(flipped[70] ^ 0x10);
  CHECK_THROWS(FormatError, decode_model(flipped), "checksum");
}

GM_TEST(io_well_formed_files_with_bad_contents_are_rejected) {
  const std::string bytes = encode_model(gaussmix_test::fitted_model(CovarianceType::Diag));
  std::string dtype = bytes;
  dtype[12] = 7;
  CHECK_THROWS(FormatError, decode_model(with_fresh_checksum(dtype)), "dtype");
  std::string type = bytes;
  type[13] = 200;  // no structure has this code
  CHECK_THROWS(FormatError, decode_model(with_fresh_checksum(type)), "covariance type");
  std::string dims = bytes;
  dims[16] = 4;  // four components in the header, three in the payload
  CHECK_THROWS(FormatError, decode_model(with_fresh_checksum(dims)), "payload size");
  std::string negative = bytes;
  negative[56 + 7] = static_cast<char>(negative[56 + 7] | 0x80);  // sign bit of weight 0
  CHECK_THROWS(FormatError, decode_model(with_fresh_checksum(negative)), "non-negative");
}

GM_TEST(io_models_a_file_cannot_hold_are_refused_when_saving) {
  RowMatrix<double> means(1, 1), cov(1, 1);
  means << 1e300;  // beyond float's range
  cov << 1.0;
  const GaussianMixture gm(Mixture::from_covariances(CovarianceType::Full, Vector<double>::Ones(1), means, cov));
  CHECK_THROWS(InvalidArgument, encode_model(gm, FileDtype::Float32), "too large");
  CHECK(decode_model(encode_model(gm, FileDtype::Float64)).model.means()(0, 0) == 1e300);
}

GM_TEST(io_metadata_travel_verbatim_and_version_1_files_still_read) {
  const GaussianMixture gm = gaussmix_test::fitted_model(CovarianceType::Tied);
  const std::string metadata = std::string("{\"kind\": \"test\"}") + '\0' + "binary tail";
  const LoadedModel loaded = decode_model(encode_model(gm, FileDtype::Float64, metadata));
  CHECK(loaded.metadata == metadata);
  CHECK(loaded.model.means() == gm.means());
  CHECK(decode_model(encode_model(gm)).metadata.empty());
  // Version 1: the same header and arrays, no metadata section.
  const std::string v2 = encode_model(gm);
  std::string v1 = v2.substr(0, v2.size() - 8);  // drop the empty metadata's length and the CRC
  v1[10] = 1;
  v1 = with_fresh_checksum(v1 + std::string(4, '\0'));
  const LoadedModel old = decode_model(v1);
  CHECK(old.metadata.empty());
  CHECK(old.model.means() == gm.means());
  CHECK(old.model.precisions_cholesky() == gm.precisions_cholesky());
  // A metadata length pointing past the end is truncation, not a crash.
  std::string long_meta = encode_model(gm, FileDtype::Float64, "abc");
  long_meta[long_meta.size() - 4 - 3 - 4] = 9;
  CHECK_THROWS(FormatError, decode_model(with_fresh_checksum(long_meta)), "truncated");
}
