#!/usr/bin/env bash
# Installs what PageLift needs on a Debian 12 machine, only what is missing.
set -euo pipefail
need=()
for pkg in llvm-19-dev llvm-19 gcc-riscv64-linux-gnu g++-riscv64-linux-gnu qemu-user binutils-riscv64-linux-gnu golang-go; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
