// The table of covariance structures: the one place that maps a type, a name or a model-file
// code to its structure.
#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <array>

namespace gaussmix::detail {

const Structure& full_structure();
const Structure& tied_structure();
const Structure& diag_structure();
const Structure& spherical_structure();
const Structure& eii_structure();
const Structure& eei_structure();
const Structure& evi_structure();
const Structure& eev_structure();
const Structure& evv_structure();
const Structure& vei_structure();
const Structure& vee_structure();
const Structure& vev_structure();
const Structure& eve_structure();
const Structure& vve_structure();

namespace {
const std::array<const Structure*, 14>& table() {
  static const std::array<const Structure*, 14> all = {
      &full_structure(), &tied_structure(), &diag_structure(), &spherical_structure(), &eii_structure(),
      &eei_structure(),  &evi_structure(),  &eev_structure(),  &evv_structure(),       &vei_structure(),
      &vee_structure(),  &vev_structure(),  &eve_structure(),  &vve_structure()};
  return all;
}
}  // namespace

const Structure& structure(CovarianceType type) {
  for (const Structure* s : table())
    if (s->type() == type) return *s;
  throw InvalidArgument("unknown covariance type");
}

const Structure* structure_named(const std::string& name) {
  for (const Structure* s : table())
    if (name == s->name()) return s;
  return nullptr;
}

const Structure* structure_of_file_code(std::uint8_t code) {
  for (const Structure* s : table())
    if (s->file_code() == code) return s;
  return nullptr;
}

}  // namespace gaussmix::detail
