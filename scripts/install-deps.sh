#!/usr/bin/env bash
# Installs the real consumers the tests check generated configs with, on a
# fresh Debian bookworm machine (as root). Idempotent: a second run only
# checks. In CI a missing tool fails its test instead of skipping it.
#   cloud-init   `cloud-init schema`, `cloud-init devel net-convert`
#   netplan.io   `netplan generate`: network-config as Ubuntu and Debian cloud images apply it
#   genisoimage  isoinfo reads NoCloud seed images back
#   ignition     the real Ignition agent (spec <= 3.3.0)
#   ruby         ruby -c on generated Vagrantfiles
#   vagrant      vagrant validate (no provider needed)
#   vagrant-libvirt  vagrant validate with the libvirt provider, and its
#                config class and domain template (no libvirt daemon)
#   util-linux   blkid (how cloud-init finds LABEL=cidata)
#   etcd-server  a real etcd (v2 API) for the swarm model's tests
#   systemd      systemd-analyze verify: unit lines read back as systemd reads them
#   openssl      openssl verify: every issued certificate checks against the CA
#   docker.io    a docker CLI for the swarm model's tests, unless one is on PATH
#   zsh, fish    the completion scripts are loaded and run in each shell
set -euo pipefail
pkgs=(cloud-init netplan.io genisoimage ignition ruby vagrant vagrant-libvirt util-linux etcd-server systemd openssl zsh fish)
command -v docker >/dev/null || pkgs+=(docker.io)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "test tools: ok (${pkgs[*]})"
