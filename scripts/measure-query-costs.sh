#!/usr/bin/env bash
# Measures what one row costs Postgres to read, per query shape, for the defaults of the
# simulator's `query` step (`row_cost` by `scan`), on a throwaway local cluster.
#
#   scripts/measure-query-costs.sh            # prints a table: shape, points, ns per row
#
# A table of 1,000,000 products (id primary key, a category, a 100-byte payload), and the
# server-side execution time of each query from `EXPLAIN (ANALYZE, TIMING OFF)` (no network,
# no driver), median of 15 runs after 3 warm-ups, everything in shared buffers:
#   index   WHERE id BETWEEN k AND k + n - 1        for n = 1 .. 1000 (an index range scan)
#   offset  ORDER BY id LIMIT 20 OFFSET o           for o = 0 .. 200,000
#   cursor  WHERE id > c ORDER BY id LIMIT 20       for c = 0 .. 200,000 (flat: no slope)
#   seq     WHERE payload = 'none' (no index)       on copies of 100,000 .. 1,000,000 rows
# The slope of a least-squares line through (rows read, time) is the cost per row read.
set -euo pipefail

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql-15)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
DIR=$(mktemp -d)
chmod 777 "$DIR"
PORT=${MEASURE_PG_PORT:-55499}
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
cat >>"$DIR/data/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
shared_buffers = 512MB
max_parallel_workers_per_gather = 0
jit = off
EOF
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start >/dev/null
psql() { command psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -At "$@"; }
psql -c "CREATE TABLE products (id bigint PRIMARY KEY, category int NOT NULL, payload text NOT NULL)"
psql -c "INSERT INTO products SELECT i, i % 100, repeat(md5(i::text), 3) FROM generate_series(1, 1000000) i"
psql -c "VACUUM ANALYZE products"
psql -c "SELECT count(*) FROM products" >/dev/null
psql -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null 2>&1 && psql -c "SELECT pg_prewarm('products'), pg_prewarm('products_pkey')" >/dev/null || true

# Median execution time (ms) of a query over 15 runs after 3 warm-ups.
exec_ms() {
	local sql=$1 i out=()
	for i in $(seq 1 18); do
		out+=("$(psql -c "EXPLAIN (ANALYZE, TIMING OFF) $sql" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p')")
	done
	printf '%s\n' "${out[@]:3}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# Least-squares slope (ns per row) and intercept (ms) of "rows ms" lines on stdin.
fit() {
	awk '{n++; sx+=$1; sy+=$2; sxx+=$1*$1; sxy+=$1*$2}
	     END {b=(n*sxy-sx*sy)/(n*sxx-sx*sx); a=(sy-b*sx)/n; printf "%.1f ns/row (intercept %.3f ms, %d points)", b*1e6, a, n}'
}

echo "shape   cost per row read"
{
	for n in 1 10 100 300 1000; do echo "$n $(exec_ms "SELECT * FROM products WHERE id BETWEEN 500000 AND $((500000 + n - 1))")"; done
} | fit | sed 's/^/index   /'
echo
{
	for o in 0 1000 10000 50000 100000 200000; do echo "$((o + 20)) $(exec_ms "SELECT * FROM products ORDER BY id LIMIT 20 OFFSET $o")"; done
} | fit | sed 's/^/offset  /'
echo
{
	for c in 0 1000 10000 50000 100000 200000; do echo "$c $(exec_ms "SELECT * FROM products WHERE id > $c ORDER BY id LIMIT 20")"; done
} | fit | sed 's/^/cursor  (by cursor position, expect ~0) /'
echo
for m in 100000 250000 500000 1000000; do
	psql -c "CREATE TABLE p$m AS SELECT * FROM products WHERE id <= $m"
	psql -c "VACUUM ANALYZE p$m"
done
{
	for m in 100000 250000 500000 1000000; do echo "$m $(exec_ms "SELECT * FROM p$m WHERE payload = 'none'")"; done
} | fit | sed 's/^/seq     /'
echo
echo "join vs one-per-item (order of 10 items):"
psql -c "CREATE TABLE items (order_id bigint, product_id bigint, qty int)"
psql -c "INSERT INTO items SELECT o, (o * 7919 + k) % 1000000 + 1, 1 FROM generate_series(1, 100000) o, generate_series(1, 10) k"
psql -c "CREATE INDEX ON items (order_id)"
psql -c "VACUUM ANALYZE items"
echo "point    $(exec_ms "SELECT * FROM products WHERE id = 123456") ms (one product by id)"
echo "join     $(exec_ms "SELECT p.* FROM items i JOIN products p ON p.id = i.product_id WHERE i.order_id = 4242") ms (an order's 10 products)"
