# Shared by scripts/test, scripts/demo and scripts/bench: packages, build, throwaway PostgreSQL.
# Sourced, not run. Expects $root (the repository) to be set.

PG_BIN=/usr/lib/postgresql/15/bin

# Debian packages the build and the tests need (Debian 12).
MDESYNC_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev libsimdjson-dev libpqxx-dev libpq-dev zlib1g-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libsystemd-dev
  postgresql-15 postgresql-client-15 ca-certificates
)
# clang and its libFuzzer/ASan/UBSan runtimes, for scripts/fuzz (also run by scripts/test).
MDESYNC_FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

ensure_packages() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "not root and no sudo: install ${missing[*]} first"; return 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures once, then builds incrementally. BUILD_DIR defaults to build/.
build_project() {
  local dir="${BUILD_DIR:-$root/build}"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$dir" -j "$(nproc)"
}

# A TCP port nobody listens on (the server start still fails loudly if we race).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Runs a command as the unprivileged owner of the cluster (PostgreSQL refuses root).
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Starts a throwaway PostgreSQL 15 in a temp dir on a free port with a private
# socket dir. Sets PG_DIR, PG_PORT, PG_URL. Stop it with pg_stop.
pg_start() {
  PG_DIR=$(mktemp -d /tmp/mdesync-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
  ( cd / && as_pg_user "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -E UTF8 --locale=C.UTF-8 -U postgres >"$PG_DIR/initdb.log" 2>&1 ) \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  local tries
  for tries in 1 2 3 4 5; do
    PG_PORT=$(free_port)
    if ( cd / && as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
          -o "-p $PG_PORT -k $PG_DIR/sock -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-on} ${PG_OPTIONS:-}" >/dev/null ); then
      PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
      export PG_DIR PG_PORT PG_URL
      return 0
    fi
  done
  cat "$PG_DIR/server.log" >&2
  return 1
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    ( cd / && as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 ) || true
  fi
  rm -rf "$PG_DIR"
  PG_DIR=""
}
