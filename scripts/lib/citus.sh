# Sourced after common.sh. A throwaway Citus cluster on loopback: a coordinator
# and two workers, each a pg_start()ed PostgreSQL 15 with shared_preload_libraries
# = citus. Citus itself (13.2.2, built from ../shared/citus once, as root) is an
# external server extension: nothing of it is linked into mdesync.

# Builds and installs Citus into PostgreSQL 15 when it is not there yet.
ensure_citus() {
  [ -f /usr/lib/postgresql/15/lib/citus.so ] && return 0
  local installer="$root/../shared/citus/install.sh"
  [ -f "$installer" ] || { log "Citus is not installed and $installer is missing"; return 1; }
  # install.sh's build also needs the GSSAPI headers PostgreSQL's server headers include.
  ensure_packages libkrb5-dev
  log "building Citus into PostgreSQL 15 (once, 2-3 minutes)"
  if [ "$(id -u)" -eq 0 ]; then
    bash "$installer" >&2
  else
    sudo bash "$installer" >&2
  fi
}

# Sets CITUS_URL (the coordinator) and CITUS_DIRS; stop with citus_stop.
citus_start() {
  local saved_dir=${PG_DIR:-} saved_port=${PG_PORT:-} saved_url=${PG_URL:-} saved_options=${PG_OPTIONS:-}
  local role urls=() ports=()
  CITUS_DIRS=()
  for role in coordinator worker1 worker2; do
    # CITUS_SHARD_COUNT: shards per distributed table (Citus' default 32); the
    # tests make it small, since every test schema creates its tables anew.
    PG_OPTIONS="-c shared_preload_libraries=citus -c max_connections=200 -c citus.shard_count=${CITUS_SHARD_COUNT:-32} $saved_options" pg_start || return 1
    CITUS_DIRS+=("$PG_DIR")
    urls+=("$PG_URL")
    ports+=("$PG_PORT")
    psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c "CREATE EXTENSION citus" >/dev/null || return 1
  done
  CITUS_URL=${urls[0]}
  psql -X -q -v ON_ERROR_STOP=1 "$CITUS_URL" \
    -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null || return 1
  PG_DIR=$saved_dir PG_PORT=$saved_port PG_URL=$saved_url PG_OPTIONS=$saved_options
  export CITUS_URL
}

citus_stop() {
  local saved_dir=${PG_DIR:-} d
  for d in "${CITUS_DIRS[@]:-}"; do
    [ -n "$d" ] || continue
    PG_DIR=$d pg_stop
  done
  CITUS_DIRS=()
  PG_DIR=$saved_dir
}
