#!/usr/bin/env bash
# Builds a VM image for the boot test: a Debian root filesystem made by
# debootstrap (no loop mounts: mkfs.ext4 -d turns the tree into a disk), plus
# the kernel and initrd copied out for QEMU direct kernel boot.
#
# usage: build.sh CACHE_DIR SWARM_ARCHIVE [VARIANT]
#   SWARM_ARCHIVE  a `docker load` archive of swarm:1.2.9, baked in at
#                  /var/lib/swarmboot/swarm-1.2.9.tar (the nodes load it)
#   VARIANT        one of (default bookworm):
#     bookworm         Debian 12 with etcd-server 3.4, docker.io 20.10,
#                      cloud-init 22.4 and netplan.io installed (cloud-init
#                      renders network-config through netplan, as on Debian's
#                      cloud images from 12 on); the only variant with the
#                      Ignition agent and the Flatcar stand-ins (files/ignition)
#                      in it, so the Ignition test runs on it. The stack
#                      swarmboot was first proven on.
#     forky            Debian forky (testing) with etcd-server 3.5, docker.io
#                      28.5, docker-cli, cloud-init 26.2, systemd 262: today's
#                      Debian. docker-cli is its own package from Debian 13 on,
#                      only recommended by docker.io (debootstrap installs no
#                      recommends), so it is listed. Its initramfs is dracut's;
#                      no Ignition agent (the initramfs-tools hook does not
#                      apply, and Ignition is tested on bookworm).
#     forky-docker29   forky whose /usr/sbin/dockerd and /usr/sbin/docker-proxy
#                      are Docker 29's, built from moby's Go module at the
#                      version pinned in build-dockerd.sh (dpkg-diverted): the
#                      engine whose minimum API version (1.40) classic swarm
#                      (API 1.31) runs into. A copy of forky's tree, not a
#                      debootstrap of its own.
#     forky-localrepo  forky WITHOUT etcd-server, etcd-client, docker.io and
#                      docker-cli, whose only apt source is a local repository
#                      in the image (/var/lib/swarmboot/repo, `deb [trusted=yes]
#                      file:...`) holding those packages and every dependency
#                      they need that the image lacks, so that cloud-init's
#                      `packages:` installs them at first boot: the path users
#                      take. apt installs no recommends here (as debootstrap
#                      did for the others), so user-data that leaves out
#                      docker-cli gets no /usr/bin/docker, as on such images.
#
# Two cache levels per variant, so a second run does no work:
#   CACHE_DIR/rootfs-<variant>-<k1>/  the tree; k1 = sha256 of the variant,
#                        this script and files/ (and for forky-docker29 of
#                        the Docker 29 binaries, which stand for
#                        build-dockerd.sh and its pinned version)
#   CACHE_DIR/image-<variant>-<k2>/   rootfs.qcow2, vmlinuz, initrd.img,
#                        packages.txt (dpkg's list), enabled-units.txt (what
#                        the presets leave enabled), dockerd.txt
#                        (forky-docker29), repo.txt (forky-localrepo);
#                        k2 = sha256 of k1 and the swarm archive
#   CACHE_DIR/debs-<suite>/          .debs debootstrap fetched (per suite)
#   CACHE_DIR/dockerd-<version>-cgo<n>/  build-dockerd.sh's output
# A build drops only the stale dirs of its own variant. Builds sharing a
# cache run one at a time (flock). The last line on stdout is the image dir.
#
# Nothing here configures the cluster: the image is a generic Debian host
# with the packages as Debian ships them. Only the swarmboot user-data turns
# it into a node. The boot-test-only tweaks (files/ and below):
#   every variant (files/all): NoCloud datasource, a locale that exists in
#     minbase, journald copying the journal to the second virtio console
#     (hvc0) for the host's failure reports, an empty machine-id, and the
#     presets: 80-boottest.preset enables the image's own infrastructure
#     (cloud-init, systemd-networkd, AppArmor), 99-default-disable.preset
#     (`disable *`, as on Flatcar and Fedora CoreOS) disables everything
#     else, applied in full here. So etcd, docker and the swarm units run
#     only if the user-data enables them.
#   bookworm only (files/ignition): the Ignition agent in the initramfs, run
#     on first boot when QEMU's fw_cfg carries a config, and the Flatcar
#     stand-ins (etcd-member.service running Debian's etcd, disabled until an
#     Ignition preset enables it; /usr/bin/dockerd); inert on cloud-init
#     boots.
set -euo pipefail

# Packages beyond minbase. apparmor: without it every container fails to
# start (docker-default profile cannot be loaded); docker.io only recommends
# it. python3-cffi-backend: cloud-init's dependencies fail to configure
# without it (python3-cryptography depends on virtual packages it provides,
# which debootstrap does not resolve). Both still so on forky.
BASE_PACKAGES=(
  linux-image-cloud-amd64 systemd-sysv udev dbus cloud-init
  iproute2 curl apparmor python3-cffi-backend
)
# The cluster's software. bookworm's docker.io carries the CLI.
ENGINE_BOOKWORM=(etcd-server etcd-client docker.io)
ENGINE_FORKY=(etcd-server etcd-client docker.io docker-cli)
DISK_SIZE=4G
REPO_DIR=/var/lib/swarmboot/repo   # forky-localrepo's apt repository

usage="usage: build.sh CACHE_DIR SWARM_ARCHIVE [bookworm|forky|forky-docker29|forky-localrepo]"
cache="${1:?$usage}"
archive="${2:?$usage}"
variant="${3:-bookworm}"
case "$variant" in
  bookworm | forky | forky-docker29 | forky-localrepo) ;;
  *) echo "build.sh: unknown variant '$variant'; $usage" >&2; exit 2 ;;
esac
[ -f "$archive" ] || { echo "build.sh: no swarm archive at $archive" >&2; exit 1; }
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"

log() { echo "image[$variant]: $*" >&2; }

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

# One build at a time per cache: variants share trees and .deb caches.
exec 9>"$cache/.build.lock"
flock 9

# key NAME [EXTRA...]: 16 hex digits over the name, this script, files/ and
# any extra lines.
key() {
  local name="$1"; shift
  { echo "$name"; printf '%s\n' "$@"
    (cd "$here" && find build.sh files -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-16
}

# wipe DIR...: rm -rf that first unmounts whatever an interrupted
# debootstrap left mounted inside (its /proc, /sys) and never leaves the
# file system it starts on.
wipe() {
  local d m
  for d in "$@"; do
    [ -e "$d" ] || continue
    awk -v d="$d/" 'index($2 "/", d) == 1 {print $2}' /proc/self/mounts | sort -r |
      while read -r m; do umount -l "$m"; done
    rm -rf --one-file-system "$d"
  done
}

# prune PREFIX KEEP: drop CACHE/PREFIX-<16 hex>[.tmp] other than KEEP, i.e.
# what older versions of the same variant left (the fixed key length keeps
# "forky" from matching "forky-docker29-...").
prune() {
  local d
  for d in "$cache/$1"-???????????????? "$cache/$1"-????????????????.tmp; do
    [ -e "$d" ] && [ "$d" != "$2" ] && wipe "$d"
  done
  return 0
}

# debootstrap_tree SUITE TREE LOG PACKAGES...: a minbase tree, .debs from
# and into CACHE/debs-SUITE.
debootstrap_tree() {
  local suite="$1" tree="$2" logf="$3"; shift 3
  local script=() start=$SECONDS
  # bookworm's debootstrap has no script for forky; sid's works.
  [ -e "/usr/share/debootstrap/scripts/$suite" ] || script=(/usr/share/debootstrap/scripts/sid)
  # An older build.sh kept bookworm's .debs in CACHE/debs.
  if [ "$suite" = bookworm ] && [ -d "$cache/debs" ] && [ ! -e "$cache/debs-bookworm" ]; then
    mv "$cache/debs" "$cache/debs-bookworm"
  fi
  mkdir -p "$cache/debs-$suite"
  log "debootstrap $suite minbase from $(mirror) (a few minutes)"
  if ! debootstrap --variant=minbase --include="$(IFS=,; echo "$*")" \
      --cache-dir="$cache/debs-$suite" "$suite" "$tree" "$(mirror)" "${script[@]}" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    [ -f "$tree/debootstrap/debootstrap.log" ] && tail -n 40 "$tree/debootstrap/debootstrap.log" >&2
    exit 1
  fi
  log "debootstrap $suite: $((SECONDS - start)) s"
}

# configure_tree TREE IGNITION(yes|no): the guest configuration for the test
# harness (see the header).
configure_tree() {
  local tree="$1" ignition="$2"
  cp -R --preserve=mode "$here/files/all/." "$tree/"
  if [ "$ignition" = yes ]; then
    cp -R --preserve=mode "$here/files/ignition/." "$tree/"
    # Flatcar keeps dockerd in /usr/bin; units rendered for it run it there.
    ln -sf /usr/sbin/dockerd "$tree/usr/bin/dockerd"
  fi
  mkdir -p "$tree/var/lib/swarmboot"
  chmod 0755 "$tree/var/lib/swarmboot"
  echo '/dev/vda / ext4 defaults 0 1' >"$tree/etc/fstab"
  # Empty: each VM makes its own, and systemd treats the boot as the first.
  : >"$tree/etc/machine-id"
  rm -f "$tree/var/lib/dbus/machine-id" "$tree/etc/hostname"
}

# apply_presets TREE OUT: check that 99-default-disable.preset sorts last,
# apply every preset in full (enable what they enable, disable the rest,
# including what the packages' postinsts enabled at install), and list the
# enabled units in OUT.
apply_presets() {
  local tree="$1" out="$2" last d dirs=()
  for d in etc/systemd run/systemd usr/local/lib/systemd usr/lib/systemd; do
    [ -d "$tree/$d/system-preset" ] && dirs+=("$tree/$d/system-preset")
  done
  last="$(find "${dirs[@]}" -maxdepth 1 -name '*.preset' -printf '%f\n' | LC_ALL=C sort | tail -n1)"
  if [ "$last" != 99-default-disable.preset ]; then
    echo "build.sh: $last sorts after 99-default-disable.preset" >&2; exit 1
  fi
  chroot "$tree" systemctl preset-all --preset-mode=full >"${out%/*}/presets.log" 2>&1
  # (systemd 262 warns that /proc is not mounted: offline operations work.)
  chroot "$tree" systemctl list-unit-files --no-legend --no-pager --state=enabled 2>/dev/null \
    | awk '{print $1}' | LC_ALL=C sort >"$out"
}

# finish_tree TREE DIR: the lists kept beside the tree; no apt caches.
finish_tree() {
  local tree="$1" dir="$2"
  chroot "$tree" dpkg-query -W -f '${Package} ${Version}\n' >"$dir/packages.txt"
  rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/cache/apt/*.bin "$tree"/var/lib/apt/lists/*
}

# make_local_repo TREE DIR PACKAGES...: the local apt repository of
# forky-localrepo. apt in the tree (with the index debootstrap used, still in
# its lists) says which packages PACKAGES need that the tree lacks; their
# .debs come from CACHE/debs-SUITE (what debootstrap already fetched) or,
# failing that, from the mirror, checked against the index's SHA256.
make_local_repo() {
  local tree="$1" dir="$2"; shift 2
  local start=$SECONDS repo="$tree$REPO_DIR" debs="$cache/debs-forky" want uris
  command -v apt-ftparchive >/dev/null || { echo "build.sh: apt-ftparchive missing (apt-utils; see ../host-deps.sh)" >&2; exit 1; }
  want="$(chroot "$tree" apt-get install --simulate --no-install-recommends "$@" \
    | awk '$1 == "Inst" {gsub(/[()]/, "", $3); print $2 "=" $3}')"
  [ -n "$want" ] || { echo "build.sh: apt names no package to put in the local repository" >&2; exit 1; }
  # shellcheck disable=SC2086 # one word per package=version
  uris="$(chroot "$tree" apt-get download --print-uris $want)"
  mkdir -p "$repo" "$debs"
  local n=0 fetched=0 uri file size sum
  while read -r uri file size sum; do
    uri="${uri//\'/}"; sum="${sum#SHA256:}"
    if [ ! -f "$debs/$file" ] || ! echo "$sum  $debs/$file" | sha256sum -c --status; then
      curl -fsS -o "$debs/$file.part" "$uri"
      echo "$sum  $debs/$file.part" | sha256sum -c --status || { echo "build.sh: bad checksum: $uri" >&2; exit 1; }
      mv "$debs/$file.part" "$debs/$file"
      fetched=$((fetched + 1))
    fi
    cp "$debs/$file" "$repo/$file"
    n=$((n + 1))
  done <<<"$uris"
  (cd "$repo" && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release) 2>/dev/null
  chmod 0755 "$repo" && chmod 0644 "$repo"/*
  awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}' "$repo/Packages" | LC_ALL=C sort >"$dir/repo.txt"

  # The local repository is the image's only apt source.
  rm -f "$tree/etc/apt/sources.list" "$tree"/etc/apt/sources.list.d/*
  cat >"$tree/etc/apt/sources.list.d/boottest-local.sources" <<EOT
# The boot test's forky-localrepo image: its only apt source, made by
# boottest/image/build.sh from the .debs of etcd-server, etcd-client,
# docker.io, docker-cli and what they need that the image lacks.
Types: deb
URIs: file:$REPO_DIR
Suites: ./
Trusted: yes
EOT
  cat >"$tree/etc/apt/apt.conf.d/90boottest-no-recommends" <<'EOT'
// boot test (forky-localrepo): no recommends, as in the debootstrap-made
// images; the user-data has to name docker-cli, which docker.io only
// recommends from Debian 13 on.
APT::Install-Recommends "false";
EOT
  log "local repository: $n packages ($fetched fetched from the mirror): $((SECONDS - start)) s"

  # Proof: apt reads the repository (as its _apt sandbox user: a repository
  # it cannot read makes apt fall back to root with a warning, taken as a
  # failure here) and can install the packages from it alone.
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin
  local out
  if ! out="$(chroot "$tree" apt-get update 2>&1 && chroot "$tree" apt-get install --simulate "$@" 2>&1)" \
      || grep -qiE 'unsandboxed|^(W|E):' <<<"$out"; then
    echo "$out" >&2
    echo "build.sh: apt cannot install $* from the local repository" >&2
    exit 1
  fi
  local p
  for p in "$@"; do
    grep -q "^Inst $p " <<<"$out" || { echo "$out" >&2; echo "build.sh: apt would not install $p" >&2; exit 1; }
  done
  echo "$out" >"$dir/apt-simulate.log"
  # Without recommends, docker.io alone brings no docker CLI.
  if chroot "$tree" apt-get install --simulate docker.io 2>&1 | grep -q '^Inst docker-cli '; then
    echo "build.sh: apt installs docker-cli with docker.io (recommends on?)" >&2; exit 1
  fi
  rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin
}

# build_rootfs VARIANT: makes CACHE/rootfs-VARIANT-<k1>/ (cached) and sets
# $rootfs to it.
build_rootfs() {
  local v="$1" k dir tree start extra=() bindir="" base=""
  if [ "$v" = forky-docker29 ]; then
    bindir="$(bash "$here/build-dockerd.sh" "$cache" | tail -n1)"
    extra=("$(cd "$bindir" && sha256sum dockerd docker-proxy)")
  fi
  k="$(key "$v" "${extra[@]}")"
  dir="$cache/rootfs-$v-$k"
  rootfs="$dir"
  [ -f "$dir/done" ] && return 0
  if [ "$v" = forky-docker29 ]; then
    build_rootfs forky   # sets $rootfs to forky's
    base="$rootfs"
    rootfs="$dir"
  fi

  wipe "$dir" && mkdir -p "$dir"
  tree="$dir/tree"
  case "$v" in
    bookworm)
      debootstrap_tree bookworm "$tree" "$dir/debootstrap.log" \
        "${BASE_PACKAGES[@]}" "${ENGINE_BOOKWORM[@]}" ignition netplan.io
      configure_tree "$tree" yes
      start=$SECONDS
      chroot "$tree" update-initramfs -u -k all >>"$dir/debootstrap.log" 2>&1
      log "initramfs with the Ignition agent: $((SECONDS - start)) s"
      ;;
    forky)
      debootstrap_tree forky "$tree" "$dir/debootstrap.log" \
        "${BASE_PACKAGES[@]}" "${ENGINE_FORKY[@]}"
      configure_tree "$tree" no
      ;;
    forky-localrepo)
      debootstrap_tree forky "$tree" "$dir/debootstrap.log" "${BASE_PACKAGES[@]}"
      configure_tree "$tree" no
      make_local_repo "$tree" "$dir" "${ENGINE_FORKY[@]}"
      # As on a stock Debian image, the packages start their services when
      # installed (deb-systemd-helper applies the presets, which `disable *`
      # would veto): etcd.service then starts from the package while the
      # node boots, the race swarmboot's user-data must survive.
      cat >"$tree/usr/lib/systemd/system-preset/85-boottest-packages.preset" <<'EOT'
# forky-localrepo: the cluster's packages are installed at first boot by
# cloud-init; like on a stock Debian image they enable and start their
# services on installation (build.sh).
enable etcd.service
enable containerd.service
enable docker.service
enable docker.socket
EOT
      ;;
    forky-docker29)
      start=$SECONDS
      cp -a "$base/tree" "$tree"
      rm -f "$tree/var/lib/swarmboot/swarm-1.2.9.tar"
      # Docker 29 in place of docker.io's daemon, dpkg-diverted so that dpkg
      # knows (and an upgrade of docker.io would not undo it).
      local f
      for f in dockerd docker-proxy; do
        [ -f "$tree/usr/sbin/$f" ] || { echo "build.sh: forky's docker.io has no /usr/sbin/$f" >&2; exit 1; }
        chroot "$tree" dpkg-divert --quiet --local --no-rename --divert "/usr/sbin/$f.docker.io" --add "/usr/sbin/$f"
        install -m 0755 "$bindir/$f" "$tree/usr/sbin/$f"
      done
      { echo "/usr/sbin/dockerd and /usr/sbin/docker-proxy: Docker 29, built by build-dockerd.sh:"
        sed -n '/^dockerd:/,/^docker-proxy:/p' "$bindir/../version.txt" \
          | grep -E '^dockerd:|^[[:space:]]+(path|mod)[[:space:]]|CGO_ENABLED|trimpath'
        echo "dockerd --version: $(head -n1 "$bindir/../version.txt")"
        echo "in place of docker.io $(awk '$1 == "docker.io" {print $2}' "$base/packages.txt")'s" \
          "(dpkg-divert --local --no-rename to /usr/sbin/*.docker.io; the originals are not kept)"
      } >"$dir/dockerd.txt"
      cp "$base/packages.txt" "$base/enabled-units.txt" "$dir/"
      log "copied forky's tree, Docker 29 in: $((SECONDS - start)) s"
      touch "$dir/done"
      prune "rootfs-$v" "$dir"
      return 0
      ;;
  esac
  start=$SECONDS
  apply_presets "$tree" "$dir/enabled-units.txt"
  finish_tree "$tree" "$dir"
  log "presets applied ($(wc -l <"$dir/enabled-units.txt") units enabled): $((SECONDS - start)) s"
  touch "$dir/done"
  prune "rootfs-$v" "$dir"
}

total=$SECONDS
build_rootfs "$variant"
k2="$( (echo "$rootfs"; sha256sum <"$archive") | sha256sum | cut -c1-16)"
image="$cache/image-$variant-$k2"
if [ -f "$image/done" ]; then
  log "cached: $image"
  echo "$image"
  exit 0
fi

# Stage 2: the disk image with the swarm archive baked in.
start=$SECONDS
wipe "$image.tmp" && mkdir -p "$image.tmp"
tree="$rootfs/tree"
install -m 0644 "$archive" "$tree/var/lib/swarmboot/swarm-1.2.9.tar"
kernel="$(ls "$tree"/boot/vmlinuz-* | sort -V | tail -n1)"
initrd="$(ls "$tree"/boot/initrd.img-* | sort -V | tail -n1)"
install -m 0644 "$kernel" "$image.tmp/vmlinuz"
install -m 0644 "$initrd" "$image.tmp/initrd.img"   # dracut's is 0600
for f in packages.txt enabled-units.txt dockerd.txt repo.txt; do
  [ -f "$rootfs/$f" ] && cp "$rootfs/$f" "$image.tmp/$f"
done
mkfs.ext4 -q -F -L root -d "$tree" "$image.tmp/rootfs.raw" "$DISK_SIZE"
qemu-img convert -O qcow2 "$image.tmp/rootfs.raw" "$image.tmp/rootfs.qcow2"
rm -f "$image.tmp/rootfs.raw"
touch "$image.tmp/done"
wipe "$image" && mv "$image.tmp" "$image"
log "disk image made: $((SECONDS - start)) s ($(du -h "$image/rootfs.qcow2" | cut -f1) qcow2); total $((SECONDS - total)) s"

# Drop what older script versions or archives left behind, of this variant
# only (and, for bookworm, the unnamed dirs of the single-variant build.sh).
prune "image-$variant" "$image"
if [ "$variant" = bookworm ]; then
  prune rootfs "" && prune image ""
fi
echo "$image"
