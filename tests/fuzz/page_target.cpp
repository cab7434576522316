// Target 1: the JSON bodies the API answers with.
#include <simdjson.h>

#include <optional>
#include <string>

#include "core/timestamp.hpp"
#include "invariants.hpp"
#include "parse/page.hpp"
#include "parse/page_stream.hpp"
#include "splitter.hpp"
#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

// Stands for COPY lines of earlier pages: parse_page must append to it or leave it alone.
constexpr std::string_view earlier = "earlier\tpage\n";

struct Parsed {
  std::optional<parse::PageResult> result;  // nullopt: PageError
  std::string copy;                         // what the parser appended
};

Parsed whole_page(model::Dataset dataset, simdjson::padded_string_view body) {
  parse::RecordEncoder encoder(dataset, "fuzz");
  simdjson::ondemand::parser parser;
  std::string copy(earlier);
  Parsed parsed;
  try {
    parsed.result = parse::parse_page(encoder, parser, body, copy);
    check(copy.starts_with(earlier), "parse_page changed COPY text it did not append");
    parsed.copy = copy.substr(earlier.size());
    check_copy_lines(parsed.copy, dataset, parsed.result->rows);
    std::size_t next_index = 0;
    for (const auto& r : parsed.result->rejected) {
      check(r.index >= next_index, "rejections are not in page order");
      next_index = r.index + 1;
      check(!r.reason.empty(), "a rejection has no reason");
      check_log_safe(r.reason, "rejection reason");
    }
    if (parsed.result->next_link) check(valid_utf8(*parsed.result->next_link), "@odata.nextLink is not valid UTF-8");
  } catch (const parse::PageError& e) {
    check(copy == earlier, "parse_page threw but left part of the page in the COPY text");
    check_log_safe(e.what(), "PageError message");
  }
  return parsed;
}

// PageStream promises parse_page's result for the same bytes, however they are split.
void streamed_page(model::Dataset dataset, std::string_view body, Splitter& split, const Parsed& whole) {
  parse::RecordEncoder encoder(dataset, "fuzz");
  std::string copy;
  std::optional<parse::PageResult> result;
  try {
    parse::PageStream stream(encoder, copy);
    in_chunks(body, split, [&](std::string_view piece) { stream.feed(piece); });
    result = stream.finish();
  } catch (const parse::PageError& e) {
    check_log_safe(e.what(), "PageStream error");
  }
  if (!whole.result) return check(!result, "PageStream accepted a page parse_page refuses");
  check(result.has_value(), "PageStream refused a page parse_page accepts");
  check(copy == whole.copy, "PageStream wrote other COPY text than parse_page");
  check(result->rows == whole.result->rows, "PageStream counted other rows than parse_page");
  check(result->next_link == whole.result->next_link, "PageStream read another @odata.nextLink than parse_page");
  check(result->context == whole.result->context, "PageStream read another @odata.context than parse_page");
  check(result->rejected.size() == whole.result->rejected.size(), "PageStream rejected other records than parse_page");
  for (std::size_t i = 0; i < result->rejected.size(); ++i)
    check(result->rejected[i].index == whole.result->rejected[i].index &&
              result->rejected[i].reason == whole.result->rejected[i].reason,
          "PageStream rejected other records than parse_page");
}

}  // namespace

void page(std::string_view input) {
  const simdjson::padded_string body(input);
  for (const auto dataset : model::all_datasets) (void)whole_page(dataset, body);

  if (const auto error = parse::parse_api_error(input)) {
    check(valid_utf8(error->code) && valid_utf8(error->message) && valid_utf8(error->target),
          "API error text is not valid UTF-8");
  }

  try {
    const parse::ExportResponse response = parse::parse_export_response(input);
    check(parse_iso8601(response.generated_time).has_value(), "accepted generatedTime does not parse");
  } catch (const parse::PageError& e) {
    check_log_safe(e.what(), "export response error");
  }
}

void page_stream(std::string_view input) {
  const simdjson::padded_string body(input);
  Splitter split(input);
  for (const auto dataset : model::all_datasets) streamed_page(dataset, input, split, whole_page(dataset, body));
}

}  // namespace mdesync::fuzz
