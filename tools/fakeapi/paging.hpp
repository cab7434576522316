#pragma once
// The paged JSON endpoints: query parameters, skip tokens and page bodies.
//
// Paging is keyset paging: a $skiptoken carries the key of the last record served, and
// the next page starts at the first record whose key is greater. A page therefore never
// repeats or skips a record that existed throughout the walk, however the tenant mutates
// in between; a record inserted behind the cursor is missed by this walk but carries a
// fresh change time, so the next sinceTime pull finds it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "inventory.hpp"
#include "model/dataset.hpp"
#include "record_json.hpp"
#include "url.hpp"

namespace mdesync::fakeapi {

inline constexpr std::size_t default_page_size = 50'000;
inline constexpr std::size_t max_page_size = 200'000;

struct PageRequest {
  std::size_t page_size = default_page_size;
  std::optional<std::size_t> top;   // $top: at most this many, and never a nextLink
  std::optional<SystemTime> since;  // records changed at or after
  std::string since_raw;            // as the client spelled it, echoed into nextLink
  std::optional<RecordKey> after;   // decoded $skiptoken
};

struct PageRequestOrError {
  std::optional<PageRequest> request;
  std::string error;  // why the request is a 400, when request is empty
};

PageRequestOrError parse_page_request(const Params& query, model::Dataset dataset);

std::string encode_skiptoken(model::Dataset dataset, const RecordKey& last);
// nullopt for anything not produced by encode_skiptoken for the same data set.
std::optional<RecordKey> decode_skiptoken(model::Dataset dataset, std::string_view token);

struct Page {
  std::string body;
  std::size_t records = 0;
  bool has_more = false;
};

// `base_url` is scheme://host as the client addressed us (the Host header), so
// @odata.context and @odata.nextLink point back at this server; `next_link_base`, when
// set, replaces it in nextLink only (to test that clients refuse foreign hosts). The
// caller holds the tenant's read lock.
Page write_page(const TenantData& tenant, const RecordWriter& writer, model::Dataset dataset,
                const PageRequest& request, std::string_view base_url, std::string_view next_link_base = {});

std::string odata_context(std::string_view base_url, model::Dataset dataset);

}  // namespace mdesync::fakeapi
