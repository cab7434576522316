#include "injection.hpp"

#include <charconv>

#include "core/url.hpp"
#include "json_writer.hpp"
#include "paging.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr std::string_view token_prefix = "injected~";

bool parse_int(std::string_view s, int& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// "#page no-value next=3" -> a page, or an error naming the word.
std::string parse_page_line(std::string_view line, InjectedPage& page) {
  line.remove_prefix(5);
  while (!line.empty()) {
    const auto space = line.find(' ');
    const std::string_view word = line.substr(0, space);
    line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
    if (word.empty()) continue;
    if (word == "no-value") {
      page.no_value = true;
    } else if (word == "zero-bytes") {
      page.zero_bytes = true;
    } else if (word == "next=first") {
      page.next = -1;
    } else if (int n = 0; word.starts_with("next=") && parse_int(word.substr(5), n) && n >= 0) {
      page.next = n;
    } else {
      return "unknown #page option '" + std::string(word) + "'";
    }
  }
  return {};
}

}  // namespace

InjectionOrError parse_injection(std::string_view body) {
  InjectionOrError out;
  if (body.empty()) return out;
  out.pages.emplace_back();
  bool first_line = true;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (line.starts_with("#page") && (line.size() == 5 || line[5] == ' ')) {
      // A leading #page names page 0 itself rather than ending an empty one.
      if (!first_line) out.pages.emplace_back();
      if (auto err = parse_page_line(line, out.pages.back()); !err.empty()) {
        out.error = std::move(err);
        return out;
      }
    } else if (!line.empty()) {
      out.pages.back().records.emplace_back(line);
    }
    first_line = false;
  }
  for (const auto& p : out.pages)
    if (p.next && *p.next >= static_cast<int>(out.pages.size())) {
      out.error = "next=" + std::to_string(*p.next) + " names a page that does not exist";
      return out;
    }
  return out;
}

void Injections::set(const std::string& tenant, model::Dataset dataset, std::vector<InjectedPage> pages) {
  std::lock_guard lock(mutex_);
  if (pages.empty())
    pages_.erase({tenant, dataset});
  else
    pages_[{tenant, dataset}] = std::move(pages);
}

std::vector<InjectedPage> Injections::get(const std::string& tenant, model::Dataset dataset) const {
  std::lock_guard lock(mutex_);
  const auto it = pages_.find({tenant, dataset});
  return it == pages_.end() ? std::vector<InjectedPage>{} : it->second;
}

std::string injected_skiptoken(std::size_t index) { return std::string(token_prefix) + std::to_string(index); }

std::optional<std::size_t> parse_injected_skiptoken(std::string_view token) {
  if (!token.starts_with(token_prefix)) return std::nullopt;
  token.remove_prefix(token_prefix.size());
  std::size_t n = 0;
  const auto r = std::from_chars(token.data(), token.data() + token.size(), n);
  if (token.empty() || r.ec != std::errc() || r.ptr != token.data() + token.size()) return std::nullopt;
  return n;
}

Params without_param(const Params& query, std::string_view name) {
  std::string rest;
  for (const auto& [key, value] : query.items()) {
    if (iequals(key, name)) continue;
    if (!rest.empty()) rest += '&';
    rest += percent_encode(key) + "=" + percent_encode(value);
  }
  return Params::parse(rest).value_or(Params{});
}

std::string first_page_link(std::string_view base_url, model::Dataset dataset, std::size_t page_size) {
  std::string link(base_url);
  link += model::spec(dataset).json_path;
  link += "?pagesize=" + std::to_string(page_size);
  return link;
}

std::string injected_page_link(std::string_view base_url, model::Dataset dataset, std::size_t page_size,
                               std::size_t index) {
  return first_page_link(base_url, dataset, page_size) + "&$skiptoken=" + injected_skiptoken(index);
}

std::string injected_page_body(const std::vector<InjectedPage>& pages, std::size_t index, model::Dataset dataset,
                               std::string_view base_url, std::size_t page_size) {
  const InjectedPage& page = pages.at(index);
  std::string body = "{\"@odata.context\":";
  json::append_string(body, odata_context(base_url, dataset));
  if (!page.no_value) {
    body += ",\"value\":[";
    for (std::size_t i = 0; i < page.records.size(); ++i) {
      if (i > 0) body += ',';
      body += page.records[i];
    }
    body += ']';
  }
  std::string link;
  if (!page.next) {
    if (index + 1 < pages.size()) link = injected_page_link(base_url, dataset, page_size, index + 1);
  } else if (*page.next < 0) {
    link = first_page_link(base_url, dataset, page_size);
  } else {
    link = injected_page_link(base_url, dataset, page_size, static_cast<std::size_t>(*page.next));
  }
  if (!link.empty()) {
    body += ",\"@odata.nextLink\":";
    json::append_string(body, link);
  }
  body += '}';
  return body;
}

void append_next_link(std::string& page_body, std::string_view link) {
  if (page_body.empty() || page_body.back() != '}') return;
  page_body.pop_back();
  page_body += ",\"@odata.nextLink\":";
  json::append_string(page_body, link);
  page_body += '}';
}

std::string injected_file_text(const InjectedPage& page, std::string_view eol) {
  std::string text;
  for (const auto& r : page.records) {
    text += r;
    text += eol;
  }
  return text;
}

}  // namespace mdesync::fakeapi
