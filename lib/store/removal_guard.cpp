#include "store/removal_guard.hpp"

namespace mdesync::store {

RemovalVerdict judge_removals(std::uint64_t active_before, std::uint64_t candidates, double max_ratio, bool force) {
  RemovalVerdict v;
  v.guarded = !force && active_before > 0 &&
              static_cast<double>(candidates) > max_ratio * static_cast<double>(active_before);
  v.remove = !v.guarded && candidates > 0;
  return v;
}

}  // namespace mdesync::store
