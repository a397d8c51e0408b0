#!/usr/bin/env bash
# Installs the system packages spinegw builds against (Debian 12): libxml2
# and SQLite headers for cgo, and pkg-config to find them. Does nothing when
# they are already there.
set -euo pipefail
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
  pkg-config --exists libxml-2.0 || missing+=(libxml2-dev)
  pkg-config --exists sqlite3 || missing+=(libsqlite3-dev)
else
  missing+=(libxml2-dev libsqlite3-dev)
fi
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
