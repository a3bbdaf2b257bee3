#!/usr/bin/env bash
# Builds Docker 29's daemon (dockerd and docker-proxy) from moby's Go module
# on the module proxy, for the boot test's `forky-docker29` image variant
# (see build.sh): no distribution ships a Docker 29 that runs on the test's
# Debian images, and Docker 29 is what Ubuntu's updates, Fedora CoreOS and
# Flatcar alpha/main run (its minimum API version is what breaks classic
# swarm). Nothing of moby's source is kept in the repository: `go install`
# fetches the pinned module version from the proxy.
#
# usage: build-dockerd.sh CACHE_DIR
# The last line on stdout is the directory holding dockerd and docker-proxy:
#   CACHE_DIR/dockerd-<MOBY_VERSION>-cgo<CGO>/bin/
# keyed by the module version and the cgo setting, so a second run is
# instant. A cold build (modules from the proxy) took 272 s here, 5 min of
# CPU on 2 cores, 1.6 GB of memory; the binaries are 128 MB and 4 MB.
# Runs that share a cache wait for each other (flock).
#
# cgo: on (Go's default with a C compiler), as Debian and Docker build
# dockerd. The binary links glibc dynamically; it is built on the bookworm
# host (glibc 2.36) and runs on forky (newer glibc, backward compatible).
# `dockerd --version` reports "library-import" (the module build sets no
# version); the engine API says 1.56, minimum 1.40.
set -euo pipefail

# The one place the Docker 29 version is pinned.
MOBY_MODULE=github.com/moby/moby/v2
MOBY_VERSION=v2.0.0-beta.24
CGO=1

cache="${1:?usage: build-dockerd.sh CACHE_DIR}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
dir="$cache/dockerd-$MOBY_VERSION-cgo$CGO"
log() { echo "dockerd: $*" >&2; }
exec 8>"$cache/.dockerd.lock"
flock 8

if [ -f "$dir/done" ]; then
  log "cached: $dir/bin"
  echo "$dir/bin"
  exit 0
fi

command -v go >/dev/null || { echo "build-dockerd.sh: no go on PATH" >&2; exit 1; }
[ "$CGO" = 0 ] || command -v gcc >/dev/null || { echo "build-dockerd.sh: cgo needs gcc" >&2; exit 1; }
start=$SECONDS
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
log "go install $MOBY_MODULE/cmd/{dockerd,docker-proxy}@$MOBY_VERSION (CGO_ENABLED=$CGO; ~7 min of CPU)"
# Outside any module, so the repository's go.mod plays no part; GOFLAGS as
# the caller has them (-mod settings do not apply to `go install x@v`).
if ! (cd / && CGO_ENABLED=$CGO GOBIN="$dir.tmp/bin" GOTOOLCHAIN=local \
    go install -trimpath "$MOBY_MODULE/cmd/dockerd@$MOBY_VERSION" \
    "$MOBY_MODULE/cmd/docker-proxy@$MOBY_VERSION") >"$dir.tmp/build.log" 2>&1; then
  tail -n 40 "$dir.tmp/build.log" >&2
  exit 1
fi
"$dir.tmp/bin/dockerd" --version >"$dir.tmp/version.txt"
(cd "$dir.tmp/bin" && go version -m dockerd docker-proxy) >>"$dir.tmp/version.txt"
touch "$dir.tmp/done"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
log "built in $((SECONDS - start)) s: $(head -n1 "$dir/version.txt")"

# Drop builds of other versions or settings.
for d in "$cache"/dockerd-*; do
  [ "$d" = "$dir" ] || rm -rf "$d"
done
echo "$dir/bin"
