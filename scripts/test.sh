#!/usr/bin/env bash
# The test command: everything scalesim's tests need, then the whole test suite.
#
# - When a Docker engine answers, makes sure the Postgres and Redis images exist (building
#   look-alikes from Debian packages when no registry is reachable; a no-op when present), so
#   the real tests run against real servers. Without an engine those tests print one line and
#   skip, except under CI=true, where they fail.
# - Runs every unit, integration, property and doc test in release mode (simulations are heavy;
#   release keeps the suite to minutes), with all features (plot, real).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	bash scripts/build-images.sh
else
	echo "test.sh: no Docker engine; the real-run tests will skip" >&2
fi
cargo test --release "$@"
