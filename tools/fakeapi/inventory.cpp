#include "inventory.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <iterator>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include "rng.hpp"
#include "time_format.hpp"

namespace mdesync::fakeapi {
namespace {

using std::chrono::milliseconds;

// Fixed reference dates, so serialized fields never depend on when the process started.
const std::int64_t first_seen_from = unix_seconds(2019, 1, 1);
const std::int64_t first_seen_to = unix_seconds(2024, 2, 28);
const std::int64_t last_seen_from = unix_seconds(2023, 6, 1);
const std::int64_t last_seen_to = unix_seconds(2024, 3, 1);
constexpr std::int64_t changed_window_ms = 30LL * 24 * 3600 * 1000;

template <typename R>
struct Traits;
template <>
struct Traits<CpeRecord> {
  static const std::vector<CpeProduct>& catalog() { return cpe_catalog(); }
};
template <>
struct Traits<NonCpeRecord> {
  static const std::vector<NonCpeProduct>& catalog() { return noncpe_catalog(); }
};

// Products a device of each OS may get (the OS record itself excluded).
struct Eligible {
  std::array<std::vector<std::uint16_t>, os_count> cpe, noncpe;
};

const Eligible& eligible() {
  static const Eligible e = [] {
    Eligible out;
    for (int o = 0; o < os_count; ++o) {
      const OsMask bit = os_bit(static_cast<Os>(o));
      const auto& c = cpe_catalog();
      for (std::size_t i = 0; i < c.size(); ++i)
        if (!c[i].os_itself && (c[i].os & bit)) out.cpe[o].push_back(static_cast<std::uint16_t>(i));
      const auto& n = noncpe_catalog();
      for (std::size_t i = 0; i < n.size(); ++i)
        if (n[i].os & bit) out.noncpe[o].push_back(static_cast<std::uint16_t>(i));
    }
    return out;
  }();
  return e;
}

std::string random_hex(Rng& rng, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n);
  std::uint64_t bits = 0;
  int left = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (left == 0) {
      bits = rng.next();
      left = 16;
    }
    s += digits[bits & 15];
    bits >>= 4;
    --left;
  }
  return s;
}

template <typename T, std::size_t N>
const T& pick(Rng& rng, const T (&items)[N]) {
  return items[rng.below(N)];
}

Os pick_os(Rng& rng) {
  // Weights loosely follow a mid-size enterprise fleet.
  const auto r = rng.below(100);
  if (r < 38) return Os::windows10;
  if (r < 68) return Os::windows11;
  if (r < 77) return Os::server2019;
  if (r < 86) return Os::server2022;
  if (r < 94) return Os::linux;
  return Os::macos;
}

std::string device_name(Rng& rng, Os os) {
  static constexpr std::string_view domains[] = {".contoso.local", ".corp.contoso.com", ".fabrikam.net",
                                                 ".emea.corp.contoso.com", ""};
  static constexpr std::string_view roles[] = {"sql", "web", "app", "dc", "file", "exch", "build", "print", "rds"};
  if (rng.chance(0.02)) {
    // Privacy-masked names as some tenants show them: long, but a real shape.
    return "computerpii_" + random_hex(rng, 40) + ".domainpii_" + random_hex(rng, 40) + ".corp.contoso.com";
  }
  std::string name;
  switch (os) {
    case Os::windows10:
    case Os::windows11: {
      static constexpr std::string_view prefixes[] = {"desktop-", "laptop-", "wks-", "pc-"};
      name = std::string(pick(rng, prefixes)) + random_hex(rng, 4 + rng.below(3));
      break;
    }
    case Os::server2019:
    case Os::server2022:
      name = "srv-" + std::string(pick(rng, roles)) + "-" + std::to_string(10 + rng.below(90));
      break;
    case Os::linux: {
      static constexpr std::string_view prefixes[] = {"ubuntu-", "rhel-", "lnx-"};
      name = std::string(pick(rng, prefixes)) + std::string(pick(rng, roles)) + "-" + std::to_string(rng.below(100));
      break;
    }
    case Os::macos:
      name = "macbook-" + random_hex(rng, 4);
      return name + ".local";
  }
  if (rng.chance(0.05)) return name + ".eu-west-1.prod.infrastructure.corp.contoso-international.com";
  return name + std::string(pick(rng, domains));
}

std::uint8_t pick_group(Rng& rng) {
  static constexpr std::uint8_t weights[] = {25, 15, 10, 10, 20, 10, 10};
  static_assert(sizeof weights == 7);
  auto r = rng.below(100);
  for (std::uint8_t i = 0; i < sizeof weights; ++i) {
    if (r < weights[i]) return i;
    r -= weights[i];
  }
  return 0;
}

// Most devices run a recent version; some lag a release or two behind.
std::size_t pick_version(Rng& rng, std::size_t n) {
  std::size_t back = 0;
  while (back + 1 < n && rng.chance(0.45)) ++back;
  return n - 1 - back;
}

std::size_t clamp_count(double mean, std::int64_t jitter, std::size_t lo, std::size_t hi) {
  const auto v = static_cast<std::int64_t>(std::lround(mean)) + jitter;
  return static_cast<std::size_t>(std::clamp<std::int64_t>(v, static_cast<std::int64_t>(lo), static_cast<std::int64_t>(hi)));
}

// The first k entries of a seeded partial shuffle of `from`.
std::vector<std::uint16_t> choose(Rng& rng, std::vector<std::uint16_t> from, std::size_t k) {
  k = std::min(k, from.size());
  for (std::size_t i = 0; i < k; ++i) std::swap(from[i], from[i + rng.below(from.size() - i)]);
  from.resize(k);
  return from;
}

// Weakness count and support status belong to a (product, version), as in the real
// service: every device with chrome 119 shows the same numbers.
struct VersionTraits {
  EosStatus eos;
  std::int64_t eos_date;
  std::int32_t weaknesses;
};

VersionTraits version_traits(const CpeProduct& p, std::string_view version) {
  const std::uint64_t h = mix(fnv1a(version, fnv1a(p.name, fnv1a(p.vendor))), 7);
  const bool latest = std::find(p.versions.begin(), p.versions.end(), version) == p.versions.end() ||
                      p.versions.back() == version;
  VersionTraits t{EosStatus::none, no_date, 0};
  const auto r = h % 20;
  const auto day = static_cast<std::int64_t>((h >> 8) % 1400);
  if (p.eos_software) {
    t = {EosStatus::eos_software, unix_seconds(2020, 1, 1) + (day % 1000) * 86400, 0};
  } else if (latest ? r >= 17 : (r >= 13 && r < 17)) {
    t.eos = latest ? EosStatus::upcoming_eos_version : EosStatus::eos_version;
    t.eos_date = latest ? unix_seconds(2024, 6, 1) + (day % 700) * 86400 : unix_seconds(2020, 1, 1) + day * 86400;
  } else if (r >= 17) {
    t = {EosStatus::upcoming_eos_version, unix_seconds(2024, 6, 1) + (day % 700) * 86400, 0};
  }
  const auto w = (h >> 24) % 100;
  const std::uint64_t spread = h >> 40;
  if (latest)
    t.weaknesses = w < 70 ? 0 : w < 95 ? static_cast<std::int32_t>(1 + spread % 10) : static_cast<std::int32_t>(11 + spread % 30);
  else
    t.weaknesses = w < 35   ? 0
                   : w < 75 ? static_cast<std::int32_t>(1 + spread % 30)
                   : w < 93 ? static_cast<std::int32_t>(31 + spread % 70)
                            : static_cast<std::int32_t>(101 + spread % 100);
  return t;
}

void assign_paths(Rng& rng, CpeRecord& r, const CpeProduct& p, Os os) {
  if (p.os_itself) {
    r.disk = r.registry = PathsVariant::empty;
    return;
  }
  const auto roll = rng.below(100);
  if (!is_windows(os)) {
    r.disk = roll < 10 ? PathsVariant::null : roll < 25 ? PathsVariant::empty : PathsVariant::primary;
    r.registry = rng.chance(0.1) ? PathsVariant::null : PathsVariant::empty;
    return;
  }
  const bool has_x86 = !p.win_x86_path.empty();
  if (p.win_path.empty())
    r.disk = PathsVariant::empty;
  else if (roll < 10)
    r.disk = PathsVariant::null;
  else if (roll < 22)
    r.disk = PathsVariant::empty;
  else if (roll < 30 && has_x86)
    r.disk = PathsVariant::both;
  else
    r.disk = has_x86 && rng.chance(0.5) ? PathsVariant::secondary : PathsVariant::primary;
  const auto roll2 = rng.below(100);
  if (roll2 < 10)
    r.registry = PathsVariant::null;
  else if (roll2 < 30)
    r.registry = PathsVariant::empty;
  else if (roll2 < 35)
    r.registry = PathsVariant::both;
  else
    r.registry = r.disk == PathsVariant::secondary ? PathsVariant::secondary : PathsVariant::primary;
}

SystemTime changed_before(Rng& rng, SystemTime start) {
  return start - milliseconds(rng.between(0, changed_window_ms));
}

CpeRecord make_cpe(Rng& rng, const Device& dev, std::uint32_t device, std::uint16_t product, std::string version,
                   SystemTime changed_at, std::int64_t first_seen) {
  const auto& p = cpe_catalog()[product];
  CpeRecord r;
  r.device = device;
  r.product = product;
  r.version = std::move(version);
  r.changed_at = changed_at;
  assign_paths(rng, r, p, dev.os);
  const auto t = version_traits(p, r.version);
  r.eos = t.eos;
  r.eos_date = t.eos_date;
  r.weaknesses = t.weaknesses;
  r.first_seen = first_seen;
  return r;
}

NonCpeRecord make_noncpe(Rng& rng, std::uint32_t device, std::uint16_t product, std::string version,
                         SystemTime changed_at, std::int64_t last_seen_ticks) {
  NonCpeRecord r;
  r.device = device;
  r.product = product;
  r.version = std::move(version);
  r.changed_at = changed_at;
  r.seven_digit_fraction = rng.chance(0.4);
  r.group_id_as_string = rng.chance(0.1);
  // A three-digit timestamp carries no more precision than it shows.
  r.last_seen = r.seven_digit_fraction ? last_seen_ticks : last_seen_ticks - last_seen_ticks % 10'000;
  return r;
}

void generate_device_software(Rng& rng, const Device& dev, std::uint32_t index, const GeneratorOptions& opt,
                              SystemTime start, std::vector<CpeRecord>& cpe, std::vector<NonCpeRecord>& noncpe) {
  const auto& cat = cpe_catalog();
  const int os = static_cast<int>(dev.os);
  std::vector<CpeRecord> mine;
  const auto& os_choices = os_products(dev.os);
  const std::uint16_t os_prod = os_choices[rng.below(os_choices.size())];
  const auto& elig = eligible().cpe[os];
  const std::size_t k = clamp_count(opt.cpe_per_device - 1, rng.between(-8, 8), 2, elig.size());
  std::vector<std::uint16_t> products = choose(rng, elig, k);
  products.push_back(os_prod);
  for (const auto prod : products) {
    const auto& versions = cat[prod].versions;
    const std::size_t vi = pick_version(rng, versions.size());
    mine.push_back(make_cpe(rng, dev, index, prod, std::string(versions[vi]), changed_before(rng, start),
                            rng.between(first_seen_from, first_seen_to)));
    // A few products linger in two versions side by side (old JREs, .NET runtimes).
    if (vi > 0 && rng.chance(0.05))
      mine.push_back(make_cpe(rng, dev, index, prod, std::string(versions[vi - 1]), changed_before(rng, start),
                              rng.between(first_seen_from, first_seen_to)));
  }
  std::sort(mine.begin(), mine.end(), key_less);
  std::move(mine.begin(), mine.end(), std::back_inserter(cpe));

  const auto& ncat = noncpe_catalog();
  const auto& nelig = eligible().noncpe[os];
  // 0 means a tenant without non-CPE software, not "about zero, give or take four".
  const std::size_t nk =
      opt.noncpe_per_device > 0 ? clamp_count(opt.noncpe_per_device, rng.between(-4, 4), 1, nelig.size()) : 0;
  std::vector<NonCpeRecord> nmine;
  for (const auto prod : choose(rng, nelig, nk)) {
    const auto& versions = ncat[prod].versions;
    const std::int64_t ticks = rng.between(last_seen_from, last_seen_to) * ticks_per_second +
                               static_cast<std::int64_t>(rng.below(ticks_per_second));
    nmine.push_back(make_noncpe(rng, index, prod, std::string(versions[pick_version(rng, versions.size())]),
                                changed_before(rng, start), ticks));
  }
  std::sort(nmine.begin(), nmine.end(), key_less);
  std::move(nmine.begin(), nmine.end(), std::back_inserter(noncpe));
}

// ---- mutation -------------------------------------------------------------

template <typename R>
bool has_product(const std::vector<R>& recs, const std::vector<char>& removed, std::uint32_t device,
                 std::uint16_t product) {
  const auto key = std::pair(device, product);
  auto it = std::lower_bound(recs.begin(), recs.end(), key,
                             [](const R& r, const auto& k) { return std::pair(r.device, r.product) < k; });
  for (; it != recs.end() && it->device == device && it->product == product; ++it)
    if (!removed[static_cast<std::size_t>(it - recs.begin())]) return true;
  return false;
}

template <typename R>
bool has_key(const std::vector<R>& recs, const std::vector<char>& removed, const RecordBase& k) {
  const auto it = std::lower_bound(recs.begin(), recs.end(), k,
                                   [](const R& r, const RecordBase& b) { return key_less(r, b); });
  return it != recs.end() && !key_less(k, *it) && !removed[static_cast<std::size_t>(it - recs.begin())];
}

using KeyTuple = std::tuple<std::uint32_t, std::uint16_t, std::string>;

// What differs between the data sets when mutating: how a record is created, upgraded
// and reassessed, and which products a device may get.
template <typename R>
struct MutationOps {
  std::function<R(Rng&, std::uint32_t device, std::uint16_t product, std::string version)> make;
  std::function<R(Rng&, const R& old, std::string new_version)> upgrade;
  std::function<void(Rng&, R&)> reassess;
  std::function<const std::vector<std::uint16_t>&(Os)> eligible;
  std::function<RecordKey(const R&)> key_of;
  std::function<bool(const R&)> removable;
};

template <typename R>
void mutate_records(std::vector<R>& recs, const std::vector<Device>& devices, const MutationRequest& req,
                    const MutationOps<R>& ops, Rng& rng, DatasetChanges& out) {
  const auto& cat = Traits<R>::catalog();
  std::vector<char> removed(recs.size(), 0);
  std::vector<R> added;
  std::set<KeyTuple> added_keys;
  std::set<std::pair<std::uint32_t, std::uint16_t>> added_products;
  constexpr int attempts = 64;
  auto random_live = [&]() -> std::optional<std::size_t> {
    for (int a = 0; a < attempts && !recs.empty(); ++a) {
      const auto i = static_cast<std::size_t>(rng.below(recs.size()));
      if (!removed[i] && ops.removable(recs[i])) return i;
    }
    return std::nullopt;
  };

  for (std::uint32_t n = 0; n < req.uninstalls; ++n) {
    const auto i = random_live();
    if (!i) break;
    removed[*i] = 1;
    out.uninstalled.push_back(ops.key_of(recs[*i]));
  }
  for (std::uint32_t n = 0; n < req.upgrades; ++n) {
    for (int a = 0; a < attempts; ++a) {
      const auto i = random_live();
      if (!i) break;
      R next = ops.upgrade(rng, recs[*i], next_version(cat[recs[*i].product].versions, recs[*i].version));
      KeyTuple k{next.device, next.product, next.version};
      if (has_key(recs, removed, next) || added_keys.count(k)) continue;
      removed[*i] = 1;
      out.upgraded.emplace_back(ops.key_of(recs[*i]), ops.key_of(next));
      added_keys.insert(std::move(k));
      added_products.emplace(next.device, next.product);
      added.push_back(std::move(next));
      break;
    }
  }
  for (std::uint32_t n = 0; n < req.installs && !devices.empty(); ++n) {
    for (int a = 0; a < attempts; ++a) {
      const auto device = static_cast<std::uint32_t>(rng.below(devices.size()));
      const auto& elig = ops.eligible(devices[device].os);
      if (elig.empty()) continue;
      const std::uint16_t product = elig[rng.below(elig.size())];
      if (has_product(recs, removed, device, product) || added_products.count({device, product})) continue;
      const auto& versions = cat[product].versions;
      R r = ops.make(rng, device, product, std::string(versions[pick_version(rng, versions.size())]));
      out.installed.push_back(ops.key_of(r));
      added_keys.emplace(r.device, r.product, r.version);
      added_products.emplace(device, product);
      added.push_back(std::move(r));
      break;
    }
  }
  for (std::uint32_t n = 0; n < req.reassess; ++n) {
    const auto i = random_live();
    if (!i) break;
    ops.reassess(rng, recs[*i]);
    out.reassessed.push_back(ops.key_of(recs[*i]));
  }

  // Rebuild, keeping the sorted-and-unique invariant: drop removed, merge the sorted additions.
  std::size_t w = 0;
  for (std::size_t i = 0; i < recs.size(); ++i)
    if (!removed[i]) {
      if (w != i) recs[w] = std::move(recs[i]);
      ++w;
    }
  recs.resize(w);
  std::sort(added.begin(), added.end(), key_less);
  const auto mid = static_cast<std::ptrdiff_t>(recs.size());
  std::move(added.begin(), added.end(), std::back_inserter(recs));
  std::inplace_merge(recs.begin(), recs.begin() + mid, recs.end(), key_less);
}

template <typename R>
std::size_t first_after_impl(const std::vector<R>& records, const std::vector<Device>& devices, const RecordKey& key) {
  const auto& cat = Traits<R>::catalog();
  const auto view = [&](const R& r) {
    const auto& p = cat[r.product];
    return std::tuple<std::string_view, std::string_view, std::string_view, std::string_view>(
        devices[r.device].id, p.vendor, p.name, r.version);
  };
  const std::tuple<std::string_view, std::string_view, std::string_view, std::string_view> k(
      key.device_id, key.vendor, key.name, key.version);
  const auto it = std::upper_bound(records.begin(), records.end(), k,
                                   [&](const auto& kk, const R& r) { return kk < view(r); });
  return static_cast<std::size_t>(it - records.begin());
}

}  // namespace

TenantData::TenantData(std::string tenant_id, const GeneratorOptions& options, SystemTime start)
    : tenant_id_(std::move(tenant_id)), tenant_seed_(mix(fnv1a(tenant_id_), options.seed)) {
  Rng rng(tenant_seed_);
  devices_.reserve(options.devices);
  for (std::uint32_t i = 0; i < options.devices; ++i) {
    Device d;
    d.id = random_hex(rng, 40);
    d.os = pick_os(rng);
    d.name = device_name(rng, d.os);
    d.group = pick_group(rng);
    devices_.push_back(std::move(d));
  }
  std::sort(devices_.begin(), devices_.end(), [](const Device& a, const Device& b) { return a.id < b.id; });
  devices_.erase(std::unique(devices_.begin(), devices_.end(), [](const Device& a, const Device& b) { return a.id == b.id; }),
                 devices_.end());
  cpe_.reserve(static_cast<std::size_t>(devices_.size() * (options.cpe_per_device + 2)));
  noncpe_.reserve(static_cast<std::size_t>(devices_.size() * (options.noncpe_per_device + 1)));
  for (std::uint32_t i = 0; i < devices_.size(); ++i) {
    // Each device's software depends only on its id, not on generation order.
    Rng drng(mix(tenant_seed_, fnv1a(devices_[i].id)));
    generate_device_software(drng, devices_[i], i, options, start, cpe_, noncpe_);
  }
}

MutationResult TenantData::mutate(const MutationRequest& request, SystemTime now) {
  ++mutations_;
  const std::uint64_t base = mix(tenant_seed_, request.seed != 0 ? request.seed : (mutations_ | (1ull << 63)));
  const std::int64_t now_secs = to_unix_seconds(now);
  const std::int64_t now_ticks = to_ticks(now);
  MutationResult result;

  MutationOps<CpeRecord> cpe_ops;
  cpe_ops.make = [&](Rng& rng, std::uint32_t device, std::uint16_t product, std::string version) {
    return make_cpe(rng, devices_[device], device, product, std::move(version), now, now_secs);
  };
  cpe_ops.upgrade = [&](Rng&, const CpeRecord& old, std::string version) {
    CpeRecord r = old;
    const auto t = version_traits(cpe_catalog()[old.product], version);
    r.version = std::move(version);
    r.eos = t.eos;
    r.eos_date = t.eos_date;
    r.weaknesses = t.weaknesses;
    r.first_seen = now_secs;
    r.changed_at = now;
    return r;
  };
  cpe_ops.reassess = [&](Rng& rng, CpeRecord& r) {
    r.weaknesses += static_cast<std::int32_t>(1 + rng.below(5));  // new CVEs published for this version
    r.changed_at = now;
  };
  cpe_ops.eligible = [](Os os) -> const std::vector<std::uint16_t>& { return eligible().cpe[static_cast<int>(os)]; };
  cpe_ops.key_of = [this](const CpeRecord& r) { return key_of(r); };
  cpe_ops.removable = [](const CpeRecord& r) { return !cpe_catalog()[r.product].os_itself; };

  MutationOps<NonCpeRecord> non_ops;
  non_ops.make = [&](Rng& rng, std::uint32_t device, std::uint16_t product, std::string version) {
    return make_noncpe(rng, device, product, std::move(version), now, now_ticks);
  };
  non_ops.upgrade = [&](Rng&, const NonCpeRecord& old, std::string version) {
    NonCpeRecord r = old;
    r.version = std::move(version);
    r.last_seen = r.seven_digit_fraction ? now_ticks : now_ticks - now_ticks % 10'000;
    r.changed_at = now;
    return r;
  };
  non_ops.reassess = [&](Rng&, NonCpeRecord& r) {
    r.last_seen = r.seven_digit_fraction ? now_ticks : now_ticks - now_ticks % 10'000;
    r.changed_at = now;
  };
  non_ops.eligible = [](Os os) -> const std::vector<std::uint16_t>& { return eligible().noncpe[static_cast<int>(os)]; };
  non_ops.key_of = [this](const NonCpeRecord& r) { return key_of(r); };
  non_ops.removable = [](const NonCpeRecord&) { return true; };

  Rng cpe_rng(mix(base, 1));
  mutate_records(cpe_, devices_, request, cpe_ops, cpe_rng, result.cpe);
  Rng non_rng(mix(base, 2));
  mutate_records(noncpe_, devices_, request, non_ops, non_rng, result.noncpe);

  const auto changed = [](const DatasetChanges& c) {
    return !c.installed.empty() || !c.uninstalled.empty() || !c.upgraded.empty() || !c.reassessed.empty();
  };
  if (changed(result.cpe) || changed(result.noncpe)) ++data_version_;
  return result;
}

RecordKey TenantData::key_of(const CpeRecord& r) const {
  const auto& p = cpe_catalog()[r.product];
  return {devices_[r.device].id, std::string(p.vendor), std::string(p.name), r.version};
}

RecordKey TenantData::key_of(const NonCpeRecord& r) const {
  const auto& p = noncpe_catalog()[r.product];
  return {devices_[r.device].id, std::string(p.vendor), std::string(p.name), r.version};
}

std::size_t TenantData::first_after(const std::vector<CpeRecord>& records, const RecordKey& key) const {
  return first_after_impl(records, devices_, key);
}

std::size_t TenantData::first_after(const std::vector<NonCpeRecord>& records, const RecordKey& key) const {
  return first_after_impl(records, devices_, key);
}

std::string next_version(const std::vector<std::string_view>& catalog_versions, std::string_view version) {
  const auto it = std::find(catalog_versions.begin(), catalog_versions.end(), version);
  if (it != catalog_versions.end() && it + 1 != catalog_versions.end()) return std::string(*(it + 1));
  // Past the catalog: bump the last number ("8.6.4" -> "8.6.5", "1.8.0_401" -> "1.8.0_402").
  std::string v(version);
  std::size_t end = v.size();
  while (end > 0 && !(v[end - 1] >= '0' && v[end - 1] <= '9')) --end;
  if (end == 0) return v + ".1";
  std::size_t begin = end;
  while (begin > 0 && v[begin - 1] >= '0' && v[begin - 1] <= '9') --begin;
  const std::string digits = v.substr(begin, end - begin);
  std::string bumped = std::to_string(std::stoull(digits.size() > 18 ? digits.substr(digits.size() - 18) : digits) + 1);
  if (bumped.size() < digits.size()) bumped.insert(0, digits.size() - bumped.size(), '0');
  return v.substr(0, begin) + bumped + v.substr(end);
}

}  // namespace mdesync::fakeapi
