-- 0001: the inventory tables, sync bookkeeping.
-- Runs with search_path set to the mdesync schema; idempotent on its own.

-- Software with a CPE identifier (SoftwareInventoryByMachine / SoftwareInventoryExport).
CREATE TABLE IF NOT EXISTS software_inventory (
    tenant                        text        NOT NULL,
    device_id                     text        NOT NULL,
    rbac_group_name               text,
    device_name                   text,
    os_platform                   text,
    software_vendor               text        NOT NULL,
    software_name                 text        NOT NULL,
    software_version              text        NOT NULL,
    number_of_weaknesses          integer,
    disk_paths                    text[],
    registry_paths                text[],
    software_first_seen_timestamp timestamptz,
    end_of_support_status         text,
    end_of_support_date           timestamptz,
    first_synced_at               timestamptz NOT NULL DEFAULT now(),
    last_changed_at               timestamptz NOT NULL DEFAULT now(),
    removed_at                    timestamptz,
    PRIMARY KEY (tenant, device_id, software_vendor, software_name, software_version)
);

-- Software without a CPE identifier (SoftwareInventoryNoProductCodeByMachine / SoftwareInventoryNonCpeExport).
CREATE TABLE IF NOT EXISTS noncpe_software_inventory (
    tenant                       text        NOT NULL,
    device_id                    text        NOT NULL,
    rbac_group_id                integer,
    rbac_group_name              text,
    device_name                  text,
    os_platform                  text,
    software_vendor              text        NOT NULL,
    software_name                text        NOT NULL,
    software_version             text        NOT NULL,
    software_last_seen_timestamp timestamptz,
    first_synced_at              timestamptz NOT NULL DEFAULT now(),
    last_changed_at              timestamptz NOT NULL DEFAULT now(),
    removed_at                   timestamptz,
    PRIMARY KEY (tenant, device_id, software_vendor, software_name, software_version)
);

-- One row per tenant and data set. The watermark only moves in the transaction
-- that commits the rows it covers.
CREATE TABLE IF NOT EXISTS sync_state (
    tenant              text        NOT NULL,
    dataset             text        NOT NULL CHECK (dataset IN ('cpe', 'noncpe')),
    watermark           timestamptz,
    last_incremental_at timestamptz,
    last_full_at        timestamptz,
    PRIMARY KEY (tenant, dataset)
);

-- One row per run, written before the run starts and finished when it ends.
CREATE TABLE IF NOT EXISTS sync_runs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant        text        NOT NULL,
    dataset       text        NOT NULL CHECK (dataset IN ('cpe', 'noncpe')),
    mode          text        NOT NULL CHECK (mode IN ('full', 'incremental')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text        NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'guarded', 'abandoned')),
    rows_received bigint      NOT NULL DEFAULT 0,
    rows_upserted bigint      NOT NULL DEFAULT 0,
    rows_removed  bigint      NOT NULL DEFAULT 0,
    rows_rejected bigint      NOT NULL DEFAULT 0,
    error         text
);

CREATE INDEX IF NOT EXISTS sync_runs_tenant_dataset_started
    ON sync_runs (tenant, dataset, started_at DESC);
