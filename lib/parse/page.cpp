#include "parse/page.hpp"

#include <algorithm>
#include <charconv>

#include "core/timestamp.hpp"
#include "core/quote.hpp"

namespace mdesync::parse {
namespace {

namespace od = simdjson::ondemand;

// " at byte N" when simdjson can say where it stopped, else "".
std::string where(od::document& doc, std::string_view body) {
  const char* at = nullptr;
  if (doc.current_location().get(at) || at < body.data() || at > body.data() + body.size()) return {};
  return " at byte " + std::to_string(at - body.data());
}

[[noreturn]] void fail(std::string_view what, od::document& doc, std::string_view body,
                       simdjson::error_code err = simdjson::SUCCESS) {
  std::string msg(what);
  if (err != simdjson::SUCCESS) msg.append(": ").append(simdjson::error_message(err));
  msg.append(where(doc, body));
  throw PageError(msg);
}

// Starts iterating `body` as a JSON object, or throws PageError naming `what`.
od::object open_object(od::parser& parser, simdjson::padded_string_view body, od::document& doc,
                       std::string_view what) {
  if (const auto err = parser.iterate(body).get(doc))
    throw PageError(std::string(what) + " is not JSON: " + simdjson::error_message(err));
  od::object object;
  if (const auto err = doc.get_object().get(object)) {
    if (err != simdjson::INCORRECT_TYPE) fail(std::string(what) + " is not JSON", doc, body, err);
    // Typically an HTML error page from a proxy: show how it starts.
    std::string msg = std::string(what) + " is not a JSON object: starts with ";
    append_quoted(msg, body);
    throw PageError(msg);
  }
  return object;
}

// After the top-level object: anything but end of input is an error.
void expect_end(od::document& doc, std::string_view body, std::string_view what) {
  const char* at = nullptr;
  if (!doc.current_location().get(at))
    throw PageError(std::string("trailing content after the ") + std::string(what) + " at byte " +
                    std::to_string(at - body.data()));
}

// generatedTime becomes a system_clock time point (signed 64-bit nanoseconds
// since 1970, so years 1678..2261); parse_iso8601 overflows beyond that, which
// the fuzzer found with "5634-05-30T11:01:00Z". A real export is generated now.
bool representable_year(std::string_view time) {
  int year = 0;
  const auto [end, ec] = std::from_chars(time.data(), time.data() + std::min<std::size_t>(time.size(), 4), year);
  if (ec != std::errc{} || end != time.data() + 4) return true;  // not a year: parse_iso8601 refuses it
  return year >= 1900 && year < 2200;
}

void read_records(RecordEncoder& encoder, od::value& value, od::document& doc, std::string_view body,
                  std::string& copy_out, PageResult& result) {
  od::array records;
  if (const auto err = value.get_array().get(records)) fail("page \"value\" is not an array", doc, body, err);
  std::size_t index = 0;
  for (auto element : records) {
    od::value record;
    if (const auto err = std::move(element).get(record)) fail("page is not valid JSON", doc, body, err);
    switch (encoder.encode(record, copy_out)) {
      case Verdict::stored:
        ++result.rows;
        if (!encoder.alteration().empty() && result.altered.size() < max_alteration_details)
          result.altered.push_back({index, encoder.alteration()});
        break;
      case Verdict::rejected: result.rejected.push_back({index, encoder.reason()}); break;
      case Verdict::malformed:
        fail("page is not valid JSON: record " + std::to_string(index) + ": " + encoder.reason(), doc, body);
    }
    ++index;
  }
}

PageResult parse_page_body(RecordEncoder& encoder, od::parser& parser, simdjson::padded_string_view page,
                           std::string& copy_out) {
  PageResult result;
  od::document doc;
  od::object top = open_object(parser, page, doc, "page");
  bool saw_value = false;
  for (auto field_result : top) {
    od::field field;
    if (const auto err = std::move(field_result).get(field)) fail("page is not valid JSON", doc, page, err);
    std::string_view key;
    if (const auto err = field.unescaped_key().get(key)) fail("page has an invalid key", doc, page, err);
    if (key == "value") {
      if (saw_value) fail("page has two \"value\" arrays", doc, page);
      saw_value = true;
      read_records(encoder, field.value(), doc, page, copy_out, result);
    } else if (key == "@odata.nextLink") {
      // The link drives pagination: a value we cannot read must stop the pull,
      // not silently end it.
      od::json_type type;
      if (const auto err = field.value().type().get(type)) fail("page is not valid JSON", doc, page, err);
      std::string_view link;
      if (type == od::json_type::null) {
        result.next_link.reset();
      } else if (const auto err = field.value().get_string().get(link)) {
        fail("page \"@odata.nextLink\" is not a string", doc, page, err);
      } else {
        result.next_link.emplace(link);
      }
    } else if (key == "@odata.context") {
      std::string_view context;
      if (!field.value().get_string().get(context)) result.context.assign(context);
    }
  }
  if (!saw_value) throw PageError("page has no \"value\" array");
  expect_end(doc, page, "page object");
  return result;
}

}  // namespace

PageResult parse_page(RecordEncoder& encoder, od::parser& parser, simdjson::padded_string_view page,
                      std::string& copy_out) {
  const std::size_t mark = copy_out.size();
  try {
    return parse_page_body(encoder, parser, page, copy_out);
  } catch (...) {
    copy_out.resize(mark);  // all or nothing: the caller never sees half a page
    throw;
  }
}

std::optional<ApiError> parse_api_error(std::string_view body) {
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object top;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(top)) return std::nullopt;
  std::optional<ApiError> result;
  std::string_view description;  // OAuth's error_description, when error is a string
  for (auto field_result : top) {
    od::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return std::nullopt;
    if (key == "error") {
      od::json_type type;
      if (field.value().type().get(type)) return std::nullopt;
      if (type == od::json_type::string) {
        std::string_view code;
        if (field.value().get_string().get(code)) return std::nullopt;
        result.emplace().code.assign(code);
        continue;
      }
      od::object error;
      if (type != od::json_type::object || field.value().get_object().get(error)) return std::nullopt;
      ApiError& e = result.emplace();
      for (auto member_result : error) {
        od::field member;
        std::string_view name, text;
        if (std::move(member_result).get(member) || member.unescaped_key().get(name)) return std::nullopt;
        if (member.value().get_string().get(text)) continue;  // null or nested: not ours
        if (name == "code") e.code.assign(text);
        else if (name == "message") e.message.assign(text);
        else if (name == "target") e.target.assign(text);
      }
    } else if (key == "error_description") {
      if (field.value().get_string().get(description)) description = {};
    }
  }
  if (result && result->message.empty()) result->message.assign(description);
  return result;
}

ExportResponse parse_export_response(std::string_view body) {
  const simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object top = open_object(parser, padded, doc, "export response");
  ExportResponse result;
  bool saw_files = false;
  for (auto field_result : top) {
    od::field field;
    std::string_view key;
    if (const auto err = std::move(field_result).get(field)) fail("export response is not valid JSON", doc, padded, err);
    if (const auto err = field.unescaped_key().get(key)) fail("export response has an invalid key", doc, padded, err);
    if (key == "exportFiles") {
      od::array files;
      if (const auto err = field.value().get_array().get(files))
        fail("export response \"exportFiles\" is not an array", doc, padded, err);
      saw_files = true;
      for (auto element : files) {
        std::string_view url;
        if (const auto err = std::move(element).get_string().get(url))
          fail("export response \"exportFiles\" holds a non-string", doc, padded, err);
        result.files.emplace_back(url);
      }
    } else if (key == "generatedTime") {
      std::string_view time;
      if (const auto err = field.value().get_string().get(time))
        fail("export response \"generatedTime\" is not a string", doc, padded, err);
      result.generated_time.assign(time);
    }
  }
  expect_end(doc, padded, "export response");
  if (!saw_files) throw PageError("export response has no \"exportFiles\" array");
  if (result.generated_time.empty()) throw PageError("export response has no \"generatedTime\"");
  if (!representable_year(result.generated_time) || !parse_iso8601(result.generated_time)) {
    std::string msg = "export response \"generatedTime\" is not a timestamp: ";
    append_quoted(msg, result.generated_time);
    throw PageError(msg);
  }
  return result;
}

}  // namespace mdesync::parse
