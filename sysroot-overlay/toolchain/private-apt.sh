# Sourced by install.sh and tests/real/run.sh (needs $TC: the .toolchain dir).
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

