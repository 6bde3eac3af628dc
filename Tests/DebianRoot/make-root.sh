#!/usr/bin/env bash
# Builds a riscv64 root file system from Debian trixie's official riscv64 packages, for the
# tests that run real Debian programs under pagelift (-L ROOT). apt runs with a private state
# folder: the machine's own sources and package database are not touched, and no maintainer
# script runs (the packages are only unpacked).
#
#   make-root.sh ROOT [PACKAGE...]
#
# The downloaded packages are kept in ROOT.apt, so a second call on the same machine only
# unpacks what changed. Prints ROOT when it is ready.
set -euo pipefail
root=${1:?usage: make-root.sh ROOT [PACKAGE...]}
shift
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(bash coreutils python3-minimal libpython3.13-stdlib perl-base sed grep gawk make gcc libc6-dev binutils git findutils)

root=$(realpath -m "$root")
state="$root.apt"
stamp="$root/.pagelift-root"
want="${packages[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "$root"; exit 0; fi

command -v apt-get >/dev/null || { echo "make-root.sh: apt-get is needed" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ ! -f "$keyring" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debian-archive-keyring >/dev/null
fi
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc" "$state/status"
echo "deb [arch=riscv64 signed-by=$keyring] http://deb.debian.org/debian trixie main" > "$state/etc/sources.list"
touch "$state/status/status"
apt=(-o Dir::Etc::sourcelist="$state/etc/sources.list" -o Dir::Etc::sourceparts=- -o Dir::Etc::preferencesparts=-
     -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o Dir::State::status="$state/status/status"
     -o APT::Architecture=riscv64 -o APT::Architectures=riscv64 -o Debug::NoLocking=1
     -o APT::Install-Recommends=false -o Acquire::Retries=3)
apt-get "${apt[@]}" -qq update
apt-get "${apt[@]}" -qq install --download-only -y "${packages[@]}" >/dev/null

rm -rf "$root"
mkdir -p "$root/usr/bin" "$root/usr/lib" "$root/usr/sbin" "$root/etc" "$root/tmp"
# Merged /usr, as Debian's base-files would make it.
ln -s usr/bin "$root/bin"; ln -s usr/lib "$root/lib"; ln -s usr/sbin "$root/sbin"
for deb in "$state"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
# What maintainer scripts would have made: the default alternatives.
[ -e "$root/usr/bin/awk" ] || { [ -e "$root/usr/bin/gawk" ] && ln -s gawk "$root/usr/bin/awk"; }
[ -e "$root/usr/bin/sh" ] || ln -s bash "$root/usr/bin/sh"
for tool in gcc cpp g++; do
  [ -e "$root/usr/bin/$tool" ] || { versioned=$(ls "$root/usr/bin/" | grep -E "^riscv64-linux-gnu-$tool-[0-9]+$" | head -1); [ -n "$versioned" ] && ln -s "$versioned" "$root/usr/bin/$tool"; } || true
done
echo "$want" > "$stamp"
echo "$root"
