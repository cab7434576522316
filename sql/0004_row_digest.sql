-- 0004: a fingerprint per row (the first 128 bits of SHA-256 over the row's
-- values as mdesync received them), so a full snapshot can skip the rows it
-- repeats unchanged instead of sending and comparing every one of them.
-- NULL for rows written before this migration: the next full sync fills it in
-- without counting the row as changed.
ALTER TABLE software_inventory ADD COLUMN IF NOT EXISTS row_digest uuid;
ALTER TABLE noncpe_software_inventory ADD COLUMN IF NOT EXISTS row_digest uuid;
