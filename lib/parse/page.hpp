#pragma once
// The JSON bodies of the API: a page of records, an error body, an export response.
#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "parse/record_encoder.hpp"
#include "parse/rejection.hpp"

namespace mdesync::parse {

// A body that cannot be read at all (not JSON, no `value` array, broken structure).
// Individual bad records are never a PageError; they are Rejections.
class PageError : public Error {
 public:
  explicit PageError(const std::string& what) : Error(ErrorKind::data, what) {}
};

struct PageResult {
  std::size_t rows = 0;                   // COPY lines appended
  std::vector<Rejection> rejected;        // index = position in `value`
  std::vector<Rejection> altered;         // the first max_alteration_details; reason = what was altered
  std::optional<std::string> next_link;   // @odata.nextLink; absent on the last page
  std::string context;                    // @odata.context
};

// Parses one page ({"@odata.context":..., "value":[...], "@odata.nextLink":...},
// keys in any order) and appends one COPY line per stored record to `copy_out`.
// Throws PageError when the body is not JSON or has no `value` array; then
// `copy_out` is left as it was.
PageResult parse_page(RecordEncoder& encoder, simdjson::ondemand::parser& parser, simdjson::padded_string_view page,
                      std::string& copy_out);

// {"error":{"code":"Forbidden","message":"...","target":"..."}}; also the OAuth
// shape {"error":"invalid_client","error_description":"..."}. nullopt when the
// body is not JSON or carries no error.
struct ApiError {
  std::string code, message, target;
};
std::optional<ApiError> parse_api_error(std::string_view body);

// {"@odata.context":..., "exportFiles":["https://...", ...], "generatedTime":"2021-01-11T11:01:00Z"}
// Throws PageError when the body is not JSON, exportFiles is not an array of
// strings, or generatedTime is missing or not a timestamp.
struct ExportResponse {
  std::vector<std::string> files;
  std::string generated_time;
};
ExportResponse parse_export_response(std::string_view body);

}  // namespace mdesync::parse
