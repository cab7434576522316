# shellcheck shell=bash
# Azurite, Microsoft's Azure Storage emulator, for the test that downloads
# export files from real Blob Storage semantics. Sourced, not run; needs
# common.sh (log, ensure_packages) and $root.

# The major version the test is written against (its flags and SAS handling).
AZURITE_PACKAGE=azurite@3

# Installs azurite once under $BUILD_DIR/azurite (about 190 MB, 30-45 s) and
# exports MDESYNC_AZURITE, the azurite-blob executable the test starts. A later
# run finds the executable and installs nothing.
ensure_azurite() {
  local dir="${BUILD_DIR:-$root/build}/azurite"
  local bin="$dir/node_modules/.bin/azurite-blob"
  if [ ! -x "$bin" ]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      ensure_packages nodejs npm
    fi
    log "installing $AZURITE_PACKAGE into $dir"
    mkdir -p "$dir"
    # --prefix keeps it out of the repository's (absent) package.json and out of
    # the global node_modules; quiet so a passing test run stays short.
    npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier --loglevel=error \
      "$AZURITE_PACKAGE" >/dev/null || { log "npm install $AZURITE_PACKAGE failed"; return 1; }
    [ -x "$bin" ] || { log "npm installed $AZURITE_PACKAGE but $bin is missing"; return 1; }
  fi
  export MDESYNC_AZURITE="$bin"
}
