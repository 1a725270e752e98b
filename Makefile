# Two commands for a fresh clone: `make demo` and `make test` (README).
# Bun comes from the npm registry as a pinned dev dependency.
BUN := node_modules/.bin/bun
TSC := node_modules/.bin/tsc
# JavaScriptCore's tier-up thresholds x64 in the binary, until the child's
# output turns into a flood (src/process/jit-policy.ts explains and measures).
JIT_POLICY := 64

.PHONY: all install build demo test e2e unit typecheck fit dashboards bench fidelity clean

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

build: dist/startup-tracer

dist/startup-tracer: node_modules/.installed $(shell find src -type f) package.json Makefile
	$(BUN) build --compile --minify --bytecode --sourcemap --compile-jit-policy $(JIT_POLICY) src/cli/main.ts --outfile dist/startup-tracer

demo: build
	./dist/startup-tracer demo

typecheck: install
	$(TSC) --noEmit -p .

# Everything: unit, integration and the end-to-end suite against a real backend.
test: build typecheck
	./scripts/ensure-system-deps.sh
	STARTUP_TRACER_BIN=$(CURDIR)/dist/startup-tracer $(BUN) test

unit: install
	$(BUN) test --path-ignore-patterns 'test/e2e/**'

e2e: build
	./scripts/ensure-system-deps.sh
	STARTUP_TRACER_BIN=$(CURDIR)/dist/startup-tracer $(BUN) test test/e2e

fit: install
	$(BUN) scripts/fit-reference.ts
	$(BUN) scripts/fit-reference.ts --priors

dashboards: install
	$(BUN) dashboards/src/generate.ts

bench: build
	$(BUN) bench/run-all.ts

# One row per corpus log: outcome, unexplained share, invariant violations, live (a
# wrapped replay with --time-scale) vs import, failed phase (README "Timeline fidelity").
fidelity: build
	$(BUN) scripts/fidelity.ts --bin $(CURDIR)/dist/startup-tracer --markdown

clean:
	rm -rf dist
