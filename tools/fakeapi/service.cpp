#include "service.hpp"

#include <algorithm>
#include <thread>

#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "gzip_writer.hpp"
#include "json_writer.hpp"
#include "time_format.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr std::string_view token_suffix = "/oauth2/v2.0/token";

bool accepts_gzip(std::string_view header) {
  // "gzip, deflate, br" / "gzip;q=0.8" / "*" ; a q of 0 refuses.
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    const auto semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
    if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip") && coding != "*") continue;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      const auto q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view v = params.substr(q + 2);
        if (v == "0" || v.starts_with("0.000") || v == "0." || v == "0.0" || v == "0.00") return false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace

void HttpResponse::set(std::string_view name, std::string value) {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::string(name), std::move(value));
}

const std::string* HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

Service::Service(ServiceConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), faults_(config_.faults), stats_(clock.now_utc()) {
  if (config_.blob_secret.empty()) config_.blob_secret = random_token();
  if (config_.federation.enabled) federated_issuer_ = std::make_unique<FederatedIssuer>();
  export_layout_.store(config_.exports.layout);
  const SystemTime start = clock_.now_utc();
  const auto& q = config_.quotas;
  for (const auto& id : config_.tenants) {
    if (tenants_.count(id)) continue;
    auto t = std::make_unique<Tenant>();
    t->id = id;
    t->json_quota.set_limits({{std::chrono::seconds(60), q.json_per_minute}, {std::chrono::seconds(3600), q.json_per_hour}});
    t->export_quota.set_limits(
        {{std::chrono::seconds(60), q.export_per_minute}, {std::chrono::seconds(3600), q.export_per_hour}});
    tenants_.emplace(id, std::move(t));
  }
  // Tenants are independent: generate them side by side.
  std::vector<Tenant*> pending;
  for (auto& [_, t] : tenants_) pending.push_back(t.get());
  const std::size_t workers = std::max<std::size_t>(1, std::min<std::size_t>(pending.size(), std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  std::mutex next_mutex;
  std::size_t next = 0;
  std::exception_ptr failure;
  for (std::size_t w = 0; w < workers; ++w)
    threads.emplace_back([&] {
      while (true) {
        Tenant* t;
        {
          std::lock_guard lock(next_mutex);
          if (next >= pending.size() || failure) return;
          t = pending[next++];
        }
        try {
          t->data = std::make_unique<TenantData>(t->id, config_.generator, start);
          t->writer = std::make_unique<RecordWriter>(*t->data);
        } catch (...) {
          std::lock_guard lock(next_mutex);
          failure = std::current_exception();
        }
      }
    });
  for (auto& th : threads) th.join();
  if (failure) std::rethrow_exception(failure);
}

Service::~Service() = default;

Service::Tenant* Service::find_tenant(std::string_view id) const {
  const auto it = tenants_.find(id);
  return it == tenants_.end() ? nullptr : it->second.get();
}

std::size_t Service::record_count(std::string_view tenant, model::Dataset dataset) const {
  const Tenant* t = find_tenant(tenant);
  if (!t) return 0;
  std::shared_lock lock(t->data_mutex);
  return dataset == model::Dataset::cpe ? t->data->cpe().size() : t->data->noncpe().size();
}

std::string Service::base_url(const HttpRequest& req) const {
  return std::string(config_.tls ? "https://" : "http://") + req.host;
}

HttpResponse Service::handle(const HttpRequest& req) {
  const auto started = std::chrono::steady_clock::now();
  Context ctx;
  HttpResponse resp;
  try {
    resp = route(req, ctx);
  } catch (const std::exception& e) {
    resp = api_error(500, "InternalServerError", std::string("Internal error: ") + e.what());
  }
  // Content coding first, then wire faults: a cut gzip body is what a real cut looks like.
  if (ctx.gzip_ok && config_.gzip) {
    resp.set("Vary", "Accept-Encoding");
    if (resp.action != WireAction::reset && !resp.body.empty() && accepts_gzip(req.accept_encoding)) {
      resp.body = gzip_compress(resp.body);
      resp.set("Content-Encoding", "gzip");
    }
  }
  if (ctx.fault == Fault::truncate) {
    resp.action = WireAction::truncate;
    resp.truncate_at = resp.body.size() / 2;
  }
  resp.set("Date", format_http_date(clock_.now_utc()));

  const std::string status = resp.action == WireAction::reset ? "reset" : std::to_string(resp.status);
  stats_.request(ctx.path_key, status, ctx.tenant);
  if (resp.status == 401 && resp.action != WireAction::reset) stats_.unauthorized();
  if (config_.log_requests) {
    // Never the query string (skip tokens, SAS signatures) nor the Authorization header.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log::info("request", {{"method", req.method},
                          {"path", split_target(req.target).path},
                          {"status", status},
                          {"bytes", resp.body.size()},
                          {"tenant", ctx.tenant},
                          {"fault", fault_name(ctx.fault)},
                          {"duration_ms", ms.count()}});
  }
  return resp;
}

HttpResponse Service::route(const HttpRequest& req, Context& ctx) {
  const Target target = split_target(req.target);
  const std::string_view path = target.path;
  const auto query = Params::parse(target.query);
  if (!query) return api_error(400, "BadRequest", "The query string is malformed.");

  if (path.starts_with("/_admin/")) {
    ctx.path_key = std::string(path);
    return handle_admin(req, path, *query, ctx);
  }
  if (req.host.empty()) return api_error(400, "BadRequest", "The Host header is required.");
  if (path.starts_with("/_blob/")) {
    ctx.path_key = "/_blob";
    return handle_blob(req, path, *query, ctx);
  }
  for (const auto ds : model::all_datasets) {
    const auto& spec = model::spec(ds);
    if (iequals(path, spec.json_path)) {
      ctx.path_key = std::string(spec.json_path);
      return handle_data(req, *query, ds, false, ctx);
    }
    if (iequals(path, spec.export_path)) {
      ctx.path_key = std::string(spec.export_path);
      return handle_data(req, *query, ds, true, ctx);
    }
  }
  if (path == "/metadata/identity/oauth2/token" && config_.identity.enabled()) {
    ctx.path_key = std::string(path);
    return handle_identity(req, *query, true, ctx);
  }
  if (iequals(path, "/msi/token") && !config_.identity.identity_header.empty()) {
    ctx.path_key = "/msi/token";
    return handle_identity(req, *query, false, ctx);
  }
  if (path.size() > token_suffix.size() + 1 && path.front() == '/' && path.ends_with(token_suffix)) {
    const std::string_view tenant = path.substr(1, path.size() - token_suffix.size() - 1);
    if (tenant.find('/') == std::string_view::npos) {
      ctx.path_key = "/" + (find_tenant(tenant) ? std::string(tenant) : std::string("{unknown-tenant}")) +
                     std::string(token_suffix);
      return handle_token(req, tenant, ctx);
    }
  }
  return api_error(404, "NotFound", "The requested resource was not found.");
}

HttpResponse Service::json(unsigned status, std::string body) const {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.set("Content-Type", "application/json; charset=utf-8");
  return r;
}

HttpResponse Service::api_error(unsigned status, std::string_view code, std::string_view message) const {
  std::string body;
  json::Writer w(body);
  w.begin_object().key("error").begin_object();
  w.field("code", code).field("message", message).field("target", random_guid());
  w.end_object().end_object();
  return json(status, std::move(body));
}

HttpResponse Service::unauthorized(std::string_view message, bool token_present) const {
  HttpResponse r = api_error(401, "Unauthorized", message);
  if (token_present) {
    std::string v = "Bearer error=\"invalid_token\", error_description=\"";
    v += message;
    v += '"';
    r.set("WWW-Authenticate", std::move(v));
  } else {
    r.set("WWW-Authenticate", "Bearer");
  }
  return r;
}

HttpResponse Service::aad_error(unsigned status, std::string_view error, int code, std::string_view description) const {
  const std::string trace = random_guid(), correlation = random_guid();
  std::string ts;
  append_date_time(ts, to_unix_seconds(clock_.now_utc()));
  ts += 'Z';
  std::string desc = "AADSTS" + std::to_string(code) + ": " + std::string(description) + " Trace ID: " + trace +
                     " Correlation ID: " + correlation + " Timestamp: " + ts;
  std::string body;
  json::Writer w(body);
  w.begin_object();
  w.field("error", error).field("error_description", desc);
  w.key("error_codes").begin_array().value(code).end_array();
  w.field("timestamp", ts).field("trace_id", trace).field("correlation_id", correlation);
  w.field("error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code));
  w.end_object();
  HttpResponse r = json(status, std::move(body));
  r.set("Cache-Control", "no-store, no-cache");
  r.set("Pragma", "no-cache");
  return r;
}

HttpResponse Service::storage_error(unsigned status, std::string_view code, std::string_view message,
                                    std::string_view detail) const {
  // Azure Storage answers in XML; the message carries a request id and the time.
  const auto escape = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      switch (c) {
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '&': out += "&amp;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
      }
    }
    return out;
  };
  std::string body = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>";
  body += escape(code);
  body += "</Code><Message>";
  body += escape(message);
  body += "\nRequestId:" + random_guid() + "\nTime:" + format_iso8601_utc(clock_.now_utc());
  body += "</Message>";
  if (!detail.empty()) {
    body += "<AuthenticationErrorDetail>";
    body += escape(detail);
    body += "</AuthenticationErrorDetail>";
  }
  body += "</Error>";
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.set("Content-Type", "application/xml");
  r.set("x-ms-error-code", std::string(code));
  return r;
}

std::optional<HttpResponse> Service::admit(Tenant& t, Family family) {
  const SteadyTime now = clock_.now_steady();
  std::lock_guard lock(t.quota_mutex);
  SteadyTime& not_before = family == Family::json ? t.json_retry_not_before : t.export_retry_not_before;
  if (now < not_before) stats_.early_retry(t.id);
  auto& quota = family == Family::json ? t.json_quota : t.export_quota;
  const QuotaDecision d = quota.try_acquire(now);
  if (d.admitted) return std::nullopt;
  stats_.violation(t.id);
  stats_.throttled(t.id);
  const std::int64_t secs = retry_after_seconds(d.retry_after);
  not_before = std::max(not_before, now + std::chrono::seconds(secs));
  HttpResponse r = api_error(429, "TooManyRequests",
                             "Rate limit is exceeded. Try again in " + std::to_string(secs) + " seconds.");
  r.set("Retry-After", std::to_string(secs));
  return r;
}

void Service::note_retry_after(Tenant& t, Family family, std::int64_t seconds) {
  const SteadyTime now = clock_.now_steady();
  std::lock_guard lock(t.quota_mutex);
  SteadyTime& not_before = family == Family::json ? t.json_retry_not_before : t.export_retry_not_before;
  not_before = std::max(not_before, now + std::chrono::seconds(seconds));
}

}  // namespace mdesync::fakeapi
