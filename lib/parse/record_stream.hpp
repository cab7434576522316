#pragma once
// One unit of work (a JSON page, an export file) parsed while its bytes arrive:
// both pull paths drive their parser through this interface, so "fetch -> parse
// -> batch -> store" is written once (schedule/unit_pipeline.hpp).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parse/rejection.hpp"

namespace mdesync::parse {

// What a unit held, once its stream ended.
struct UnitSummary {
  std::size_t rows = 0;                  // COPY lines appended
  std::size_t rejected = 0;              // records rejected
  std::vector<Rejection> rejections;     // their reasons: all of a page's, a file's first ones
  std::vector<Rejection> alterations;    // the first records stored with a value altered to fit
  std::optional<std::string> next_link;  // a JSON page's @odata.nextLink (files have none)
};

class RecordStream {
 public:
  virtual ~RecordStream() = default;
  // The unit's next bytes, split anywhere; stored records go to the COPY text the
  // stream was made with. Throws when the unit cannot be parsed (PageError,
  // codec::GzipError): the caller drops what it stored of it.
  virtual void feed(std::string_view bytes) = 0;
  // The unit's end, once, after the last feed(). Throws as feed() does when the
  // unit was empty or truncated.
  virtual UnitSummary end() = 0;
};

}  // namespace mdesync::parse
