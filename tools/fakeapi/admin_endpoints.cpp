// Loopback-only control and ground truth: /_admin/...
#include <charconv>

#include "core/timestamp.hpp"
#include "json_writer.hpp"
#include "service.hpp"

namespace mdesync::fakeapi {
namespace {

template <typename Int>
bool parse_uint(const std::string* v, Int& out) {
  if (!v) return true;  // absent: keep the default
  const auto r = std::from_chars(v->data(), v->data() + v->size(), out);
  return !v->empty() && r.ec == std::errc() && r.ptr == v->data() + v->size();
}

void write_key(json::Writer& w, const RecordKey& k) {
  w.begin_object()
      .field("deviceId", k.device_id)
      .field("softwareVendor", k.vendor)
      .field("softwareName", k.name)
      .field("softwareVersion", k.version)
      .end_object();
}

void write_changes(json::Writer& w, const DatasetChanges& c) {
  w.begin_object();
  w.key("installed").begin_array();
  for (const auto& k : c.installed) write_key(w, k);
  w.end_array();
  w.key("uninstalled").begin_array();
  for (const auto& k : c.uninstalled) write_key(w, k);
  w.end_array();
  w.key("upgraded").begin_array();
  for (const auto& [from, to] : c.upgraded) {
    w.begin_object().key("from");
    write_key(w, from);
    w.key("to");
    write_key(w, to);
    w.end_object();
  }
  w.end_array();
  w.key("reassessed").begin_array();
  for (const auto& k : c.reassessed) write_key(w, k);
  w.end_array();
  w.end_object();
}

}  // namespace

HttpResponse Service::handle_admin(const HttpRequest& req, std::string_view path, const Params& query, Context& ctx) {
  if (!req.from_loopback) return api_error(403, "Forbidden", "Admin endpoints answer only on loopback.");
  const std::string_view op = path.substr(std::string_view("/_admin/").size());
  const bool is_post = req.method == "POST";
  const bool is_get = req.method == "GET";
  const auto wrong_method = [&](const char* allowed) {
    HttpResponse r = api_error(405, "MethodNotAllowed", "Use " + std::string(allowed) + " for /_admin/" + std::string(op) + ".");
    r.set("Allow", allowed);
    return r;
  };
  const auto tenant_param = [&](Tenant*& out) -> std::optional<HttpResponse> {
    const std::string* id = query.find("tenant");
    if (!id) {
      if (tenants_.size() == 1) {
        out = tenants_.begin()->second.get();
        return std::nullopt;
      }
      return api_error(400, "BadRequest", "The tenant parameter is required.");
    }
    out = find_tenant(*id);
    if (!out) return api_error(404, "NotFound", "Unknown tenant '" + *id + "'.");
    ctx.tenant = out->id;
    return std::nullopt;
  };

  if (op == "mutate") {
    if (!is_post) return wrong_method("POST");
    Tenant* t = nullptr;
    if (auto err = tenant_param(t)) return std::move(*err);
    MutationRequest m;
    if (!parse_uint(query.find("installs"), m.installs) || !parse_uint(query.find("uninstalls"), m.uninstalls) ||
        !parse_uint(query.find("upgrades"), m.upgrades) || !parse_uint(query.find("reassess"), m.reassess) ||
        !parse_uint(query.find("seed"), m.seed))
      return api_error(400, "BadRequest", "installs, uninstalls, upgrades, reassess and seed must be unsigned integers.");
    const SystemTime now = clock_.now_utc();
    MutationResult result;
    std::uint64_t version;
    {
      std::unique_lock lock(t->data_mutex);
      result = t->data->mutate(m, now);
      version = t->data->data_version();
    }
    std::string body;
    json::Writer w(body);
    w.begin_object();
    w.field("tenant", t->id);
    w.field("changedAt", format_iso8601_utc(now));
    w.field("dataVersion", version);
    w.key("cpe");
    write_changes(w, result.cpe);
    w.key("noncpe");
    write_changes(w, result.noncpe);
    w.end_object();
    return json(200, std::move(body));
  }

  if (op == "truth") {
    if (!is_get) return wrong_method("GET");
    Tenant* t = nullptr;
    if (auto err = tenant_param(t)) return std::move(*err);
    const std::string* ds_name = query.find("dataset");
    const auto ds = model::parse_dataset(ds_name ? std::string_view(*ds_name) : std::string_view("cpe"));
    if (!ds) return api_error(400, "BadRequest", "dataset must be cpe or noncpe.");
    std::string body;
    std::shared_lock lock(t->data_mutex);
    const auto& d = *t->data;
    body.reserve((*ds == model::Dataset::cpe ? d.cpe().size() * 640 : d.noncpe().size() * 440) + 16);
    body += '[';
    bool first = true;
    if (*ds == model::Dataset::cpe) {
      for (const auto& r : d.cpe()) {
        if (!first) body += ',';
        first = false;
        t->writer->cpe(body, r);
      }
    } else {
      for (const auto& r : d.noncpe()) {
        if (!first) body += ',';
        first = false;
        t->writer->noncpe(body, r, GroupIdStyle::always_number);
      }
    }
    body += ']';
    lock.unlock();
    ctx.gzip_ok = true;
    return json(200, std::move(body));
  }

  if (op == "stats") {
    if (!is_get) return wrong_method("GET");
    return json(200, stats_.to_json());
  }
  if (op == "reset-stats") {
    if (!is_post) return wrong_method("POST");
    stats_.reset(clock_.now_utc());
    return json(200, "{\"reset\":true}");
  }
  if (op == "faults") {
    if (is_post) {
      FaultSettings s = faults_.settings();
      for (const auto& [name, value] : query.items()) {
        const std::string err = set_fault_option(s, name, value);
        if (!err.empty()) return api_error(400, "BadRequest", err);
      }
      faults_.update(s);
    } else if (!is_get) {
      return wrong_method("GET, POST");
    }
    return json(200, fault_settings_json(faults_.settings()));
  }
  if (op == "federated-token") {
    // The cluster's side of workload identity: a service account token as the
    // kubelet would project it, signed by the issuer the federated credential trusts.
    if (!is_post) return wrong_method("POST");
    if (!federated_issuer_) return api_error(409, "Conflict", "Start the simulator with --workload-identity.");
    std::int64_t lifetime = 3600, not_before = 0;
    const auto signed_integer = [](const std::string* v, std::int64_t& out) {
      if (!v) return true;
      const auto r = std::from_chars(v->data(), v->data() + v->size(), out);
      return !v->empty() && r.ec == std::errc() && r.ptr == v->data() + v->size();
    };
    if (!signed_integer(query.find("lifetime"), lifetime) || !signed_integer(query.find("not_before"), not_before))
      return api_error(400, "BadRequest", "lifetime and not_before must be integers (seconds from now).");
    FederatedClaims claims;
    claims.issuer = query.find("issuer") ? *query.find("issuer") : config_.federation.issuer;
    claims.subject = query.find("subject") ? *query.find("subject") : config_.federation.subject;
    if (const std::string* audience = query.find("audience")) claims.audience = *audience;
    const auto now = clock_.now_utc();
    claims.not_before = now + std::chrono::seconds(not_before);
    claims.expires = now + std::chrono::seconds(lifetime);
    HttpResponse r;
    r.body = federated_issuer_->mint(claims);
    r.set("Content-Type", "application/jwt");
    return r;
  }
  if (op == "identity") {
    if (!is_post) return wrong_method("POST");
    if (const std::string* deny = query.find("deny")) {
      if (*deny != "true" && *deny != "false") return api_error(400, "BadRequest", "deny must be true or false.");
      identity_denied_ = *deny == "true";
    }
    return json(200, std::string("{\"deny\":") + (identity_denied_.load() ? "true" : "false") + "}");
  }
  if (op == "expire-tokens") {
    if (!is_post) return wrong_method("POST");
    tokens_.expire_all();
    return json(200, "{\"expired\":true}");
  }
  if (op == "regenerate") {
    if (!is_post) return wrong_method("POST");
    Tenant* t = nullptr;
    if (auto err = tenant_param(t)) return std::move(*err);
    const std::string* ds_name = query.find("dataset");
    if (ds_name && !model::parse_dataset(*ds_name)) return api_error(400, "BadRequest", "dataset must be cpe or noncpe.");
    // on_export=K: the K-th export request from now builds the new snapshot (a regeneration that
    // lands while a client downloads the one before); repeat=N: N export requests in a row do.
    ScheduledRegeneration due;
    std::uint64_t on_export = 1, repeat = 1;
    if (!parse_uint(query.find("on_export"), on_export) || on_export == 0)
      return api_error(400, "BadRequest", "on_export must be an integer >= 1.");
    if (!parse_uint(query.find("repeat"), repeat) || repeat == 0)
      return api_error(400, "BadRequest", "repeat must be an integer >= 1.");
    due.exports_before = on_export - 1;
    due.remaining = repeat;
    std::lock_guard lock(t->export_mutex);
    // Replaces whatever an earlier call scheduled and did not happen yet.
    for (const auto ds : model::all_datasets)
      if (!ds_name || model::spec(ds).name == *ds_name) t->scheduled_regenerations[ds == model::Dataset::cpe ? 0 : 1] = due;
    std::string body;
    json::Writer w(body);
    w.begin_object().field("regenerate", true).field("on_export", on_export).field("repeat", repeat).end_object();
    return json(200, std::move(body));
  }
  if (op == "inject") {
    if (!is_post) return wrong_method("POST");
    Tenant* t = nullptr;
    if (auto err = tenant_param(t)) return std::move(*err);
    const std::string* ds_name = query.find("dataset");
    const auto ds = ds_name ? model::parse_dataset(*ds_name) : std::nullopt;
    if (!ds) return api_error(400, "BadRequest", "dataset must be cpe or noncpe.");
    auto parsed = parse_injection(req.body);
    if (!parsed.error.empty()) return api_error(400, "BadRequest", parsed.error);
    const std::size_t pages = parsed.pages.size();
    injections_.set(t->id, *ds, std::move(parsed.pages));
    // The export snapshot must be rebuilt to carry the injected files.
    std::lock_guard lock(t->export_mutex);
    ++t->regenerations[*ds == model::Dataset::cpe ? 0 : 1];
    return json(200, "{\"pages\":" + std::to_string(pages) + "}");
  }
  if (op == "blob-base") {
    if (!is_post) return wrong_method("POST");
    const std::string* url = query.find("url");
    if (url == nullptr || !(url->starts_with("http://") || url->starts_with("https://")))
      return api_error(400, "BadRequest", "url must be an http(s) URL.");
    std::lock_guard lock(blob_mutex_);
    blob_base_ = *url;
    while (blob_base_.ends_with('/')) blob_base_.pop_back();
    return json(200, "{\"blob_base\":\"" + blob_base_ + "\"}");
  }
  if (op == "export-layout") {
    if (is_post) {
      const std::string* name = query.find("layout");
      const auto layout = name ? parse_export_layout(*name) : std::nullopt;
      if (!layout) return api_error(400, "BadRequest", "layout must be flat or rbac.");
      // Snapshots are rebuilt with the new names at their next export request.
      export_layout_.store(*layout);
    } else if (!is_get) {
      return wrong_method("GET, POST");
    }
    return json(200, "{\"layout\":\"" + std::string(export_layout_name(export_layout_.load())) + "\"}");
  }
  if (op == "expire-exports") {
    if (!is_post) return wrong_method("POST");
    std::lock_guard lock(blob_mutex_);
    sas_revoked_before_ = clock_.now_utc();
    return json(200, "{\"expired\":true}");
  }
  if (op == "tenants") {
    if (!is_get) return wrong_method("GET");
    std::string body;
    json::Writer w(body);
    w.begin_object();
    for (const auto& [id, t] : tenants_) {
      std::shared_lock lock(t->data_mutex);
      w.key(id).begin_object();
      w.field("devices", static_cast<std::uint64_t>(t->data->devices().size()));
      w.field("cpe", static_cast<std::uint64_t>(t->data->cpe().size()));
      w.field("noncpe", static_cast<std::uint64_t>(t->data->noncpe().size()));
      w.field("dataVersion", t->data->data_version());
      w.end_object();
    }
    w.end_object();
    return json(200, std::move(body));
  }
  return api_error(404, "NotFound", "Unknown admin endpoint.");
}

}  // namespace mdesync::fakeapi
