-- 0005: every value the API sends is stored. Runs with search_path set to the
-- mdesync schema; every statement may run twice.

-- What a record carries beyond the documented fields, exactly as sent, and under
-- "_original" the value as sent of each field altered to be stored (U+0000,
-- which text cannot hold; a non-integer in an integer column). NULL when empty.
ALTER TABLE software_inventory ADD COLUMN IF NOT EXISTS extra_fields jsonb;
ALTER TABLE noncpe_software_inventory ADD COLUMN IF NOT EXISTS extra_fields jsonb;

COMMENT ON COLUMN software_inventory.extra_fields IS
    'Fields the API sent beyond the documented ones, as sent; "_original" holds, by field name, the JSON text as '
    'sent of each value that had to be altered to be stored (U+0000 removed, a non-integer stored as NULL).';
COMMENT ON COLUMN noncpe_software_inventory.extra_fields IS
    'Fields the API sent beyond the documented ones, as sent; "_original" holds, by field name, the JSON text as '
    'sent of each value that had to be altered to be stored (U+0000 removed, a non-integer stored as NULL).';

-- No index may hold an unbounded non-key column: a btree entry is at most 2704
-- bytes, and a long device name must never cost a record. device_weaknesses
-- reads the names from the table, one device at a time through the key.
DROP INDEX IF EXISTS software_inventory_vulnerable_by_device;
CREATE INDEX IF NOT EXISTS software_inventory_vulnerable_by_device
    ON software_inventory (tenant, device_id)
    INCLUDE (number_of_weaknesses)
    WHERE removed_at IS NULL AND number_of_weaknesses > 0;

-- The counts come from the index alone (an index-only scan of the vulnerable
-- rows); the device's names are read from one of its rows through the primary
-- key (every current row of a device carries the names the last sync sent).
CREATE OR REPLACE VIEW device_weaknesses AS
SELECT w.tenant, w.device_id, d.device_name, d.os_platform, d.rbac_group_name,
       w.vulnerable_software, w.weaknesses, w.worst_software_weaknesses
FROM (
    SELECT tenant, device_id,
           count(*) AS vulnerable_software,
           sum(number_of_weaknesses) AS weaknesses,
           max(number_of_weaknesses) AS worst_software_weaknesses
    FROM software_inventory
    WHERE removed_at IS NULL AND number_of_weaknesses > 0
    GROUP BY tenant, device_id
) w
CROSS JOIN LATERAL (
    SELECT s.device_name, s.os_platform, s.rbac_group_name
    FROM software_inventory s
    WHERE s.tenant = w.tenant AND s.device_id = w.device_id AND s.removed_at IS NULL
    ORDER BY s.software_vendor, s.software_name, s.software_version
    LIMIT 1
) d;

COMMENT ON VIEW device_weaknesses IS
    'Per device, the installed software with known weaknesses (CPE data set): how many such products, and the '
    'sum of their weakness counts. ORDER BY weaknesses DESC for the most exposed devices.';

-- The service sends endOfSupportStatus "None" for software without end-of-support
-- information: like NULL and '', it is no information.
DROP INDEX IF EXISTS software_inventory_end_of_support;
CREATE INDEX IF NOT EXISTS software_inventory_end_of_support
    ON software_inventory (end_of_support_date)
    WHERE removed_at IS NULL
      AND (end_of_support_date IS NOT NULL OR coalesce(end_of_support_status, '') NOT IN ('', 'None'));

CREATE OR REPLACE VIEW end_of_support_exposure AS
SELECT tenant, device_id, device_name, os_platform, rbac_group_name,
       software_vendor, software_name, software_version, number_of_weaknesses,
       end_of_support_status, end_of_support_date,
       CASE WHEN end_of_support_status IN ('EOS Version', 'EOS Software') OR end_of_support_date <= now()
            THEN 'past' ELSE 'near' END AS exposure,
       (end_of_support_date::date - current_date) AS days_left
FROM software_inventory
WHERE removed_at IS NULL
  AND (end_of_support_date IS NOT NULL OR coalesce(end_of_support_status, '') NOT IN ('', 'None'))
  AND (end_of_support_date IS NULL OR end_of_support_date < now() + interval '180 days'
       OR end_of_support_status IN ('EOS Version', 'EOS Software'));

COMMENT ON VIEW end_of_support_exposure IS
    'Installed software (CPE data set) past its end of support or reaching it within 180 days: exposure = past | '
    'near, days_left negative when past. Defender''s endOfSupportStatus and endOfSupportDate as synced; a status of '
    'None, empty or NULL without a date is no end-of-support information and is left out.';

-- What a run altered, met for the first time, or rejected.
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS rows_altered bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS undocumented_fields jsonb;
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS rejections jsonb;
COMMENT ON COLUMN sync_runs.rows_altered IS
    'Records stored with a value altered to fit (see extra_fields._original).';
COMMENT ON COLUMN sync_runs.undocumented_fields IS
    'Field names beyond the documented ones, as sent, with the number of records that carried each.';
COMMENT ON COLUMN sync_runs.rejections IS
    'The first rejected records of the run: [{"where": page or file and position, "reason": ...}].';

-- Staging tables now carry extra_fields and have hashed names (see
-- SyncStore::snapshot_stage): a snapshot staged by an older version starts over.
DO $stages$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'
               AND c.relname LIKE 'stage\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS %I', t);
    END LOOP;
END
$stages$;
DELETE FROM snapshot_files;
