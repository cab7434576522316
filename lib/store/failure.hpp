#pragma once
// What a failure met while syncing means (core/classify.hpp), for exceptions
// that may come from libpqxx: this is the only place outside the store that
// needs to know them, so nothing above the store includes pqxx.
#include <exception>
#include <string>

#include "core/classify.hpp"

namespace mdesync::store {

// libpqxx: a broken connection reconnects, an SQL error goes by its SQLSTATE;
// mdesync::Error by its kind; anything else is fatal.
Recovery recovery_of(const std::exception& e) noexcept;

// The message for a run's error: e.what(), said plainly for a lost connection
// (libpqxx's own words, "not connected", do not say which side went away).
std::string describe_failure(const std::exception& e);

}  // namespace mdesync::store
