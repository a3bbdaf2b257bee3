#!/usr/bin/env bash
# Runs the QEMU boot test as CI does: installs the host tools, then the
# tests that boot VMs (TestBoot, TestBootSeparated, TestIgnition; pick others
# with BOOTTEST_RUN, a `go test -run` pattern).
#
#   bash boottest/run.sh                      # everything
#   BOOTTEST_RUN=TestIgnition bash boottest/run.sh
#
# The image and the swarm archive are cached in $SWARMBOOT_BOOTTEST_CACHE
# (default /var/cache/swarmboot-boottest); see boottest/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash boottest/host-deps.sh
exec go test -tags boot -run "${BOOTTEST_RUN:-^(TestBoot|TestBootSeparated|TestIgnition)$}" \
  -v -timeout "${BOOTTEST_TIMEOUT:-60m}" ./boottest/
