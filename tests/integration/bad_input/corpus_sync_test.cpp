// The bad input corpus served by mde-fakeapi to the real `mdesync sync`, on the
// JSON path and the export path, into PostgreSQL: every record is stored byte for
// byte as the corpus says, or rejected, counted in sync_runs and logged with its
// reason and where it was; the good records around each one come through intact.
#include <gtest/gtest.h>

#include <cstdio>

#include "bad_input_support.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing::bad_input {
namespace {

using model::Dataset;

// At most this many rejections per page or file: the export path logs the first 20 of each file.
constexpr std::size_t cases_per_page = 16;

struct Served {
  std::vector<Case> cases;
  std::vector<InjectedPage> pages;
  std::size_t stored = 0, rejected = 0, records = 0;
};

Served serve_corpus(FakeApi& api, Dataset ds, bool json_path) {
  Served s;
  s.cases = corpus(ds);
  std::vector<const Case*> chosen;
  // A record that is not JSON text makes a JSON page unreadable as a whole:
  // page_shape_test serves each of those on its own.
  for (const auto& c : s.cases)
    if (!(json_path && c.breaks_page)) chosen.push_back(&c);
  s.pages = interleave(ds, chosen, cases_per_page, "nb");
  api.inject(ds, injection_body(s.pages));
  for (const auto& page : s.pages) {
    for (const Case* c : page.cases) (c->stored ? s.stored : s.rejected) += 1;
    s.stored += page.neighbours.size();
    s.records += page.cases.size() + page.neighbours.size();
  }
  return s;
}

// The simulator's truth is an array of records, each with one deviceId.
long long records_in(const std::string& truth) {
  long long n = 0;
  for (auto at = truth.find("\"deviceId\":"); at != std::string::npos; at = truth.find("\"deviceId\":", at + 1)) ++n;
  return n;
}

// mdesync's output without the many lines about rejected records.
std::string summary(const std::string& output) {
  std::string out;
  for (std::size_t at = 0; at < output.size();) {
    const auto nl = output.find('\n', at);
    const std::string line = output.substr(at, nl == std::string::npos ? std::string::npos : nl - at + 1);
    if (line.find("record rejected") == std::string::npos) out += line.substr(0, 1000);
    at = nl == std::string::npos ? output.size() : nl + 1;
  }
  return out;
}

// Where a rejected record was, as the log names it.
std::string position(bool json_path, std::size_t generated_pages, std::size_t page, std::size_t i) {
  if (json_path)
    return "page " + std::to_string(generated_pages + page + 1) + ", record " + std::to_string(2 * i + 1) + "\"";
  char file[32];
  std::snprintf(file, sizeof file, "injected-%05zu", page);
  return std::string(file) + ".json.gz line " + std::to_string(2 * i + 2) + ": ";
}

void expect_served_as_the_corpus_says(FakeApi& api, const std::string& schema, Dataset ds, const Served& s,
                                      bool json_path, const std::string& output, long long truth_rows) {
  const std::string name(model::spec(ds).name);
  const std::size_t generated_pages = std::max<long long>(1, (truth_rows + 999) / 1000);
  const auto rows = stored_rows(schema, ds);
  const auto row_of = [&rows](const Case& c) -> const Row* {
    const auto it = rows.find(device_id(c));
    return it == rows.end() ? nullptr : &it->second;
  };
  for (std::size_t p = 0; p < s.pages.size(); ++p) {
    const auto& page = s.pages[p];
    for (const auto& n : page.neighbours) {
      const Row* row = row_of(n);
      ASSERT_TRUE(row) << name << ": neighbour " << n.name << " is missing";
      EXPECT_EQ(*row, with_jsonb(n.expect)) << name << ": neighbour " << n.name;
    }
    for (std::size_t i = 0; i < page.cases.size(); ++i) {
      const Case& c = *page.cases[i];
      const Row* row = row_of(c);
      if (c.stored) {
        ASSERT_TRUE(row) << name << ": " << c.name << " was not stored; record: " << c.record.substr(0, 200);
        for (const auto& [column, want] : with_jsonb(c.expect))
          EXPECT_EQ(row->at(column), want) << name << ": " << c.name << " column " << column;
        continue;
      }
      EXPECT_FALSE(row) << name << ": " << c.name << " was stored";
      // One log line says which record, where, and why.
      const std::string where = position(json_path, generated_pages, p, i);
      bool logged = false;
      for (std::size_t at = output.find("record rejected"); at != std::string::npos && !logged;
           at = output.find("record rejected", at + 1)) {
        const std::string line = output.substr(at, output.find('\n', at) - at);
        logged = line.find("dataset=" + name) != std::string::npos && line.find(where) != std::string::npos &&
                 line.find(as_logged(c.reason)) != std::string::npos;
      }
      EXPECT_TRUE(logged) << name << ": no log line for " << c.name << " at \"" << where << "\" with \"" << c.reason
                          << "\"";
    }
  }
  // Nothing else moved: the generated data is exactly the truth, plus the injected rows.
  const auto d = compare_with_truth(schema, "contoso", ds, api.truth(name));
  EXPECT_EQ(d.missing_count, 0) << name << ": " << (d.missing.empty() ? "" : d.missing[0]);
  EXPECT_EQ(d.extra_count, static_cast<long long>(s.stored)) << name;
  const auto run = last_run(schema, ds);
  EXPECT_EQ(run.status, "succeeded") << name << ": " << run.error;
  EXPECT_EQ(run.rejected, static_cast<long long>(s.rejected)) << name;
  EXPECT_EQ(run.received, truth_rows + static_cast<long long>(s.records)) << name;
}

class CorpusSync : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusSync, EveryBadRecordIsStoredExactlyOrRejectedCountedAndLoggedAndItsNeighboursAreIntact) {
  const bool json_path = GetParam() == "json";
  TempSchema schema("badinput");
  FakeApi api(unpaced({"--export-files", "2"}), 8);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), GetParam()));
  std::map<Dataset, Served> served;
  std::map<Dataset, long long> truth_rows;
  std::size_t tried = 0;
  for (const auto ds : model::all_datasets) {
    served[ds] = serve_corpus(api, ds, json_path);
    truth_rows[ds] = records_in(api.truth(std::string(model::spec(ds).name)));
    for (const auto& page : served[ds].pages) tried += page.cases.size();
  }

  const auto r = run_mdesync(config, {"sync", "--mode", "full"});
  EXPECT_EQ(r.exit_code, 0) << summary(r.output);
  for (const auto ds : model::all_datasets)
    expect_served_as_the_corpus_says(api, schema.name(), ds, served[ds], json_path, r.output, truth_rows[ds]);

  if (json_path) {
    // The same pages again, incrementally (one upsert per page): the same verdicts,
    // and not one stored row is rewritten.
    std::map<Dataset, std::string> versions;
    for (const auto ds : model::all_datasets) versions[ds] = row_versions(schema.name(), ds);
    const auto again = run_mdesync(config, {"sync", "--mode", "incremental"});
    EXPECT_EQ(again.exit_code, 0) << summary(again.output);
    for (const auto ds : model::all_datasets) {
      const auto run = last_run(schema.name(), ds);
      EXPECT_EQ(run.status, "succeeded") << run.error;
      EXPECT_EQ(run.rejected, static_cast<long long>(served[ds].rejected));
      EXPECT_EQ(run.upserted, 0);
      EXPECT_EQ(row_versions(schema.name(), ds), versions[ds]);
    }
  }
  std::printf("bad inputs tried through mdesync sync (%s path): %zu\n", GetParam().c_str(), tried);
}

INSTANTIATE_TEST_SUITE_P(BothPaths, CorpusSync, ::testing::Values("json", "export"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mdesync::testing::bad_input
