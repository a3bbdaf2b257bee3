#!/usr/bin/env bash
# Builds the boot test's VM image: a Debian bookworm root filesystem made by
# debootstrap (no loop mounts: mkfs.ext4 -d turns the tree into a disk), plus
# the kernel and initrd copied out for QEMU direct kernel boot.
#
# usage: build.sh CACHE_DIR SWARM_ARCHIVE
#   SWARM_ARCHIVE  a `docker load` archive of swarm:1.2.9, baked in at
#                  /var/lib/swarmboot/swarm-1.2.9.tar (the nodes load it)
#
# Two cache levels, so a second run does no work:
#   CACHE_DIR/rootfs-<k1>/  the debootstrap tree; k1 = sha256 of this script
#                           (the package list) and of files/ (the tweaks)
#   CACHE_DIR/image-<k2>/   rootfs.qcow2, vmlinuz, initrd.img, packages.txt;
#                           k2 = sha256 of k1 and the swarm archive
# The last line on stdout is the image directory.
#
# Nothing here configures the cluster: the image is a generic Debian host
# with the packages installed as Debian ships them (etcd and docker enabled
# with their defaults). Only the swarmboot user-data turns it into a node.
# The boot-test-only tweaks (files/ and below): NoCloud datasource, a
# locale that exists in minbase, systemd-networkd on, journald copying the
# journal to the second virtio console (hvc0) for the host's failure
# reports, an empty machine-id. For the Ignition path: the agent in the
# initramfs, run on first boot when QEMU's fw_cfg carries a config, and the
# Flatcar stand-ins (etcd-member.service running Debian's etcd,
# /usr/bin/dockerd); inert on cloud-init boots.
set -euo pipefail

# Packages beyond minbase. apparmor: without it every container fails to
# start (docker-default profile cannot be loaded). python3-cffi-backend:
# cloud-init's dependencies fail to configure without it. ignition: the
# agent (Debian 2.14.0) for the Ignition part of the test.
PACKAGES=(
  linux-image-cloud-amd64 systemd-sysv udev dbus cloud-init
  etcd-server etcd-client docker.io iproute2 curl apparmor
  python3-cffi-backend ignition
)
SUITE=bookworm
DISK_SIZE=4G

cache="${1:?usage: build.sh CACHE_DIR SWARM_ARCHIVE}"
archive="${2:?usage: build.sh CACHE_DIR SWARM_ARCHIVE}"
[ -f "$archive" ] || { echo "build.sh: no swarm archive at $archive" >&2; exit 1; }
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"

log() { echo "image: $*" >&2; }

# The mirror is the one this machine's apt already uses (override with
# BOOTTEST_MIRROR), so the script names no host of its own.
mirror() {
  if [ -n "${BOOTTEST_MIRROR:-}" ]; then echo "$BOOTTEST_MIRROR"; return; fi
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' \
      /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
      /etc/apt/sources.list)"
  fi
  [ -n "$m" ] || { echo "build.sh: cannot tell the Debian mirror; set BOOTTEST_MIRROR" >&2; exit 1; }
  echo "$m"
}

# k1 covers this script (the package list) and every file under files/.
k1="$(cd "$here" && find build.sh files -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)"
k2="$( (echo "$k1"; sha256sum <"$archive") | sha256sum | cut -c1-16)"
rootfs="$cache/rootfs-$k1"
image="$cache/image-$k2"

if [ -f "$image/done" ]; then
  log "cached: $image"
  echo "$image"
  exit 0
fi

# Stage 1: the debootstrap tree.
if [ ! -f "$rootfs/done" ]; then
  start=$SECONDS
  rm -rf "$rootfs" && mkdir -p "$rootfs" "$cache/debs"
  tree="$rootfs/tree"
  include="$(IFS=,; echo "${PACKAGES[*]}")"
  log "debootstrap $SUITE minbase from $(mirror) (a few minutes)"
  if ! debootstrap --variant=minbase --include="$include" --cache-dir="$cache/debs" \
      "$SUITE" "$tree" "$(mirror)" >"$rootfs/debootstrap.log" 2>&1; then
    tail -n 40 "$rootfs/debootstrap.log" >&2
    [ -f "$tree/debootstrap/debootstrap.log" ] && tail -n 40 "$tree/debootstrap/debootstrap.log" >&2
    exit 1
  fi

  # Guest configuration for the test harness (see the header): the files
  # under files/, an empty machine-id (each VM makes its own, and systemd
  # treats the first boot as such), no fixed hostname, networkd on, and
  # /usr/bin/dockerd for units rendered for Flatcar (which keeps it there).
  cp -R --preserve=mode "$here/files/." "$tree/"
  mkdir -p "$tree/var/lib/swarmboot"
  echo '/dev/vda / ext4 defaults 0 1' >"$tree/etc/fstab"
  : >"$tree/etc/machine-id"
  rm -f "$tree/var/lib/dbus/machine-id" "$tree/etc/hostname"
  ln -sf /usr/sbin/dockerd "$tree/usr/bin/dockerd"
  chroot "$tree" systemctl enable systemd-networkd.service >/dev/null 2>&1
  chroot "$tree" update-initramfs -u -k all >>"$rootfs/debootstrap.log" 2>&1
  chroot "$tree" dpkg-query -W -f '${Package} ${Version}\n' >"$rootfs/packages.txt"
  rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
  touch "$rootfs/done"
  log "rootfs built in $((SECONDS - start)) s"
fi

# Stage 2: the disk image with the swarm archive baked in.
start=$SECONDS
rm -rf "$image.tmp" && mkdir -p "$image.tmp"
tree="$rootfs/tree"
install -m 0644 "$archive" "$tree/var/lib/swarmboot/swarm-1.2.9.tar"
kernel="$(ls "$tree"/boot/vmlinuz-* | sort -V | tail -n1)"
initrd="$(ls "$tree"/boot/initrd.img-* | sort -V | tail -n1)"
cp "$kernel" "$image.tmp/vmlinuz"
cp "$initrd" "$image.tmp/initrd.img"
cp "$rootfs/packages.txt" "$image.tmp/packages.txt"
mkfs.ext4 -q -F -L root -d "$tree" "$image.tmp/rootfs.raw" "$DISK_SIZE"
qemu-img convert -O qcow2 "$image.tmp/rootfs.raw" "$image.tmp/rootfs.qcow2"
rm -f "$image.tmp/rootfs.raw"
touch "$image.tmp/done"
rm -rf "$image" && mv "$image.tmp" "$image"
log "disk image made in $((SECONDS - start)) s"

# Drop what older script versions or archives left behind.
for d in "$cache"/rootfs-* "$cache"/image-*; do
  case "$d" in "$rootfs" | "$image") ;; *) rm -rf "$d" ;; esac
done
echo "$image"
