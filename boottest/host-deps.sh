#!/usr/bin/env bash
# Installs what the boot test needs on the host (a fresh Debian bookworm
# machine, as root): QEMU, the image tools and the clients the checks use.
# The docker CLI is not installed here (bookworm ships it only inside
# docker.io, with a daemon): the manager check also works without it.
set -euo pipefail
pkgs=(qemu-system-x86 qemu-utils debootstrap e2fsprogs iproute2
  util-linux etcd-client curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "boottest host tools: ok"
