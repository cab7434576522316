# shellcheck shell=bash
# What the systemd unit test (tests/integration/systemd) boots: a cached Debian 12
# root for systemd-nspawn, and mdesync packaged as a .deb by CPack with the /usr
# prefix. Sourced, not run; needs common.sh (log, ensure_packages) and $root.
# shellcheck disable=SC2154  # $root is the sourcing script's

SYSTEMD_ROOT_SUITE=bookworm
# Besides mdesync's own libraries (the .deb's Depends): systemd as PID 1, D-Bus for
# systemctl, nss-systemd so DynamicUser's "mdesync" resolves, and CA certificates.
SYSTEMD_ROOT_PACKAGES=(systemd systemd-sysv dbus libnss-systemd ca-certificates)

# The Debian archive this machine installs from (the container must fetch from
# the same place: nothing else may be reachable). MDESYNC_DEBIAN_MIRROR overrides.
debian_mirror() {
  if [ -n "${MDESYNC_DEBIAN_MIRROR:-}" ]; then
    echo "$MDESYNC_DEBIAN_MIRROR"
    return
  fi
  local url
  # deb822 sources: the URIs of the stanza whose Suites name the release itself.
  url=$(awk -v suite="$SYSTEMD_ROOT_SUITE" '
      /^[[:space:]]*$/ { if (uris != "" && ok) { print uris; exit } uris = ""; ok = 0; next }
      /^URIs:/ { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (uris != "" && ok) print uris }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  if [ -z "$url" ]; then
    url=$(awk -v suite="$SYSTEMD_ROOT_SUITE" '$1 == "deb" && $0 ~ " " suite " " {
        for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
  fi
  echo "${url:-http://deb.debian.org/debian}"
}

# Removes a directory tree debootstrap may have left mounts in (it mounts /proc
# and /sys inside its target; a killed run leaves them), never crossing into them.
remove_tree() {
  local tree=$1 mount
  [ -e "$tree" ] || return 0
  while read -r mount; do
    umount -l "$mount" 2>/dev/null || true
  done < <(awk -v p="$tree/" 'index($5 "/", p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$tree"
}

# The package names a .deb depends on (versions and alternatives dropped).
deb_depends() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep -v '^$' | sort -u
}

# ensure_systemd_root DIR [PACKAGE...]: DIR/root is a debootstrapped Debian 12 with
# SYSTEMD_ROOT_PACKAGES and the given ones. DIR/complete lists what was asked
# for; it is written last, so a root without it (an interrupted run) is rebuilt,
# and so is one made for another list: a root with more than the package
# declares would hide a missing dependency. Tests boot it with
# --volatile=overlay, so it stays as debootstrap left it.
ensure_systemd_root() {
  local dir=$1
  shift
  local want have package marker="$dir/complete"
  want=$(printf '%s\n' "${SYSTEMD_ROOT_PACKAGES[@]}" "$@" | sort -u)
  if [ -f "$marker" ] && [ -d "$dir/root" ]; then
    have=$(sed -n 's/^package //p' "$marker" | sort -u)
    [ "$want" = "$have" ] && return 0
    log "the cached root in $dir was made for other packages ($(diff <(echo "$have") <(echo "$want") |
      sed -n 's/^\([<>]\) /\1/p' | tr '\n' ' ')); rebuilding it"
  fi
  ensure_packages debootstrap
  local mirror started
  mirror=$(debian_mirror)
  mkdir -p "$dir"
  rm -f "$marker"
  remove_tree "$dir/root.new"
  remove_tree "$dir/root"
  log "debootstrap $SYSTEMD_ROOT_SUITE from $mirror into $dir/root (about 3 minutes, once)"
  started=$(date +%s)
  if ! debootstrap --variant=minbase --include="$(echo "$want" | paste -sd, -)" \
        "$SYSTEMD_ROOT_SUITE" "$dir/root.new" "$mirror" >"$dir/debootstrap.log" 2>&1; then
    tail -n 30 "$dir/debootstrap.log" >&2
    log "debootstrap failed (full log: $dir/debootstrap.log)"
    remove_tree "$dir/root.new"
    return 1
  fi
  # apt's downloaded archives are not needed to boot; 40 MB less in the cache.
  rm -rf "$dir/root.new/var/cache/apt/archives/"*.deb
  mv "$dir/root.new" "$dir/root"
  {
    echo "suite $SYSTEMD_ROOT_SUITE"
    echo "mirror $mirror"
    echo "seconds $(( $(date +%s) - started ))"
    while read -r package; do echo "package $package"; done <<<"$want"
  } >"$marker"
  log "debootstrap done in $(( $(date +%s) - started )) s"
}

# build_mdesync_deb BUILD_DIR: prints the path of mdesync_<version>_<arch>.deb, made
# by CPack in BUILD_DIR/package, a second build tree configured with the /usr
# prefix (the prefix decides where the config goes and that it is a conffile).
#
# Compiling mdesync a second time would add minutes to every CI run, and the
# prefix is not compiled into the binary. So the package tree takes BUILD_DIR's
# mdesync when both trees compile and link it with the same commands (compared
# below), and builds its own when they do not. CMAKE_SKIP_INSTALL_ALL_DEPENDENCY
# keeps cpack's preinstall step from building everything else in that tree.
build_mdesync_deb() {
  local build pkg
  build=$(cd "$1" && pwd)
  pkg="$build/package"
  mkdir -p "$pkg"
  # Configured every time (about a second), so it follows CMakeLists changes.
  cmake -S "$root" -B "$pkg" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DMDESYNC_BUILD_TESTS=OFF -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >"$pkg/configure.log" 2>&1 \
    || { cat "$pkg/configure.log" >&2; return 1; }
  cmake --build "$build" --target mdesync >/dev/null || return 1
  if [ -f "$build/build.ninja" ] &&
     cmp -s <(ninja -C "$build" -t commands mdesync | sed "s#$build/#TREE/#g") \
            <(ninja -C "$pkg" -t commands mdesync | sed "s#$pkg/#TREE/#g"); then
    mkdir -p "$pkg/bin"
    cmp -s "$build/bin/mdesync" "$pkg/bin/mdesync" || cp -p "$build/bin/mdesync" "$pkg/bin/mdesync"
  else
    log "the package tree compiles mdesync differently from $build; building it there"
    cmake --build "$pkg" --target mdesync >/dev/null || return 1
  fi
  # Packaging takes a few seconds (dpkg-shlibdeps); skip it when nothing it packs changed.
  local stamp
  stamp=$(cat "$pkg/bin/mdesync" "$root/CMakeLists.txt" "$root/systemd/mdesync.service" \
            "$root/config/mdesync.example.yaml" "$root"/sql/* | sha256sum | cut -d' ' -f1)
  local deb
  deb=$(find "$pkg" -maxdepth 1 -name 'mdesync_*.deb' | head -n1)
  if [ -z "$deb" ] || [ "$(cat "$pkg/deb.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -f "$pkg"/mdesync_*.deb "$pkg/deb.stamp"
    (cd "$pkg" && cpack -G DEB) >"$pkg/cpack.log" 2>&1 || { cat "$pkg/cpack.log" >&2; return 1; }
    deb=$(find "$pkg" -maxdepth 1 -name 'mdesync_*.deb' | head -n1)
    [ -n "$deb" ] || { cat "$pkg/cpack.log" >&2; log "cpack made no .deb"; return 1; }
    echo "$stamp" >"$pkg/deb.stamp"
  fi
  echo "$deb"
}
