#!/usr/bin/env bash
# Runs the QEMU boot test as CI does: installs the host tools, then every
# boot test (pick some with BOOTTEST_RUN, a `go test -run` pattern):
#   TestBoot                    bookworm, 3 nodes with every role, faults
#   TestBootSeparated           forky, the seed's 3 + 3 topology, faults
#   TestBootDocker29            forky with Docker 29's dockerd, 3 nodes
#   TestBootPackages            forky, packages installed at first boot
#   TestDocker29NegativeControl Docker 29 without/with swarmboot's drop-in
#   TestIgnition                bookworm, a flatcar Ignition config
#
#   bash boottest/run.sh                      # everything
#   BOOTTEST_RUN=TestIgnition bash boottest/run.sh
#
# The image and the swarm archive are cached in $SWARMBOOT_BOOTTEST_CACHE
# (default /var/cache/swarmboot-boottest); see boottest/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash boottest/host-deps.sh
exec go test -tags boot -run "${BOOTTEST_RUN:-^(TestBoot|TestBootSeparated|TestBootDocker29|TestBootPackages|TestDocker29NegativeControl|TestIgnition)$}" \
  -v -timeout "${BOOTTEST_TIMEOUT:-80m}" ./boottest/
