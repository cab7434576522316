#pragma once
// Checks shared by the fuzz targets. Each throws InvariantBroken with a message
// that says which promise broke and shows the offending bytes escaped.
#include <cstddef>
#include <string_view>

#include "model/dataset.hpp"

namespace mdesync::fuzz {

void check(bool ok, std::string_view what);

// PostgreSQL refuses invalid UTF-8 (surrogates and overlong forms included) in
// a UTF8 database, and one refused value fails a whole COPY or the sync_runs update.
bool valid_utf8(std::string_view s);

// Text that ends up in a log line or sync_runs.error: valid UTF-8 and no raw
// control character that could forge or break a log line.
void check_log_safe(std::string_view text, std::string_view what);

// `copy` is exactly `rows` COPY text lines for `dataset`: tenant plus one field per
// column, each field either \N or escaped text with only the escapes copy_text
// writes, every line valid UTF-8 (copy_text.hpp and record_encoder.hpp).
void check_copy_lines(std::string_view copy, model::Dataset dataset, std::size_t rows);

}  // namespace mdesync::fuzz
