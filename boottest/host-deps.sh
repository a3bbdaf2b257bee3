#!/usr/bin/env bash
# Installs what the boot test needs on the host (a fresh Debian bookworm
# machine, as root): QEMU, the image tools and the clients the checks use.
set -euo pipefail
# apt-utils: apt-ftparchive indexes image/build.sh's local apt repository
# (forky-localrepo); util-linux: flock; curl: .debs that cache lacks.
# docker.io: bookworm ships the docker CLI (`docker info` on the manager)
# only inside it; its containerd runs the Docker 29 daemon of the negative
# control on the host (no service is started here). etcd-server: that
# control's etcd.
pkgs=(qemu-system-x86 qemu-utils debootstrap e2fsprogs iproute2
  util-linux etcd-client curl apt-utils docker.io etcd-server)
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
