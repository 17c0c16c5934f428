# Sourced by install.sh, tests/real/run.sh and tests/python/build.sh (needs $TC: the .toolchain dir).
#
# private_apt NAME SOURCES_LINE: prints the path of an apt.conf (for apt-get -c)
# whose sources, lists, caches and dpkg status all live in .toolchain/apt/NAME.
# It is read after /etc/apt/apt.conf.d, so it also clears the machine's update
# hooks (packagekit, docker-clean, ...) and the DEP-11 download for these runs.
private_apt() {
    local name="$1" line="$2" dir="$TC/apt/$1"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/state"
    [ -f "$dir/state/status" ] || : >"$dir/state/status"
    echo "$line" >"$dir/sources.list"
    cat >"$dir/apt.conf" <<EOF
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State "$dir/state";
Dir::State::Lists "$dir/lists";
Dir::State::status "$dir/state/status";
Dir::Cache "$dir/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Debug::NoLocking "true";
APT::Sandbox::User "$(id -un)";
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled "false";
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Post-Invoke;
EOF
    echo "$dir/apt.conf"
}


# fetch_bookworm_source PKG DIR LOGDIR: downloads PKG's source package (.dsc
# and tarballs) from bookworm's deb-src into DIR once, through a private apt
# configuration; prints the .dsc's path. On failure, says why on stderr
# (with the end of the log in LOGDIR) and returns 1. Used by the test
# builds of third-party programs (tests/real/run.sh, tests/python/build.sh).
fetch_bookworm_source() {
    local pkg=$1 dir=$2 logs=$3 conf dsc
    if [ -f "$dir/.complete" ] && [ -f "$(cat "$dir/.complete")" ]; then cat "$dir/.complete"; return; fi
    conf=$(private_apt bookworm-src "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main")
    rm -rf "$dir" && mkdir -p "$dir" "$logs"
    if ! (cd "$dir" && apt-get -q -c "$conf" source --download-only "$pkg") >"$logs/fetch-$pkg.log" 2>&1; then
        # The private lists may be missing or stale: update them once.
        if ! apt-get -q -c "$conf" update >"$logs/apt-update.log" 2>&1; then
            echo "apt-get update (bookworm deb-src) failed:" >&2
            tail -n 20 "$logs/apt-update.log" | sed 's/^/    | /' >&2
            return 1
        fi
        if ! (cd "$dir" && apt-get -q -c "$conf" source --download-only "$pkg") >"$logs/fetch-$pkg.log" 2>&1; then
            echo "apt-get source $pkg failed:" >&2
            tail -n 20 "$logs/fetch-$pkg.log" | sed 's/^/    | /' >&2
            return 1
        fi
    fi
    dsc=$(ls "$dir"/*.dsc 2>/dev/null | head -n1)
    [ -n "$dsc" ] || { echo "no .dsc for $pkg in $dir" >&2; return 1; }
    echo "$dsc" >"$dir/.complete"
    echo "$dsc"
}
