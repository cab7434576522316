-- Runs once, when the postgres container initialises its data directory.
-- mdesync_reader exists before mdesync's first migration, which then grants it
-- read access to the schema (README, "The read-only role for dashboards");
-- Grafana logs in as `grafana`, a member of it.
CREATE ROLE mdesync_reader NOLOGIN;
CREATE ROLE grafana LOGIN PASSWORD 'grafana' IN ROLE mdesync_reader;  -- demo only
