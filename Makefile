# posbon: `make demo` serves the console with demo data and a live sample camera; `make test` runs every check CI runs.
# Build outputs and fetched assets live outside the clone so a re-clone does not rebuild from scratch.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/posbon/target
CARGO ?= cargo
POSBON_DEV := $(CARGO_TARGET_DIR)/debug/posbon
POSBON_REL := $(CARGO_TARGET_DIR)/release/posbon

.PHONY: demo analyze-demo test deps services assets assets-dev lint bench clean-out

deps:
	@scripts/install-deps.sh

# PostgreSQL on 127.0.0.1:5432 for the store's tests (started if it is down).
services:
	@scripts/start-services.sh

# The operations platform on the embedded default (SQLite): Uzbekistan's regions and districts,
# synthetic demo mahallas, one user per role (passwords printed once), and vtest.avi attached as a
# live camera whose events reach the review queue as they happen. Prints the console's address;
# Ctrl-C stops it. Release build: the camera runs in real time.
demo: deps
	$(CARGO) build --release -p cli
	$(POSBON_REL) assets fetch
	rm -rf out/demo
	mkdir -p out/demo
	$(POSBON_REL) serve --demo --database sqlite:out/demo/posbon.db --data-dir out/demo

# The video pipeline alone on vtest.avi: events and redacted evidence under out/analyze/, with speed.
analyze-demo: deps
	$(CARGO) build --release -p cli
	$(POSBON_REL) assets fetch
	rm -rf out/analyze
	$(POSBON_REL) analyze "$$($(POSBON_REL) assets path footage/vtest.avi)" --config config/demo-camera.toml --out out/analyze

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
