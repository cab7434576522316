// SyncStore's page transaction: one page of an incremental pull (upserted) or of
// a full one (staged), written while it downloads and committed as one.
#include "store/sync_store.hpp"

#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "store/connection.hpp"
#include "store/copy_in.hpp"
#include "store/digest_lines.hpp"
#include "store/identifiers.hpp"
#include "store/sync_store_parts.hpp"

namespace mdesync::store {
namespace {

std::string page_stage_name(model::Dataset ds) {
  return std::string("pg_temp.") + quote_identifier("mdesync_page_" + std::string(model::spec(ds).name));
}

}  // namespace

void SyncStore::ensure_page_stage(model::Dataset ds) {
  auto& ready = page_stage_ready_[ds == model::Dataset::cpe ? 0 : 1];
  if (ready) return;
  const auto op = conn_->operation("creating the page stage", short_operation);
  pqxx::nontransaction tx(*conn_);
  // ON COMMIT DELETE ROWS: each batch starts empty without a TRUNCATE round trip.
  tx.exec("CREATE TEMP TABLE IF NOT EXISTS " + page_stage_name(ds) +
          " (ord bigint GENERATED ALWAYS AS IDENTITY, " + sql::staging_columns(model::spec(ds)) +
          ") ON COMMIT DELETE ROWS");
  ready = true;
}

std::string SyncStore::page_stage(const std::string& tenant, model::Dataset ds) {
  if (!on_citus()) {
    ensure_page_stage(ds);
    return page_stage_name(ds);
  }
  const std::string name = qualified(schema_, stage_table("page_" + std::string(model::spec(ds).name), tenant));
  if (citus_page_stages_.count(name) != 0) return name;
  const auto op = conn_->operation("creating the page stage", short_operation);
  pqxx::work tx(*conn_);
  if (tx.exec1("SELECT to_regclass(" + tx.quote(name) + ") IS NULL")[0].as<bool>())
    create_stage(tx, name, ds, target(ds), true);
  tx.commit();
  citus_page_stages_.insert(name);
  return name;
}

void SyncStore::open_page(const std::string& tenant, model::Dataset ds, RunMode mode) {
  abort_page();
  const std::string stage = mode == RunMode::incremental ? page_stage(tenant, ds) : snapshot_stage(tenant, ds);
  const auto op = conn_->operation("opening a page transaction", short_operation);
  page_ = std::make_unique<OpenPage>(*conn_, tenant, ds, mode, stage,
                                     mode == RunMode::full ? snapshot_known_rows(tenant, ds) : nullptr);
  // The tenant's page stage on Citus keeps the previous page's rows until here:
  // they were merged when it committed.
  if (mode == RunMode::incremental && on_citus()) {
    page_->tx.exec("TRUNCATE " + stage);
    // See one_connection_per_worker_on_citus; LOCAL: the session's merges of
    // snapshots keep every connection Citus wants.
    page_->tx.exec("SET LOCAL citus.max_adaptive_executor_pool_size = 1");
  }
}

void SyncStore::write_page(std::string_view copy_text) {
  if (copy_text.empty()) return;
  auto& p = *page_;
  try {
    // COPY starts with the first row: a page without rows costs no COPY round trip.
    if (!p.copy) p.copy = std::make_unique<CopyIn>(*conn_, sql::copy_from_stdin(p.stage, model::spec(p.ds)));
    p.copy->write(p.digester.digest(copy_text));
    p.wrote = true;
  } catch (...) {
    abort_page();
    throw;
  }
}

std::uint64_t SyncStore::close_page(const std::optional<WatermarkUpdate>& advance, std::optional<std::int64_t> run_id) {
  try {
    const std::uint64_t upserted = commit_page(advance, run_id);
    page_.reset();
    return upserted;
  } catch (...) {
    abort_page();
    throw;
  }
}

std::uint64_t SyncStore::commit_page(const std::optional<WatermarkUpdate>& advance, std::optional<std::int64_t> run_id) {
  auto& p = *page_;
  // A page holds at most 200,000 records.
  const auto op = conn_->operation("committing a page", bulk_operation(200'000));
  std::uint64_t upserted = 0;
  if (p.copy) {
    p.copy->finish();
    p.copy.reset();
  }
  if (p.wrote && p.mode == RunMode::incremental) {
    // Before the baseline the devices are kept, but no changes recorded.
    const bool events = has_baseline(p.tx, schema_, baselines_, p.tenant, p.ds);
    upserted = merge_rows(p.tx, schema_, p.stage, p.tenant, p.ds,
                          {.events = events, .returned = true, .distributed = on_citus()}, {}, run_id)
                   .upserted;
  }
  if (advance) advance_watermark(p.tx, schema_, p.tenant, p.ds, *advance);
  p.tx.commit();
  return upserted;
}

void SyncStore::abort_page() noexcept {
  if (!page_) return;
  try {
    page_->copy.reset();  // ends an open COPY as failed
    page_->tx.abort();
  } catch (const std::exception&) {
    // A broken connection aborts the transaction on the server anyway.
  }
  page_.reset();
}

std::uint64_t SyncStore::upsert_batch(const std::string& tenant, model::Dataset ds, std::string_view copy_text,
                                      const std::optional<WatermarkUpdate>& advance,
                                      std::optional<std::int64_t> run_id) {
  open_page(tenant, ds, RunMode::incremental);
  write_page(copy_text);
  return close_page(advance, run_id);
}

}  // namespace mdesync::store
