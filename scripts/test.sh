#!/usr/bin/env bash
# The test command: everything scalesim's tests need, then the whole test suite.
#
# - The tests that need servers are #[ignore]d, so a plain `cargo test` reports them as ignored
#   rather than passed. This script runs each such group with `--ignored` when it can:
#   - containers (real_infra, real_session): when a Docker engine answers; it first makes sure
#     the Postgres and Redis images exist (building look-alikes from Debian packages when no
#     registry is reachable; a no-op when present);
#   - loopback servers (real_load): when SCALESIM_TEST_PG_PRIMARY names servers, or PostgreSQL
#     and Redis server binaries are installed; then it starts the loopback dev cluster
#     (scripts/real-dev-cluster.sh: primary, two streaming replicas, Redis) and stops it after.
#   A group it cannot run is named, with the reason, before and after the tests; under CI=true
#   that is a failure, before anything runs (.ci/run installs what the groups need).
# - Runs every unit, integration, property, fuzz and doc test in release mode (simulations are
#   heavy; release keeps the suite to minutes), with all features (plot, real), then every
#   criterion benchmark once in test mode, so that none can rot unseen.
# - Arguments are passed to the first `cargo test` (e.g. a test name filter); with arguments
#   the server groups are not run (run them with `cargo test --release --test it -- --ignored
#   real_load::`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

groups=()   # test name filters of the ignored groups this machine can run
skipped=()  # "group: reason" for those it cannot
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	bash scripts/build-images.sh
	groups+=(real_infra:: real_session::)
else
	skipped+=("real_infra, real_session (containers): no Docker engine answers \`docker info\`")
fi

started_dev=0
if [ -n "${SCALESIM_TEST_PG_PRIMARY:-}" ]; then
	groups+=(real_load::)
elif ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	skipped+=("real_load (loopback servers): no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb; apt-get install postgresql-15, as .ci/run does)")
elif ! command -v redis-server >/dev/null 2>&1; then
	skipped+=("real_load (loopback servers): no redis-server on PATH (apt-get install redis-server redis-tools, as .ci/run does)")
else
	eval "$(scripts/real-dev-cluster.sh start)"
	export SCALESIM_TEST_FAULT_CMD="scripts/real-dev-cluster.sh fault"
	started_dev=1
	groups+=(real_load::)
	# The connection-pool test's PgBouncer half needs PgBouncer in front of the primary.
	[ -n "${SCALESIM_TEST_PGBOUNCER:-}" ] ||
		skipped+=("real_load's PgBouncer half: no pgbouncer (apt-get install pgbouncer, as .ci/run does)")
fi
if [ "$#" -gt 0 ] && [ "${#groups[@]}" -gt 0 ]; then
	skipped+=("the server groups (${groups[*]}): arguments were given, so only the tests they select run")
	groups=()
fi

report_skipped() {
	local g
	for g in "${skipped[@]}"; do
		echo "test.sh: NOT RUN (reported as ignored): $g" >&2
	done
}
if [ "${#skipped[@]}" -gt 0 ]; then
	report_skipped
	if [ "${CI:-}" = true ] && [ "$#" = 0 ]; then
		echo "test.sh: CI=true: every test group must run; failing" >&2
		[ "$started_dev" = 1 ] && scripts/real-dev-cluster.sh stop || true
		exit 1
	fi
fi

status=0
cargo test --release "$@" || status=$?
if [ "$status" = 0 ] && [ "${#groups[@]}" -gt 0 ]; then
	cargo test --release --test it -- --ignored "${groups[@]}" || status=$?
fi
# Benches never rot: each criterion benchmark compiles and runs once in test mode (about a
# minute in all; driver_overhead and real_ops say in one line when they have no servers to
# measure, and measure the loopback servers when this script started them).
if [ "$status" = 0 ]; then
	cargo test --release --bench '*' || status=$?
fi
if [ "$started_dev" = 1 ]; then
	scripts/real-dev-cluster.sh stop || true
fi
report_skipped
exit "$status"
