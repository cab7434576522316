#include "paging.hpp"

#include <algorithm>
#include <charconv>

#include "core/base64.hpp"
#include "core/timestamp.hpp"
#include "core/url.hpp"
#include "json_writer.hpp"
#include "rng.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr char token_version = 1;

std::optional<std::size_t> parse_count(std::string_view s) {
  std::size_t v = 0;
  if (s.empty() || s.size() > 12) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void put_field(std::string& out, std::string_view s) {
  std::size_t n = s.size();
  do {  // LEB128 length
    char b = static_cast<char>(n & 0x7F);
    n >>= 7;
    if (n) b = static_cast<char>(b | 0x80);
    out += b;
  } while (n);
  out += s;
}

bool get_field(std::string_view& in, std::string& out) {
  std::size_t n = 0;
  int shift = 0;
  while (true) {
    if (in.empty() || shift > 28) return false;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    n |= static_cast<std::size_t>(b & 0x7F) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (n > in.size()) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

char dataset_tag(model::Dataset d) { return d == model::Dataset::cpe ? 'c' : 'n'; }

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

PageRequestOrError parse_page_request(const Params& query, model::Dataset dataset) {
  PageRequestOrError out;
  PageRequest req;
  if (const auto* v = query.find("pageSize")) {
    const auto n = parse_count(*v);
    if (!n || *n == 0 || *n > max_page_size) {
      out.error = "Invalid value for pageSize: '" + *v + "'. pageSize must be an integer between 1 and " +
                  std::to_string(max_page_size) + ".";
      return out;
    }
    req.page_size = *n;
  }
  if (const auto* v = query.find("$top")) {
    const auto n = parse_count(*v);
    if (!n || *n > max_page_size) {
      out.error = "Invalid value for $top: '" + *v + "'. $top must be an integer between 0 and " +
                  std::to_string(max_page_size) + ".";
      return out;
    }
    req.top = *n;
  }
  if (const auto* v = query.find("sinceTime")) {
    const auto t = parse_iso8601(*v);
    if (!t) {
      out.error = "Invalid value for sinceTime: '" + *v + "'. Expected an ISO 8601 date or date-time.";
      return out;
    }
    req.since = *t;
    req.since_raw = *v;
  }
  if (const auto* v = query.find("$skiptoken")) {
    auto key = decode_skiptoken(dataset, *v);
    if (!key) {
      out.error = "Invalid $skiptoken.";
      return out;
    }
    req.after = std::move(*key);
  }
  out.request = std::move(req);
  return out;
}

std::string encode_skiptoken(model::Dataset dataset, const RecordKey& last) {
  std::string raw;
  raw += token_version;
  raw += dataset_tag(dataset);
  put_field(raw, last.device_id);
  put_field(raw, last.vendor);
  put_field(raw, last.name);
  put_field(raw, last.version);
  // A checksum, so a mangled token is a clean 400 rather than a silent restart.
  put_u32(raw, static_cast<std::uint32_t>(fnv1a(raw)));
  return base64url_encode(raw);
}

std::optional<RecordKey> decode_skiptoken(model::Dataset dataset, std::string_view token) {
  const auto raw = base64url_decode(token);
  if (!raw || raw->size() < 6) return std::nullopt;
  std::string_view body(raw->data(), raw->size() - 4);
  std::string sum;
  put_u32(sum, static_cast<std::uint32_t>(fnv1a(body)));
  if (sum != std::string_view(raw->data() + body.size(), 4)) return std::nullopt;
  if (body[0] != token_version || body[1] != dataset_tag(dataset)) return std::nullopt;
  body.remove_prefix(2);
  RecordKey k;
  if (!get_field(body, k.device_id) || !get_field(body, k.vendor) || !get_field(body, k.name) ||
      !get_field(body, k.version) || !body.empty())
    return std::nullopt;
  return k;
}

std::string odata_context(std::string_view base_url, model::Dataset dataset) {
  std::string s(base_url);
  s += dataset == model::Dataset::cpe
           ? "/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetSoftware)"
           : "/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetNonCpeSoftware)";
  return s;
}

Page write_page(const TenantData& tenant, const RecordWriter& writer, model::Dataset dataset,
                const PageRequest& req, std::string_view base_url, std::string_view next_link_base) {
  const std::size_t limit = req.top ? *req.top : req.page_size;
  std::string head = "{\"@odata.context\":";
  json::append_string(head, odata_context(base_url, dataset));
  head += ",\"value\":[";

  RecordKey last;
  // Written as one straight loop per data set: this is the hot path for 200k-record pages.
  std::string body;
  body += head;
  std::size_t count = 0;
  std::size_t last_index = 0;
  bool has_more = false;
  const auto loop = [&](const auto& records, auto emit) {
    const std::size_t start = req.after ? tenant.first_after(records, *req.after) : 0;
    const std::size_t remaining = records.size() > start ? records.size() - start : 0;
    body.reserve(body.size() + std::min(limit, remaining) * (dataset == model::Dataset::cpe ? 640 : 440) + 1024);
    std::size_t i = start;
    for (; i < records.size() && count < limit; ++i) {
      const auto& r = records[i];
      if (req.since && r.changed_at < *req.since) continue;
      if (count > 0) body += ',';
      emit(r);
      ++count;
      last_index = i;
    }
    // A nextLink is promised only when another matching record exists.
    for (std::size_t j = i; j < records.size() && !has_more; ++j)
      has_more = !req.since || records[j].changed_at >= *req.since;
    if (count > 0) last = tenant.key_of(records[last_index]);
  };
  if (dataset == model::Dataset::cpe)
    loop(tenant.cpe(), [&](const CpeRecord& r) { writer.cpe(body, r); });
  else
    loop(tenant.noncpe(), [&](const NonCpeRecord& r) { writer.noncpe(body, r, GroupIdStyle::as_served); });
  body += ']';

  if (!req.top && has_more && count > 0) {
    std::string link(next_link_base.empty() ? base_url : next_link_base);
    link += model::spec(dataset).json_path;
    link += "?pagesize=";
    link += std::to_string(req.page_size);
    if (req.since) {
      link += "&sincetime=";
      link += percent_encode(req.since_raw);
    }
    link += "&$skiptoken=";
    link += encode_skiptoken(dataset, last);
    body += ",\"@odata.nextLink\":";
    json::append_string(body, link);
  }
  body += '}';
  Page out;
  out.body = std::move(body);
  out.records = count;
  out.has_more = has_more && !req.top;
  return out;
}

}  // namespace mdesync::fakeapi
