-- 0007: a row a snapshot repeats unchanged is no longer staged as a marker row;
-- each staged file keeps the digests of the rows it repeated, so a restarted
-- snapshot still knows they were seen (and does not remove them).
ALTER TABLE snapshot_files ADD COLUMN IF NOT EXISTS seen_digests uuid[];

COMMENT ON COLUMN snapshot_files.seen_digests IS
  'Digests (row_digest) of the current rows this file repeated unchanged: not staged, but seen.';
