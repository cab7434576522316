#include "model/run.hpp"

namespace mdesync::model {

const char* to_string(RunMode m) { return m == RunMode::full ? "full" : "incremental"; }

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::succeeded: return "succeeded";
    case RunStatus::failed: return "failed";
    case RunStatus::guarded: return "guarded";
    case RunStatus::abandoned: return "abandoned";
  }
  return "failed";
}

}  // namespace mdesync::model
