-- 0006: for the people who read the data: devices and when they vanish, the
-- inventory as of any moment, and per-tenant row security for service
-- providers. Runs with search_path set to the mdesync schema only; every object
-- is created unqualified, and every statement may run twice.

-- Two more change kinds ---------------------------------------------------------
-- A device that vanished from a full snapshot altogether is not an uninstall:
-- its rows are recorded as device_gone, and as device_returned when it comes
-- back. The constraint grows; every kind it allowed before stays allowed.
ALTER TABLE software_changes DROP CONSTRAINT IF EXISTS software_changes_change_check;
ALTER TABLE software_changes ADD CONSTRAINT software_changes_change_check
    CHECK (change IN ('installed', 'removed', 'upgraded', 'downgraded', 'reinstalled',
                      'device_gone', 'device_returned'));

COMMENT ON TABLE software_changes IS
    'What each sync changed per device: installed (a new key), removed (a full snapshot no longer lists it), '
    'upgraded/downgraded (same device, vendor and name: one version replaced by another in the same sync), '
    'reinstalled (a removed row came back), device_gone (a full snapshot lists no software of the data set at all '
    'for the device: one event per row it had, instead of removed) and device_returned (a row of such a device '
    'came back, instead of installed or reinstalled). Incremental syncs never remove, so a new version installed by '
    'an incremental sync is "installed" and the old version''s removal shows up at the next full sync. The first sync '
    'of a tenant and data set is the baseline and records nothing.';
COMMENT ON COLUMN software_changes.change IS
    'installed, removed, upgraded, downgraded, reinstalled, device_gone or device_returned.';

-- When the snapshot behind the current rows was taken ----------------------------
ALTER TABLE sync_state ADD COLUMN IF NOT EXISTS last_snapshot_at timestamptz;
COMMENT ON COLUMN sync_state.last_snapshot_at IS
    'When the last full snapshot applied with its removals was taken: the export''s generatedTime, or the start of a '
    'JSON full sync. Every device with current rows was listed by it (or returned by a later incremental pull).';
-- Before this migration only the export's time was kept; a JSON full sync's is
-- approximated by the time it committed.
UPDATE sync_state SET last_snapshot_at = coalesce(snapshot_generated_at, last_full_at) WHERE last_snapshot_at IS NULL;

-- Devices -------------------------------------------------------------------------
-- Kept by the merge itself, in the statement that changes the rows (see
-- lib/store/merge_sql.cpp): only the devices a sync touched are written, so a
-- sync that changes nothing writes nothing here either. One row per data set,
-- so the two data sets' syncs (which may run at once) never write the same row.
CREATE TABLE IF NOT EXISTS device_presence (
    tenant           text        NOT NULL,
    device_id        text        NOT NULL,
    dataset          text        NOT NULL CHECK (dataset IN ('cpe', 'noncpe')),
    device_name      text,
    os_platform      text,
    rbac_group_name  text,
    software         bigint      NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_returned_at timestamptz,
    last_listed_at   timestamptz,
    gone_at          timestamptz,
    changed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, device_id, dataset)
);

COMMENT ON TABLE device_presence IS
    'Per tenant, device and data set: the device''s names as last synced, how many rows it has now, and whether it '
    'vanished. Written by mdesync''s merge in the transaction that changes the rows; read it through the devices view.';
COMMENT ON COLUMN device_presence.software IS 'Current rows (software versions installed) of the device in the data set.';
COMMENT ON COLUMN device_presence.first_seen_at IS 'When mdesync first stored a row of the device in the data set.';
COMMENT ON COLUMN device_presence.last_returned_at IS 'When an incremental pull last returned a row of the device.';
COMMENT ON COLUMN device_presence.last_listed_at IS
    'Gone devices: when the last full snapshot that listed the device was taken (sync_state.last_snapshot_at then); '
    'NULL while the device has rows, and for devices gone before migration 0006.';
COMMENT ON COLUMN device_presence.gone_at IS
    'When a full snapshot listed none of the device''s software in the data set (the snapshot''s time, as removed_at); '
    'NULL while it has some.';
COMMENT ON COLUMN device_presence.changed_at IS 'When the names or the count of rows last changed.';

-- The devices already stored (an upgrade of a populated schema), once. Every
-- current row of a device carries the names the last sync sent.
INSERT INTO device_presence (tenant, device_id, dataset, device_name, os_platform, rbac_group_name, software,
                             first_seen_at, gone_at, changed_at)
SELECT tenant, device_id, dataset,
       coalesce(max(device_name) FILTER (WHERE removed_at IS NULL), max(device_name)),
       coalesce(max(os_platform) FILTER (WHERE removed_at IS NULL), max(os_platform)),
       coalesce(max(rbac_group_name) FILTER (WHERE removed_at IS NULL), max(rbac_group_name)),
       count(*) FILTER (WHERE removed_at IS NULL), min(first_synced_at),
       CASE WHEN count(*) FILTER (WHERE removed_at IS NULL) = 0 THEN max(removed_at) END, now()
FROM (
    SELECT tenant, device_id, 'cpe' AS dataset, device_name, os_platform, rbac_group_name, first_synced_at, removed_at
    FROM software_inventory
    UNION ALL
    SELECT tenant, device_id, 'noncpe', device_name, os_platform, rbac_group_name, first_synced_at, removed_at
    FROM noncpe_software_inventory
) r
GROUP BY tenant, device_id, dataset
ON CONFLICT DO NOTHING;

-- Views and functions read as the person asking (security_invoker), so the row
-- security below applies to them. NOTE for later migrations: CREATE OR REPLACE
-- VIEW resets a view's options; repeat WITH (security_invoker = true).
CREATE OR REPLACE VIEW devices WITH (security_invoker = true) AS
SELECT p.tenant, p.device_id,
       (array_agg(p.device_name ORDER BY p.gone_at IS NOT NULL, p.changed_at DESC))[1] AS device_name,
       (array_agg(p.os_platform ORDER BY p.gone_at IS NOT NULL, p.changed_at DESC))[1] AS os_platform,
       (array_agg(p.rbac_group_name ORDER BY p.gone_at IS NOT NULL, p.changed_at DESC))[1] AS rbac_group_name,
       min(p.first_seen_at) AS first_seen_at,
       max(CASE WHEN p.gone_at IS NULL THEN greatest(s.last_snapshot_at, p.last_returned_at)
                ELSE greatest(p.last_listed_at, p.last_returned_at) END) AS last_seen_at,
       CASE WHEN bool_and(p.gone_at IS NOT NULL) THEN max(p.gone_at) END AS gone_at,
       coalesce(sum(p.software) FILTER (WHERE p.dataset = 'cpe'), 0)::bigint AS cpe_software,
       coalesce(sum(p.software) FILTER (WHERE p.dataset = 'noncpe'), 0)::bigint AS noncpe_software
FROM device_presence p
LEFT JOIN sync_state s ON s.tenant = p.tenant AND s.dataset = p.dataset
GROUP BY p.tenant, p.device_id;

COMMENT ON VIEW devices IS
    'Per tenant and device: its names as last synced, when mdesync first saw it, when it was last seen, gone_at when '
    'the full snapshots list no software at all for it any more, and how many software versions it has now per data '
    'set. Filter on tenant (and device_id) for index lookups.';
COMMENT ON COLUMN devices.last_seen_at IS
    'The time of the last full snapshot that listed the device (export generatedTime, or the start of a JSON full '
    'sync), or of the last incremental pull that returned a row of it, whichever is later.';
COMMENT ON COLUMN devices.gone_at IS
    'When the device vanished: a full snapshot of each data set it had software in listed none of it (the latest '
    'such time). NULL while it has software; cleared when it comes back. Its rows were recorded as device_gone.';

-- The inventory as of a moment ----------------------------------------------------
-- A row was current at `at` when it was stored by then (first_synced_at) and:
-- the first change event after `at` that names its version tells whether it was
-- there (an event that took it away: removed, upgraded or downgraded from it,
-- device_gone) or not (one that brought it: installed, reinstalled, upgraded or
-- downgraded to it, device_returned); without such an event, the row's state
-- now holds. Every transition after a tenant's first sync writes exactly one
-- event naming the row's version, at the transaction time first_synced_at uses
-- too, so the answer is exact for every moment from that first sync on. SQL
-- with one SELECT and not STRICT: inlined into the caller's query, so
-- "WHERE tenant = ... AND device_id = ..." reaches the primary keys and the
-- events' (tenant, device_id, observed_at) index.
CREATE OR REPLACE FUNCTION inventory_as_of(at timestamptz)
    RETURNS TABLE (tenant text, dataset text, device_id text, device_name text, os_platform text,
                   rbac_group_name text, software_vendor text, software_name text, software_version text,
                   number_of_weaknesses integer, end_of_support_status text, end_of_support_date timestamptz,
                   first_synced_at timestamptz, removed_at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT r.tenant, r.dataset, r.device_id, r.device_name, r.os_platform, r.rbac_group_name,
           r.software_vendor, r.software_name, r.software_version, r.number_of_weaknesses,
           r.end_of_support_status, r.end_of_support_date, r.first_synced_at, r.removed_at
    FROM (
        SELECT i.tenant, 'cpe'::text AS dataset, i.device_id, i.device_name, i.os_platform, i.rbac_group_name,
               i.software_vendor, i.software_name, i.software_version, i.number_of_weaknesses,
               i.end_of_support_status, i.end_of_support_date, i.first_synced_at, i.removed_at
        FROM software_inventory i
        UNION ALL
        SELECT n.tenant, 'noncpe'::text, n.device_id, n.device_name, n.os_platform, n.rbac_group_name,
               n.software_vendor, n.software_name, n.software_version, NULL::integer,
               NULL::text, NULL::timestamptz, n.first_synced_at, n.removed_at
        FROM noncpe_software_inventory n
    ) r
    LEFT JOIN (
        SELECT DISTINCT ON (k.tenant, k.dataset, k.device_id, k.software_vendor, k.software_name, k.software_version)
               k.tenant, k.dataset, k.device_id, k.software_vendor, k.software_name, k.software_version, k.was_there
        FROM (
            SELECT e.tenant, e.dataset, e.device_id, e.software_vendor, e.software_name, v.software_version,
                   v.was_there, e.observed_at, e.id
            FROM software_changes e
            CROSS JOIN LATERAL (VALUES (e.old_version, true), (e.new_version, false)) AS v(software_version, was_there)
            WHERE e.observed_at > inventory_as_of.at AND v.software_version IS NOT NULL
        ) k
        ORDER BY k.tenant, k.dataset, k.device_id, k.software_vendor, k.software_name, k.software_version,
                 k.observed_at, k.id
    ) f ON f.tenant = r.tenant AND f.dataset = r.dataset AND f.device_id = r.device_id
       AND f.software_vendor = r.software_vendor AND f.software_name = r.software_name
       AND f.software_version = r.software_version
    WHERE r.first_synced_at <= inventory_as_of.at
      AND CASE WHEN f.was_there IS NULL THEN r.removed_at IS NULL ELSE f.was_there END;
END;

COMMENT ON FUNCTION inventory_as_of(timestamptz) IS
    'The software installed at a moment, both data sets in one shape (dataset = cpe | noncpe), rebuilt from the rows '
    'and software_changes: exact for every moment since the tenant''s first sync, empty before it. Values other than '
    'the key (names, weaknesses, end of support) are the ones stored now; removed_at is the row''s state now. '
    'Filter on tenant and device_id for index lookups.';

-- Per-tenant row security --------------------------------------------------------
-- A member of a role listed here sees only the listed tenants' rows, in every
-- table and view of the schema; everyone else who may read the schema (such as
-- mdesync_reader) sees every tenant. mdesync owns its tables, and row security
-- never applies to a table's owner.
CREATE TABLE IF NOT EXISTS tenant_readers (
    role   text NOT NULL,
    tenant text NOT NULL,
    PRIMARY KEY (role, tenant)
);

COMMENT ON TABLE tenant_readers IS
    'Which tenants a role may see: a member of a role listed here (directly or through other roles) sees only the '
    'rows of its listed tenants; roles not listed see every tenant they may read. Each role sees only its own '
    'entries here. Maintained by the schema''s owner or an administrator.';

COMMENT ON COLUMN tenant_readers.role IS 'A role name (pg_roles.rolname); its members are restricted to its tenants.';
COMMENT ON COLUMN tenant_readers.tenant IS 'A tenant name as in the inventory tables'' tenant column.';

ALTER TABLE tenant_readers ENABLE ROW LEVEL SECURITY;
DO $drop$
BEGIN
    -- Without IF EXISTS's notice on a first run.
    IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'tenant_readers'::regclass AND polname = 'own_entries') THEN
        DROP POLICY own_entries ON tenant_readers;
    END IF;
END
$drop$;
-- Through pg_roles: pg_has_role() fails on a name that is no role (any more).
CREATE POLICY own_entries ON tenant_readers FOR SELECT
    USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                   WHERE r.rolname = tenant_readers.role AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')));
-- Every policy below reads it as the person asking.
GRANT SELECT ON tenant_readers TO PUBLIC;

-- The same policy on every table that holds a tenant's rows. Both subqueries are
-- uncorrelated: each runs once per query, not once per row.
DO $policies$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['software_inventory', 'noncpe_software_inventory', 'software_changes', 'device_presence',
                             'sync_state', 'sync_runs', 'snapshot_files']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = format('%I', t)::regclass AND polname = 'tenant_rows') THEN
            EXECUTE format('DROP POLICY tenant_rows ON %I', t);
        END IF;
        EXECUTE format('CREATE POLICY tenant_rows ON %I FOR ALL '
                       'USING (NOT EXISTS (SELECT 1 FROM tenant_readers) '
                       'OR tenant IN (SELECT r.tenant FROM tenant_readers r)) '
                       'WITH CHECK (NOT EXISTS (SELECT 1 FROM tenant_readers) '
                       'OR tenant IN (SELECT r.tenant FROM tenant_readers r))', t);
        EXECUTE format('COMMENT ON POLICY tenant_rows ON %I IS %L', t,
                       'Members of a role listed in tenant_readers see only its tenants'' rows; others see all.');
    END LOOP;
END
$policies$;
COMMENT ON POLICY own_entries ON tenant_readers IS 'Each role sees only the entries of the roles it is a member of.';

ALTER VIEW inventory_current SET (security_invoker = true);
ALTER VIEW software_catalog SET (security_invoker = true);
ALTER VIEW end_of_support_exposure SET (security_invoker = true);
ALTER VIEW device_weaknesses SET (security_invoker = true);
ALTER VIEW sync_freshness SET (security_invoker = true);

-- mdesync_reader reads the new table and view too (when the role exists; see 0003).
DO $reader$
BEGIN
    -- The role belongs to the cluster: the same lock as 0003's.
    PERFORM pg_advisory_xact_lock(hashtext('mdesync.reader_role'));
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mdesync_reader') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO mdesync_reader', current_schema());
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO mdesync_reader', current_schema());
    END IF;
END
$reader$;
