# swarmboot: build, test, golden, boot, bench, lint.
GO      ?= go
OUT     ?= out
EXAMPLE ?= examples/secure.yaml

.PHONY: all build terraform-provider example test deps golden boot boot-all bench lint fuzz clean

all: build

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)

build:
	$(GO) build -ldflags "-X github.com/swarmboot/swarmboot/internal/cli.Version=$(VERSION)" -o swarmboot ./cmd/swarmboot

# The Terraform provider (data source swarmboot_cluster), installed where
# `terraform init` looks for local providers: no CLI configuration needed
# when the other providers come from the registry (README, ## Terraform).
TF_PROVIDER_VERSION ?= 0.1.0
TF_PLUGINS ?= $(HOME)/.terraform.d/plugins
TF_PROVIDER_DIR = $(TF_PLUGINS)/registry.terraform.io/swarmboot/swarmboot/$(TF_PROVIDER_VERSION)/$(shell $(GO) env GOOS)_$(shell $(GO) env GOARCH)

terraform-provider:
	$(GO) build -ldflags "-X main.version=$(TF_PROVIDER_VERSION)" -o $(TF_PROVIDER_DIR)/terraform-provider-swarmboot_v$(TF_PROVIDER_VERSION) ./cmd/terraform-provider-swarmboot
	@echo "installed $(TF_PROVIDER_DIR)/terraform-provider-swarmboot_v$(TF_PROVIDER_VERSION)"

# Renders the bundled example into $(OUT)/<node>/.
example:
	$(GO) run ./cmd/swarmboot render $(EXAMPLE) -o $(OUT)

# Installs the real validators (apt), then runs every unit, golden and
# consumer test. CI=true makes a missing validator fail instead of skip.
test: deps lint
	$(GO) test ./...

deps:
	@if [ "$$(id -u)" = 0 ]; then scripts/install-deps.sh; else sudo scripts/install-deps.sh; fi

# Rewrites golden/*/want after an intended output change, and
# cluster/schema.json from the settings tables; review the diff.
golden:
	$(GO) test ./golden ./cluster -update

# The QEMU boot test: real VMs booted from swarmboot's user-data (root;
# installs QEMU and debootstrap; ~20 min on 2 cores with a cold cache).
boot:
	bash boottest/run.sh

# Every boot test, the forky separated and packages boots too (~+35 min).
boot-all:
	BOOTTEST_RUN=all bash boottest/run.sh

bench:
	$(GO) test ./render -run '^$$' -bench . -benchtime 5x
	$(GO) test ./cluster -run '^$$' -bench BenchmarkLoadHostile -benchtime 2x
	$(GO) test ./internal/cli -run '^$$' -bench RenderProcess -benchtime 3x
	$(GO) test ./internal/tfprovider -run '^$$' -bench Read -benchtime 10x

fuzz:
	$(GO) test ./cluster -run '^$$' -fuzz FuzzLoad -fuzztime 60s
	$(GO) test ./render -run '^$$' -fuzz FuzzRender -fuzztime 60s

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf swarmboot $(OUT)
