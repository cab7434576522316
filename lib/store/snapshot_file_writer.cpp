#include "store/snapshot_file_writer.hpp"

#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "core/timestamp.hpp"
#include "store/connection.hpp"
#include "store/copy_in.hpp"
#include "store/digest_lines.hpp"
#include "store/identifiers.hpp"
#include "store/merge_sql.hpp"
#include "store/sync_store_parts.hpp"

namespace mdesync::store {

struct SnapshotFileWriter::Impl {
  Connection conn;
  std::string schema, tenant, stage;
  model::Dataset ds;
  std::unique_ptr<pqxx::work> tx;
  std::unique_ptr<CopyIn> copy;
  LineDigester digester;

  Impl(const std::string& url, std::string s, std::string t, model::Dataset d, std::string st,
       std::shared_ptr<KnownRows> known)
      : conn(url), schema(std::move(s)), tenant(std::move(t)), stage(std::move(st)), ds(d),
        digester(d, std::move(known)) {}
};

SnapshotFileWriter::SnapshotFileWriter(const std::string& database_url, std::string schema, std::string tenant,
                                       model::Dataset ds, std::string stage_table, std::shared_ptr<KnownRows> known)
    : impl_(std::make_unique<Impl>(database_url, std::move(schema), std::move(tenant), ds, std::move(stage_table),
                                   std::move(known))) {
  const auto op = impl_->conn.operation("setting up a download session", short_operation);
  pqxx::nontransaction tx(impl_->conn);
  tx.exec("SET application_name = 'mdesync download'");
  tx.exec(std::string("SELECT ") + one_connection_per_worker_on_citus);
}

SnapshotFileWriter::~SnapshotFileWriter() { abort(); }

void SnapshotFileWriter::begin() {
  abort();
  const auto op = impl_->conn.operation("opening a file transaction", short_operation);
  impl_->tx = std::make_unique<pqxx::work>(impl_->conn);
  impl_->copy = std::make_unique<CopyIn>(impl_->conn, sql::copy_from_stdin(impl_->stage, model::spec(impl_->ds)));
}

void SnapshotFileWriter::write(std::string_view copy_text) { impl_->copy->write(impl_->digester.digest(copy_text)); }

void SnapshotFileWriter::commit(const std::string& file, SystemTime generated, std::uint64_t rows,
                                std::uint64_t rejected) {
  impl_->copy->finish();
  impl_->copy.reset();
  const auto op = impl_->conn.operation("committing a file", short_operation);
  impl_->tx->exec_params("INSERT INTO " + qualified(impl_->schema, "snapshot_files") +
                             " (tenant, dataset, generated_at, file, rows_staged, rows_rejected)"
                             " VALUES ($1, $2, $3::timestamptz, $4, $5, $6)",
                         impl_->tenant, std::string(model::spec(impl_->ds).name), format_iso8601_utc(generated), file,
                         rows, rejected);
  impl_->tx->commit();
  impl_->tx.reset();
}

void SnapshotFileWriter::attach(StallWatch* watch) { impl_->conn.attach(watch); }

void SnapshotFileWriter::abort() noexcept {
  try {
    impl_->copy.reset();  // ends an open COPY as failed
    const auto op = impl_->conn.operation("rolling a file back", short_operation);
    if (impl_->tx) impl_->tx->abort();
  } catch (const std::exception&) {
    // A broken connection aborts the transaction on the server anyway.
  }
  impl_->tx.reset();
}

}  // namespace mdesync::store
