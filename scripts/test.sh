#!/usr/bin/env bash
# The test command: everything scalesim's tests need, then the whole test suite.
#
# - When a Docker engine answers, makes sure the Postgres and Redis images exist (building
#   look-alikes from Debian packages when no registry is reachable; a no-op when present), so
#   the container tests (real_infra, real_session) run against real servers. Without an engine
#   those tests print one line and skip, except under CI=true, where they fail.
# - When PostgreSQL and Redis server binaries are installed and no servers are given in
#   SCALESIM_TEST_PG_PRIMARY, starts the loopback dev cluster (scripts/real-dev-cluster.sh:
#   primary, two streaming replicas, Redis) for the load-generator tests (real_load), and stops
#   it afterwards.
# - Runs every unit, integration, property, fuzz and doc test in release mode (simulations are
#   heavy; release keeps the suite to minutes), with all features (plot, real), then every
#   criterion benchmark once in test mode, so that none can rot unseen.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	bash scripts/build-images.sh
else
	echo "test.sh: no Docker engine; the container tests will skip" >&2
fi

started_dev=0
if [ -z "${SCALESIM_TEST_PG_PRIMARY:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	&& command -v redis-server >/dev/null 2>&1; then
	eval "$(scripts/real-dev-cluster.sh start)"
	export SCALESIM_TEST_FAULT_CMD="scripts/real-dev-cluster.sh fault"
	started_dev=1
fi
status=0
cargo test --release "$@" || status=$?
# Benches never rot: each criterion benchmark compiles and runs once in test mode (about a
# minute in all; driver_overhead says in one line when it has no servers to measure).
if [ "$status" = 0 ]; then
	cargo test --release --bench '*' || status=$?
fi
if [ "$started_dev" = 1 ]; then
	scripts/real-dev-cluster.sh stop || true
fi
exit "$status"
