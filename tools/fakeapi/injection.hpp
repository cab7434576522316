#pragma once
// Crafted input for tests: raw record text and page shapes the generator never
// produces (bad strings, duplicates, missing fields, a page without `value`, a
// nextLink that loops back). Set per tenant and data set with POST /_admin/inject.
//
// Injected records are served verbatim, byte for byte, after the generated data:
// the generated walk's last JSON page links to injected page 0, and every
// injected page becomes one more file of the export snapshot. Nothing here
// validates them: serving what a broken or hostile service would send is the point.
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/dataset.hpp"
#include "url.hpp"

namespace mdesync::fakeapi {

struct InjectedPage {
  std::vector<std::string> records;  // raw text of each record
  bool no_value = false;             // the JSON page has no "value" member
  bool zero_bytes = false;           // the export file is 0 bytes, not even a gzip header
  // Where this page's nextLink points: nullopt = the next injected page (none after
  // the last), -1 = the first generated page, n >= 0 = injected page n.
  std::optional<int> next;
};

// The POST /_admin/inject body: one raw record per line (LF; a CR before it is
// kept, as part of the record). A line `#page [no-value] [zero-bytes] [next=N|next=first]`
// starts a new page; records before the first such line form page 0. Empty lines
// are skipped. An empty body clears the injection.
struct InjectionOrError {
  std::vector<InjectedPage> pages;
  std::string error;
};
InjectionOrError parse_injection(std::string_view body);

class Injections {
 public:
  void set(const std::string& tenant, model::Dataset dataset, std::vector<InjectedPage> pages);
  // A copy: the caller serves it without holding the lock.
  std::vector<InjectedPage> get(const std::string& tenant, model::Dataset dataset) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, model::Dataset>, std::vector<InjectedPage>> pages_;
};

// $skiptoken values of injected pages: distinct from the generated walk's tokens
// (those are base64url, which never holds '~').
std::string injected_skiptoken(std::size_t index);
std::optional<std::size_t> parse_injected_skiptoken(std::string_view token);

// `query` without the parameter `name` (compared case-insensitively).
Params without_param(const Params& query, std::string_view name);

// `base_url` + data set path + pageSize + $skiptoken of injected page `index`.
std::string injected_page_link(std::string_view base_url, model::Dataset dataset, std::size_t page_size,
                               std::size_t index);
// The first generated page, as a client that starts a full walk asks for it.
std::string first_page_link(std::string_view base_url, model::Dataset dataset, std::size_t page_size);

// The JSON body of injected page `index` (which must exist).
std::string injected_page_body(const std::vector<InjectedPage>& pages, std::size_t index, model::Dataset dataset,
                               std::string_view base_url, std::size_t page_size);

// Adds `,"@odata.nextLink":"<link>"` to a page body that has none (the generated
// walk's last page), before its closing brace.
void append_next_link(std::string& page_body, std::string_view link);

// The NDJSON text of an injected export file, `eol` after every record.
std::string injected_file_text(const InjectedPage& page, std::string_view eol);

}  // namespace mdesync::fakeapi
