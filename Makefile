# posbon: `make demo` analyses the bundled sample footage; `make test` runs every check CI runs.
# Build outputs and fetched assets live outside the clone so a re-clone does not rebuild from scratch.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/posbon/target
CARGO ?= cargo
POSBON_DEV := $(CARGO_TARGET_DIR)/debug/posbon
POSBON_REL := $(CARGO_TARGET_DIR)/release/posbon

.PHONY: demo serve-demo test deps services assets assets-dev lint bench clean-out

deps:
	@scripts/install-deps.sh

# PostgreSQL on 127.0.0.1:5432 for the store's tests (started if it is down).
services:
	@scripts/start-services.sh

# Release build: the demo measures speed.
demo: deps
	$(CARGO) build --release -p cli
	$(POSBON_REL) assets fetch
	rm -rf out/demo
	$(POSBON_REL) analyze "$$($(POSBON_REL) assets path footage/vtest.avi)" --config config/demo-camera.toml --out out/demo

# The server on SQLite with demo data and users (passwords printed once), and vtest.avi attached as
# a live camera whose events reach the review queue as they happen. Ctrl-C stops it.
serve-demo: deps
	$(CARGO) build --release -p cli
	$(POSBON_REL) assets fetch
	mkdir -p out/serve-demo
	$(POSBON_REL) serve --demo --database sqlite:out/serve-demo/posbon.db --data-dir out/serve-demo

assets-dev: deps
	$(CARGO) build -p cli
	$(POSBON_DEV) assets fetch

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: assets-dev services lint
	$(CARGO) test --workspace
	$(CARGO) test -p infer --features tract

bench: deps
	$(CARGO) build --release -p cli
	$(POSBON_REL) assets fetch
	$(POSBON_REL) bench --video "$$($(POSBON_REL) assets path footage/vtest.avi)"

clean-out:
	rm -rf out
