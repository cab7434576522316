// The file export endpoints and the blob store that serves the files.
//
// An export answers with SAS URLs to gzip NDJSON files holding a snapshot of the data
// set. The snapshot is rebuilt only when the data changed (a mutation bumped the
// tenant's data version) or /_admin/regenerate asked for it; otherwise the same files
// and the same generatedTime come back, as with the real service.
//
// File names follow the export layout (ExportLayout): flat names in one directory, or the
// real service's Spark output partitioned by RBAC group, whose names repeat across groups.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

#include "core/base64.hpp"
#include "core/timestamp.hpp"
#include "core/url.hpp"
#include "gzip_writer.hpp"
#include "json_writer.hpp"
#include "rng.hpp"
#include "service.hpp"
#include "time_format.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr std::string_view container = "tvm-export";
constexpr std::string_view sas_version = "2020-08-04";
constexpr std::size_t kept_old_snapshots = 2;  // files of older snapshots disappear (404)

struct ByteRange {
  std::size_t first, last;  // inclusive
};

enum class RangeResult { none, ok, unsatisfiable };

// One "bytes=" range; several ranges are answered with the whole blob, as many servers do.
RangeResult parse_range(std::string_view header, std::size_t size, ByteRange& out) {
  if (header.empty()) return RangeResult::none;
  if (!header.starts_with("bytes=")) return RangeResult::none;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return RangeResult::none;
  const auto dash = header.find('-');
  if (dash == std::string_view::npos) return RangeResult::none;
  const std::string_view a = header.substr(0, dash), b = header.substr(dash + 1);
  const auto num = [](std::string_view s, std::size_t& v) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  std::size_t x = 0, y = 0;
  if (a.empty()) {  // suffix range: the last y bytes
    if (!num(b, y)) return RangeResult::none;
    if (y == 0 || size == 0) return RangeResult::unsatisfiable;
    out = {size - std::min(y, size), size - 1};
    return RangeResult::ok;
  }
  if (!num(a, x)) return RangeResult::none;
  if (b.empty()) {
    y = size == 0 ? 0 : size - 1;
  } else if (!num(b, y) || y < x) {
    return RangeResult::none;
  }
  if (x >= size) return RangeResult::unsatisfiable;
  out = {x, std::min(y, size - 1)};
  return RangeResult::ok;
}

std::string dataset_file_prefix(model::Dataset d) {
  return d == model::Dataset::cpe ? "SoftwareInventory" : "NonCpeSoftwareInventory";
}

// One export file to write: its blob name and the records (indices into the data set) it holds.
struct PlannedFile {
  std::string name;
  std::vector<std::uint32_t> rows;
};

// Today's names: "<name_prefix>part-00000.json.gz" ..., the records cut into `files` runs in key order.
std::vector<PlannedFile> flat_plan(const std::string& name_prefix, std::size_t records, std::uint32_t files) {
  std::vector<PlannedFile> plan;
  for (std::uint32_t f = 0; f < files; ++f) {
    const std::size_t from = records * f / files, to = records * (f + 1) / files;
    char part[32];
    std::snprintf(part, sizeof part, "part-%05u.json.gz", f);
    PlannedFile file{name_prefix + part, {}};
    file.rows.reserve(to - from);
    for (std::size_t i = from; i < to; ++i) file.rows.push_back(static_cast<std::uint32_t>(i));
    plan.push_back(std::move(file));
  }
  return plan;
}

// The job uuid in Spark's "part-00337-<uuid>.c000.json.gz" (a version 4 uuid): one per snapshot,
// shared by all its files.
std::string spark_job_uuid(std::uint64_t seed) {
  const std::uint64_t a = mix(seed, 1), b = mix(seed, 2);
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>((a & 0x0fff) | 0x4000),
                static_cast<unsigned>(((b >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return uuid;
}

// The real service writes an export with Spark, partitioned by RBAC group: each task (here a
// run of devices in key order) writes one file per group it holds records of, named after the
// task's partition number, and spills into a next file (c001) past maxRecordsPerFile. So part
// numbers neither start at 0 nor run contiguously, and one file name appears under several
// groups: a client that keys files by their last path segment loses records.
template <typename Record>
std::vector<PlannedFile> rbac_plan(const std::vector<Record>& records, const std::vector<Device>& devices,
                                   const std::string& folder, std::uint32_t tasks, std::uint64_t seed) {
  const std::string uuid = spark_job_uuid(seed);
  const auto groups = rbac_groups();
  const std::size_t n = records.size();
  // Per task, its rows by RBAC group id (ascending).
  std::vector<std::map<std::int64_t, std::vector<std::uint32_t>>> task_groups(tasks);
  std::size_t largest_share = 0;
  for (std::uint32_t t = 0; t < tasks; ++t) {
    for (std::size_t i = n * t / tasks; i < n * (t + 1) / tasks; ++i)
      task_groups[t][groups[devices[records[i].device].group].id].push_back(static_cast<std::uint32_t>(i));
    for (const auto& [group, rows] : task_groups[t]) largest_share = std::max(largest_share, rows.size());
  }
  // maxRecordsPerFile below the largest share of one task and group, so that at least that share
  // spills into a c001 file (at most c001: the limit is at least half the largest share).
  const std::size_t per_file = std::max<std::size_t>(1, largest_share * 2 / 3);
  const auto file_name = [&](std::int64_t group, std::uint32_t part, std::size_t spill) {
    char name[48];
    std::snprintf(name, sizeof name, "part-%05u-", part);
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".c%03zu.json.gz", spill);
    return folder + "/_RbacGroupId=" + std::to_string(group) + "/" + name + uuid + suffix;
  };

  std::vector<PlannedFile> plan;
  std::uint32_t part = 100 + static_cast<std::uint32_t>(mix(seed, 3) % 400);
  for (std::uint32_t t = 0; t < tasks; ++t) {
    for (const auto& [group, rows] : task_groups[t])
      for (std::size_t from = 0, spill = 0; from < rows.size(); from += per_file, ++spill) {
        const auto first = rows.begin() + static_cast<std::ptrdiff_t>(from);
        const auto last = rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), from + per_file));
        plan.push_back({file_name(group, part, spill), std::vector<std::uint32_t>(first, last)});
      }
    // Gaps of at least 2 stand for the tasks that held no records (2..90: 1000 tasks stay under 99999).
    part += 2 + static_cast<std::uint32_t>(mix(seed, 4 + t) % 89);
  }
  // An empty data set still answers one (empty) file.
  if (plan.empty()) plan.push_back({file_name(0, 100 + static_cast<std::uint32_t>(mix(seed, 3) % 400), 0), {}});
  // As a blob listing returns them: by name, so a group's files come together.
  std::sort(plan.begin(), plan.end(), [](const PlannedFile& a, const PlannedFile& b) { return a.name < b.name; });
  return plan;
}

}  // namespace

std::optional<ExportLayout> parse_export_layout(std::string_view name) {
  if (name == "flat") return ExportLayout::flat;
  if (name == "rbac") return ExportLayout::rbac;
  return std::nullopt;
}

std::string_view export_layout_name(ExportLayout layout) {
  return layout == ExportLayout::rbac ? "rbac" : "flat";
}

std::string Service::sas_signature(std::string_view path, std::string_view start, std::string_view expiry) const {
  std::string to_sign(path);
  to_sign += '\n';
  to_sign += start;
  to_sign += '\n';
  to_sign += expiry;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), config_.blob_secret.data(), static_cast<int>(config_.blob_secret.size()),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), mac, &len);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

std::string Service::sas_url(std::string_view base, const std::string& blob_name, SystemTime start,
                             SystemTime expiry) const {
  const std::string path = "/_blob/" + std::string(container) + "/" + blob_name;
  // Millisecond precision, so /_admin/expire-exports cuts cleanly between URLs issued before and after it.
  const std::string st = format_iso8601_utc(start), se = format_iso8601_utc(expiry);
  std::string url(base);
  url += path;
  url += "?sv=" + std::string(sas_version) + "&st=" + percent_encode(st) + "&se=" + percent_encode(se) +
         "&sr=b&sp=r&sig=" + percent_encode(sas_signature(path, st, se));
  return url;
}

const Service::ExportSnapshot& Service::current_snapshot(Tenant& tenant, model::Dataset dataset) {
  // The caller holds tenant.export_mutex.
  const int idx = dataset == model::Dataset::cpe ? 0 : 1;
  ExportSnapshot& snap = tenant.snapshots[idx];
  std::shared_lock data_lock(tenant.data_mutex);
  const std::uint64_t version = tenant.data->data_version();
  const ExportLayout layout = export_layout_.load();
  if (snap.valid && snap.data_version == version && snap.generation == tenant.regenerations[idx] &&
      snap.layout == layout)
    return snap;

  const SystemTime now = clock_.now_utc();
  const std::uint32_t files = std::max<std::uint32_t>(1, config_.exports.files);
  const std::string_view eol = config_.exports.crlf ? "\r\n" : "\n";
  std::uint64_t snapshot_id;
  {
    std::lock_guard lock(blob_mutex_);
    snapshot_id = ++snapshot_counter_;
  }
  const std::string flat_prefix =
      dataset_file_prefix(dataset) + "-" + percent_encode(tenant.id) + "-" + std::to_string(snapshot_id) + "-";
  // rbac: "SoftwareInventoryExport/2024-05-01/OrgId=<tenant>", the export's name as in its endpoint.
  const std::string_view export_path = model::spec(dataset).export_path;
  const std::string rbac_folder = std::string(export_path.substr(export_path.rfind('/') + 1)) + "/" +
                                  format_iso8601_seconds(now).substr(0, 10) + "/OrgId=" + percent_encode(tenant.id);
  const std::uint64_t rbac_seed = mix(fnv1a(tenant.id), snapshot_id * 2 + static_cast<std::uint64_t>(idx));

  std::vector<std::pair<std::string, std::shared_ptr<const std::string>>> built;
  const auto write_files = [&](const auto& records, auto emit) {
    const std::vector<PlannedFile> plan =
        layout == ExportLayout::rbac ? rbac_plan(records, tenant.data->devices(), rbac_folder, files, rbac_seed)
                                     : flat_plan(flat_prefix, records.size(), files);
    for (const PlannedFile& file : plan) {
      GzipWriter gz(config_.exports.gzip_level);
      std::string buf;
      buf.reserve(1 << 21);
      for (const std::uint32_t i : file.rows) {
        emit(buf, records[i]);
        buf += eol;
        if (buf.size() >= (1 << 20)) {
          gz.write(buf);
          buf.clear();
        }
      }
      gz.write(buf);
      built.emplace_back(file.name, std::make_shared<const std::string>(gz.finish()));
    }
  };
  if (dataset == model::Dataset::cpe)
    write_files(tenant.data->cpe(), [&](std::string& out, const CpeRecord& r) { tenant.writer->cpe(out, r); });
  else
    write_files(tenant.data->noncpe(), [&](std::string& out, const NonCpeRecord& r) {
      tenant.writer->noncpe(out, r, GroupIdStyle::as_served);
    });
  data_lock.unlock();
  // Test hook: each injected page is one more file, after the generated ones.
  const auto injected = injections_.get(tenant.id, dataset);
  for (std::size_t i = 0; i < injected.size(); ++i) {
    char part[48];
    std::snprintf(part, sizeof part, "injected-%05zu.json.gz", i);
    const std::string name = layout == ExportLayout::rbac ? rbac_folder + "/" + part : flat_prefix + part;
    std::string data;
    if (!injected[i].zero_bytes) data = gzip_compress(injected_file_text(injected[i], eol), config_.exports.gzip_level);
    built.emplace_back(name, std::make_shared<const std::string>(std::move(data)));
  }

  {
    std::lock_guard lock(blob_mutex_);
    // Old snapshots stay downloadable for a while, then their files are gone.
    if (snap.valid) tenant_history_push(tenant, idx, snap.blob_names);
    snap.blob_names.clear();
    for (auto& [name, data] : built) {
      blobs_[name] = Blob{data, now, "\"0x8DC" + std::to_string(snapshot_id) + "\""};
      snap.blob_names.push_back(name);
    }
  }
  snap.valid = true;
  snap.layout = layout;
  snap.data_version = version;
  snap.generation = tenant.regenerations[idx];
  // generatedTime identifies a snapshot (clients skip one they applied), and the API
  // shows it in whole seconds: a new snapshot within the same second still gets a
  // later one.
  const auto previous = snap.generated_time;
  snap.generated_time = std::chrono::floor<std::chrono::seconds>(now);
  if (snap.generated_time <= previous) snap.generated_time = previous + std::chrono::seconds(1);
  return snap;
}

void Service::take_scheduled_regeneration(Tenant& tenant, model::Dataset dataset) {
  // The caller holds tenant.export_mutex.
  const int idx = dataset == model::Dataset::cpe ? 0 : 1;
  ScheduledRegeneration& due = tenant.scheduled_regenerations[idx];
  if (due.remaining == 0) return;
  if (due.exports_before > 0) {
    --due.exports_before;
    return;
  }
  --due.remaining;
  ++tenant.regenerations[idx];
}

void Service::tenant_history_push(Tenant& tenant, int idx, std::vector<std::string> names) {
  // The caller holds blob_mutex_.
  auto& history = tenant.old_blobs[idx];
  history.push_back(std::move(names));
  while (history.size() > kept_old_snapshots) {
    for (const auto& n : history.front()) blobs_.erase(n);
    history.pop_front();
  }
}

HttpResponse Service::handle_export(const HttpRequest& req, const Params& query, Tenant& tenant,
                                    model::Dataset dataset) {
  std::int64_t hours = 1;
  if (const std::string* v = query.find("sasValidHours")) {
    const auto r = std::from_chars(v->data(), v->data() + v->size(), hours);
    if (v->empty() || r.ec != std::errc() || r.ptr != v->data() + v->size() || hours < 1 || hours > 6)
      return api_error(400, "BadRequest", "Invalid value for sasValidHours: '" + *v +
                                              "'. sasValidHours must be an integer between 1 and 6.");
  }
  ExportSnapshot snap;
  {
    std::lock_guard lock(tenant.export_mutex);
    take_scheduled_regeneration(tenant, dataset);
    snap = current_snapshot(tenant, dataset);
  }
  const SystemTime start = clock_.now_utc();
  const SystemTime expiry = start + std::chrono::hours(hours);
  const std::string base = base_url(req);
  std::string blob_base;
  {
    std::lock_guard lock(blob_mutex_);
    blob_base = blob_base_.empty() ? base : blob_base_;
  }
  std::string body;
  json::Writer w(body);
  w.begin_object();
  w.field("@odata.context", base + "/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse");
  w.key("exportFiles").begin_array();
  for (const auto& name : snap.blob_names) w.value(sas_url(blob_base, name, start, expiry));
  w.end_array();
  w.field("generatedTime", format_iso8601_seconds(snap.generated_time));
  w.end_object();
  HttpResponse r = json(200, std::move(body));
  r.set("OData-Version", "4.0");
  return r;
}

HttpResponse Service::handle_blob(const HttpRequest& req, std::string_view path, const Params& query, Context& ctx) {
  if (req.method != "GET")
    return storage_error(405, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.");
  const std::string* st = query.find("st");
  const std::string* se = query.find("se");
  const std::string* sig = query.find("sig");
  if (!se || !sig || !st)
    return storage_error(403, "AuthenticationFailed",
                         "Server failed to authenticate the request. Make sure the value of Authorization header is "
                         "formed correctly including the signature.",
                         "sig, st and se are mandatory.");
  const std::string expected = sas_signature(path, *st, *se);
  if (expected.size() != sig->size() || CRYPTO_memcmp(expected.data(), sig->data(), expected.size()) != 0)
    return storage_error(403, "AuthenticationFailed",
                         "Server failed to authenticate the request. Make sure the value of Authorization header is "
                         "formed correctly including the signature.",
                         "Signature did not match. String to sign used was r\n" + *st + "\n" + *se);
  const auto start = parse_iso8601(*st), expiry = parse_iso8601(*se);
  const SystemTime now = clock_.now_utc();
  bool revoked;
  {
    std::lock_guard lock(blob_mutex_);
    revoked = start && *start <= sas_revoked_before_;
  }
  if (faults_.draw_sas_expired()) {
    stats_.fault("sas_expired");
    revoked = true;
  }
  if (!start || !expiry || now >= *expiry || revoked)
    return storage_error(403, "AuthenticationFailed",
                         "Server failed to authenticate the request. Make sure the value of Authorization header is "
                         "formed correctly including the signature.",
                         "Signed expiry time [" + format_http_date(expiry.value_or(now)) +
                             "] must be after signed start time [" + format_http_date(now) + "]");

  const std::string prefix = "/_blob/" + std::string(container) + "/";
  Blob blob;
  {
    std::lock_guard lock(blob_mutex_);
    const auto it = path.starts_with(prefix) ? blobs_.find(path.substr(prefix.size())) : blobs_.end();
    if (it == blobs_.end()) return storage_error(404, "BlobNotFound", "The specified blob does not exist.");
    blob = it->second;
  }
  const std::string& data = *blob.data;
  HttpResponse r;
  r.set("Content-Type", "application/octet-stream");
  r.set("Accept-Ranges", "bytes");
  r.set("ETag", blob.etag);
  r.set("Last-Modified", format_http_date(blob.created));
  r.set("x-ms-blob-type", "BlockBlob");
  r.set("x-ms-version", std::string(sas_version));
  ByteRange range{};
  switch (parse_range(req.range, data.size(), range)) {
    case RangeResult::none:
      r.status = 200;
      r.body = data;
      break;
    case RangeResult::ok:
      r.status = 206;
      r.body = data.substr(range.first, range.last - range.first + 1);
      r.set("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                                 std::to_string(data.size()));
      break;
    case RangeResult::unsatisfiable: {
      HttpResponse e = storage_error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.");
      e.set("Content-Range", "bytes */" + std::to_string(data.size()));
      return e;
    }
  }
  const ExportFault fault = faults_.draw_export();
  if (fault != ExportFault::none) stats_.fault(fault_name(fault));
  if (fault == ExportFault::truncate) {
    // A complete HTTP response whose gzip stream stops early: only the gzip trailer check catches it.
    r.body.resize(r.body.size() * 3 / 5);
  } else if (fault == ExportFault::reset) {
    r.action = WireAction::truncate;
    r.truncate_at = r.body.size() / 2;
  } else if (fault == ExportFault::empty) {
    // Azure Storage was seen answering a blob that has data with a plain 200 and Content-Length: 0,
    // not even a gzip header; a Range request gets the same, so nothing hints at a partial answer.
    r.status = 200;
    r.body.clear();
    std::erase_if(r.headers, [](const auto& h) { return iequals(h.first, "Content-Range"); });
  }
  if (fault == ExportFault::none && config_.exports.revoke_after_downloads > 0) {
    std::lock_guard lock(blob_mutex_);
    if (++blob_downloads_ == config_.exports.revoke_after_downloads) sas_revoked_before_ = clock_.now_utc();
  }
  (void)ctx;
  return r;
}

}  // namespace mdesync::fakeapi
