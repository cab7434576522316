-- 0003: for the people who read the tables: versions that sort as versions,
-- change history, views for dashboards with the indexes behind them, and a
-- read-only role. Runs with search_path set to the mdesync schema only; every
-- object is created unqualified, and every statement may run twice.

-- Versions sort as versions ---------------------------------------------------
-- The key splits a version into runs of digits and runs of ASCII letters (any
-- other character only separates) and encodes each run so that bytewise order is
-- version order:
--   number   '3' || two-digit length || digits without leading zeros  (9 < 10 < 17763)
--   letters  '0' || word for pre-release words (alpha, beta, pre, preview, rc),
--            '2' || word otherwise (1.0.2k is a patch after 1.0.2)
--   end      '1'
-- so 2.0-beta < 2.0-rc1 < 2.0 < 2.0.1 and 10.0.9200.1 < 10.0.17763.1637. Letters
-- compare case-insensitively; non-ASCII letters only separate. bytea, not text:
-- no collation can reorder it. The body is SQL-standard (BEGIN ATOMIC), so it is
-- bound when created and works under any search_path.
CREATE OR REPLACE FUNCTION version_sort_key(version text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT convert_to(coalesce(string_agg(
               CASE
                   WHEN t.part[1] ~ '^[0-9]' THEN
                       '3' || lpad(least(length(ltrim(t.part[1], '0')), 99)::text, 2, '0') || ltrim(t.part[1], '0')
                   WHEN t.part[1] IN ('alpha', 'beta', 'pre', 'preview', 'rc') THEN '0' || t.part[1]
                   ELSE '2' || t.part[1]
               END, '' ORDER BY t.n), '') || '1', 'UTF8')
    FROM regexp_matches(regexp_replace(lower(version), '^v([0-9])', '\1'), '[0-9]+|[a-z]+', 'g')
         WITH ORDINALITY AS t(part, n);
END;

COMMENT ON FUNCTION version_sort_key(text) IS
    'Sort key that orders software versions as versions: ORDER BY version_sort_key(software_version) DESC puts '
    '10.0.17763.1637 before 10.0.9200.1 and 1.10 before 1.9; pre-release words (alpha, beta, pre, preview, rc) '
    'sort before the release (2.0-beta < 2.0), other letters after it (1.0.2k > 1.0.2).';

-- Change history ----------------------------------------------------------------
-- Written by the merge itself, in the transaction that changes the rows (see
-- lib/store/merge_sql.cpp). The first sync of a tenant and data set is the
-- baseline and records nothing.
CREATE TABLE IF NOT EXISTS software_changes (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant          text        NOT NULL,
    dataset         text        NOT NULL CHECK (dataset IN ('cpe', 'noncpe')),
    device_id       text        NOT NULL,
    device_name     text,
    software_vendor text        NOT NULL,
    software_name   text        NOT NULL,
    old_version     text,       -- NULL for installed and reinstalled
    new_version     text,       -- NULL for removed
    change          text        NOT NULL
                    CHECK (change IN ('installed', 'removed', 'upgraded', 'downgraded', 'reinstalled')),
    observed_at     timestamptz NOT NULL DEFAULT now(),
    run_id          bigint      -- sync_runs.id; no foreign key, so old runs can be purged
);

CREATE INDEX IF NOT EXISTS software_changes_observed ON software_changes (observed_at);
CREATE INDEX IF NOT EXISTS software_changes_device ON software_changes (tenant, device_id, observed_at);
CREATE INDEX IF NOT EXISTS software_changes_software ON software_changes (software_name, observed_at);

COMMENT ON TABLE software_changes IS
    'What each sync changed per device: installed (a new key), removed (a full snapshot no longer lists it), '
    'upgraded/downgraded (same device, vendor and name: one version replaced by another in the same sync), '
    'reinstalled (a removed row came back). Incremental syncs never remove, so a new version installed by an '
    'incremental sync is "installed" and the old version''s removal shows up at the next full sync. The first sync '
    'of a tenant and data set is the baseline and records nothing.';
COMMENT ON COLUMN software_changes.observed_at IS 'When the sync that saw the change committed it (its transaction time).';
COMMENT ON COLUMN software_changes.run_id IS 'sync_runs.id of the run that recorded the change.';

-- Indexes behind the views ------------------------------------------------------
-- Partial on removed_at IS NULL: the views only read current rows.
-- "Which devices run X", software_catalog: by name, then vendor and version.
CREATE INDEX IF NOT EXISTS software_inventory_current_by_software
    ON software_inventory (software_name, software_vendor, software_version, tenant)
    INCLUDE (number_of_weaknesses, end_of_support_date)
    WHERE removed_at IS NULL;
CREATE INDEX IF NOT EXISTS noncpe_software_inventory_current_by_software
    ON noncpe_software_inventory (software_name, software_vendor, software_version, tenant)
    WHERE removed_at IS NULL;
-- end_of_support_exposure: only rows with support information, by date.
CREATE INDEX IF NOT EXISTS software_inventory_end_of_support
    ON software_inventory (end_of_support_date)
    WHERE removed_at IS NULL AND (end_of_support_date IS NOT NULL OR coalesce(end_of_support_status, '') <> '');
-- device_weaknesses: only vulnerable rows, in device order, covering the aggregate.
CREATE INDEX IF NOT EXISTS software_inventory_vulnerable_by_device
    ON software_inventory (tenant, device_id)
    INCLUDE (number_of_weaknesses, device_name, os_platform, rbac_group_name)
    WHERE removed_at IS NULL AND number_of_weaknesses > 0;

-- Views ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW inventory_current AS
SELECT tenant, 'cpe'::text AS dataset, device_id, device_name, os_platform, rbac_group_name,
       software_vendor, software_name, software_version, number_of_weaknesses,
       end_of_support_status, end_of_support_date,
       software_first_seen_timestamp AS software_first_seen_at, NULL::timestamptz AS software_last_seen_at,
       first_synced_at, last_changed_at
FROM software_inventory
WHERE removed_at IS NULL
UNION ALL
SELECT tenant, 'noncpe'::text, device_id, device_name, os_platform, rbac_group_name,
       software_vendor, software_name, software_version, NULL::integer,
       NULL::text, NULL::timestamptz,
       NULL::timestamptz, software_last_seen_timestamp,
       first_synced_at, last_changed_at
FROM noncpe_software_inventory
WHERE removed_at IS NULL;

COMMENT ON VIEW inventory_current IS
    'Software installed now, both data sets in one shape (dataset = cpe | noncpe); rows removed by a full snapshot '
    'are left out. Filter on software_name (indexed) or on tenant and device_id (the primary key).';

CREATE OR REPLACE VIEW software_catalog AS
SELECT c.tenant, c.dataset, c.software_vendor, c.software_name, c.software_version, c.devices,
       c.max_weaknesses, c.end_of_support_date,
       dense_rank() OVER (PARTITION BY c.tenant, c.dataset, c.software_vendor, c.software_name
                          ORDER BY version_sort_key(c.software_version) DESC, c.software_version DESC) AS version_rank
FROM (
    SELECT tenant, 'cpe'::text AS dataset, software_vendor, software_name, software_version,
           count(*) AS devices, max(number_of_weaknesses) AS max_weaknesses,
           min(end_of_support_date) AS end_of_support_date
    FROM software_inventory
    WHERE removed_at IS NULL
    GROUP BY software_name, software_vendor, software_version, tenant
    UNION ALL
    SELECT tenant, 'noncpe'::text, software_vendor, software_name, software_version,
           count(*), NULL::integer, NULL::timestamptz
    FROM noncpe_software_inventory
    WHERE removed_at IS NULL
    GROUP BY software_name, software_vendor, software_version, tenant
) c;

COMMENT ON VIEW software_catalog IS
    'Per tenant, data set, software and version: the number of devices running it now. version_rank 1 is the '
    'newest version present (versions ordered by version_sort_key). Filter on software_name for index speed.';
COMMENT ON COLUMN software_catalog.devices IS 'Devices with this version installed now (one row per device and version).';

CREATE OR REPLACE VIEW end_of_support_exposure AS
SELECT tenant, device_id, device_name, os_platform, rbac_group_name,
       software_vendor, software_name, software_version, number_of_weaknesses,
       end_of_support_status, end_of_support_date,
       CASE WHEN end_of_support_status IN ('EOS Version', 'EOS Software') OR end_of_support_date <= now()
            THEN 'past' ELSE 'near' END AS exposure,
       (end_of_support_date::date - current_date) AS days_left
FROM software_inventory
WHERE removed_at IS NULL
  AND (end_of_support_date IS NOT NULL OR coalesce(end_of_support_status, '') <> '')
  AND (end_of_support_date IS NULL OR end_of_support_date < now() + interval '180 days'
       OR end_of_support_status IN ('EOS Version', 'EOS Software'));

COMMENT ON VIEW end_of_support_exposure IS
    'Installed software (CPE data set) past its end of support or reaching it within 180 days: exposure = past | '
    'near, days_left negative when past. Defender''s endOfSupportStatus and endOfSupportDate as synced.';

CREATE OR REPLACE VIEW device_weaknesses AS
SELECT tenant, device_id, max(device_name) AS device_name, max(os_platform) AS os_platform,
       max(rbac_group_name) AS rbac_group_name,
       count(*) AS vulnerable_software,
       sum(number_of_weaknesses) AS weaknesses,
       max(number_of_weaknesses) AS worst_software_weaknesses
FROM software_inventory
WHERE removed_at IS NULL AND number_of_weaknesses > 0
GROUP BY tenant, device_id;

COMMENT ON VIEW device_weaknesses IS
    'Per device, the installed software with known weaknesses (CPE data set): how many such products, and the '
    'sum of their weakness counts. ORDER BY weaknesses DESC for the most exposed devices.';

-- run_pairs reads the distinct (tenant, dataset) of sync_runs by skipping through
-- its index, one probe per pair: sync_runs grows by a row per run, forever.
CREATE OR REPLACE VIEW sync_freshness AS
WITH RECURSIVE run_pairs AS (
    (SELECT tenant, dataset FROM sync_runs ORDER BY tenant, dataset LIMIT 1)
    UNION ALL
    SELECT n.tenant, n.dataset
    FROM run_pairs p
    CROSS JOIN LATERAL (
        SELECT r.tenant, r.dataset
        FROM sync_runs r
        WHERE (r.tenant, r.dataset) > (p.tenant, p.dataset)
        ORDER BY r.tenant, r.dataset
        LIMIT 1
    ) n
),
pairs AS (
    SELECT tenant, dataset FROM sync_state
    UNION
    SELECT tenant, dataset FROM run_pairs
)
SELECT p.tenant, p.dataset,
       greatest(s.last_incremental_at, s.last_full_at) AS last_success_at,
       now() - greatest(s.last_incremental_at, s.last_full_at) AS age,
       s.last_full_at, s.last_incremental_at, s.watermark, s.snapshot_generated_at,
       r.id AS last_run_id, r.mode AS last_run_mode, r.status AS last_run_status,
       r.started_at AS last_run_started_at, r.finished_at AS last_run_finished_at, r.error AS last_run_error,
       f.runs_failed_24h
FROM pairs p
LEFT JOIN sync_state s ON s.tenant = p.tenant AND s.dataset = p.dataset
LEFT JOIN LATERAL (
    SELECT id, mode, status, started_at, finished_at, error
    FROM sync_runs
    WHERE tenant = p.tenant AND dataset = p.dataset
    ORDER BY started_at DESC, id DESC
    LIMIT 1
) r ON true
CROSS JOIN LATERAL (
    SELECT count(*) AS runs_failed_24h
    FROM sync_runs
    WHERE tenant = p.tenant AND dataset = p.dataset AND started_at > now() - interval '24 hours'
      AND status IN ('failed', 'guarded', 'abandoned')
) f;

COMMENT ON VIEW sync_freshness IS
    'Per tenant and data set: when data last arrived (last_success_at, age), the watermark, and the last run with '
    'its status and error; runs_failed_24h counts failed, guarded and abandoned runs in the last 24 hours.';

-- The read-only role for dashboards -------------------------------------------
-- mdesync_reader: no password, no login; people grant it to their dashboard
-- users. Created only when the migrating user may create roles; otherwise a
-- notice, and the README shows what an administrator runs once. Never fails.
DO $reader$
BEGIN
    -- Roles belong to the cluster: serialise check-and-create between schemas migrating at once.
    PERFORM pg_advisory_xact_lock(hashtext('mdesync.reader_role'));
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mdesync_reader') THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            BEGIN
                CREATE ROLE mdesync_reader NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile by someone not taking our lock
            END;
        ELSE
            RAISE NOTICE 'role mdesync_reader does not exist and % may not create roles; an administrator can '
                         'create it once (see "Querying the data" in the README)', current_user;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mdesync_reader') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO mdesync_reader', current_schema());
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO mdesync_reader', current_schema());
        -- Tables and views of later migrations too.
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO mdesync_reader',
                       current_schema());
    END IF;
END
$reader$;
