-- 0002: full snapshots from the export files.

-- The generatedTime of the last export snapshot applied: the same snapshot is
-- never downloaded twice.
ALTER TABLE sync_state ADD COLUMN IF NOT EXISTS snapshot_generated_at timestamptz;

-- Export files already staged for a snapshot that is not applied yet. With the
-- unlogged staging table they let a restart download only the rest.
CREATE TABLE IF NOT EXISTS snapshot_files (
    tenant        text        NOT NULL,
    dataset       text        NOT NULL CHECK (dataset IN ('cpe', 'noncpe')),
    generated_at  timestamptz NOT NULL,
    file          text        NOT NULL,   -- the file's URL without its query (no SAS signature)
    rows_staged   bigint      NOT NULL,
    rows_rejected bigint      NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, dataset, generated_at, file)
);

-- What a guarded run held back, so an operator can judge it before --force.
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS snapshot_generated_at timestamptz;
ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS removals_held_back bigint;
