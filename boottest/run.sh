#!/usr/bin/env bash
# Runs the QEMU boot test: installs the host tools, then the boot tests
# (pick some with BOOTTEST_RUN, a `go test -run` pattern). CI runs the
# first four (make boot); `make boot-all` (BOOTTEST_RUN=all) adds the two
# that boot forky's other images, which a CI run on 2 TCG cores cannot fit
# beside them (boottest/README.md, "What CI runs"):
#   TestBoot                    bookworm, 3 nodes with every role, faults, growth
#   TestBootDocker29            forky with Docker 29's dockerd, TLS, certificate renewal
#   TestDocker29NegativeControl Docker 29 without/with swarmboot's drop-in
#   TestIgnition                bookworm, a flatcar Ignition config
#   TestBootSeparated           (all) forky, the seed's 3 + 3 topology, faults
#   TestBootPackages            (all) forky, packages installed at first boot
#
#   bash boottest/run.sh                      # CI's four
#   BOOTTEST_RUN=all bash boottest/run.sh     # all six
#   BOOTTEST_RUN=TestIgnition bash boottest/run.sh
#
# The image and the swarm archive are cached in $SWARMBOOT_BOOTTEST_CACHE
# (default /var/cache/swarmboot-boottest); see boottest/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash boottest/host-deps.sh
ci='^(TestBoot|TestBootDocker29|TestDocker29NegativeControl|TestIgnition)$'
all='^(TestBoot|TestBootSeparated|TestBootDocker29|TestBootPackages|TestDocker29NegativeControl|TestIgnition)$'
run="${BOOTTEST_RUN:-$ci}"
if [ "$run" = all ]; then run="$all"; fi
exec go test -tags boot -run "$run" \
  -v -timeout "${BOOTTEST_TIMEOUT:-80m}" ./boottest/
