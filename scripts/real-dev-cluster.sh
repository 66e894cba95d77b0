#!/usr/bin/env bash
# A throwaway Postgres primary with streaming replicas, a Redis server and, when installed, a
# PgBouncer in front of the primary, on loopback, for the real-run tests (tests/it/real_load.rs),
# `scalesim real --target` and the driver-overhead bench when no containers are at hand. Needs
# Debian's postgresql-15 (pgbench is in it; postgresql-contrib on other setups) and
# redis-server (redis-tools for redis-benchmark); pgbouncer for the PgBouncer.
#
#   scripts/real-dev-cluster.sh start       # create on first use, start, print the env exports
#   eval "$(scripts/real-dev-cluster.sh env)"
#   cargo test --test it real_load
#   scripts/real-dev-cluster.sh stop
#   scripts/real-dev-cluster.sh fault "stop replica-0"   # also: start replica-N
#
# SCALESIM_TEST_FAULT_CMD="scripts/real-dev-cluster.sh fault" lets the stopped-replica test use
# it. Settings (environment): SCALESIM_DEV_DIR (default $TMPDIR/scalesim-dev-cluster), PG_PORT
# (15432; replica N listens on PG_PORT + N + 1), REDIS_PORT (16379), REPLICAS (2),
# MAX_CONNECTIONS (the primary's, 200; replicas keep at least 200 and never go below a value
# the primary had; a running node with another value is restarted),
# PGBOUNCER_PORT (16432), PGBOUNCER_POOL_MODE (transaction), PGBOUNCER_POOL_SIZE
# (default_pool_size, 20), PGBOUNCER_MAX_CLIENTS (max_client_conn, 1000): a PgBouncer running
# with other settings is restarted. The servers trust every local connection and run with
# fsync off: test use only.
set -euo pipefail

DIR=${SCALESIM_DEV_DIR:-${TMPDIR:-/tmp}/scalesim-dev-cluster}
PG_PORT=${PG_PORT:-15432}
REDIS_PORT=${REDIS_PORT:-16379}
REPLICAS=${REPLICAS:-2}
MAX_CONNECTIONS=${MAX_CONNECTIONS:-200}
PGBOUNCER_PORT=${PGBOUNCER_PORT:-16432}
PGBOUNCER_POOL_MODE=${PGBOUNCER_POOL_MODE:-transaction}
PGBOUNCER_POOL_SIZE=${PGBOUNCER_POOL_SIZE:-20}
PGBOUNCER_MAX_CLIENTS=${PGBOUNCER_MAX_CLIENTS:-1000}
PGBOUNCER=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

die() { echo "real-dev-cluster: $*" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || die "no PostgreSQL server binaries (apt-get install postgresql-15)"

# Postgres refuses to run as root: use the postgres account then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_dir() { echo "$DIR/pg$1"; }            # 0 is the primary, N+1 is replica-N
pg_port() { echo $((PG_PORT + $1)); }
pg_running() { as_pg "$PGBIN/pg_ctl" -D "$(pg_dir "$1")" status >/dev/null 2>&1; }
# max_connections of node $1: MAX_CONNECTIONS on the primary; a hot standby may not have
# fewer than the primary had in the WAL it replays (its control file says), so a replica
# keeps the most of 200, MAX_CONNECTIONS and that.
pg_limit() {
  [ "$1" != 0 ] || { echo "$MAX_CONNECTIONS"; return; }
  local seen
  seen=$(as_pg "$PGBIN/pg_controldata" -D "$(pg_dir "$1")" | awk -F: '/max_connections setting/ {print $2 + 0}')
  printf '%s\n' 200 "$MAX_CONNECTIONS" "${seen:-0}" | sort -n | tail -n 1
}
pg_start() {
  pg_running "$1" || as_pg "$PGBIN/pg_ctl" -D "$(pg_dir "$1")" -l "$(pg_dir "$1").log" \
    -o "-c max_connections=$(pg_limit "$1")" -w start >/dev/null
}
pg_max_connections() { as_pg psql -h 127.0.0.1 -p "$(pg_port "$1")" -U postgres -Atc "SHOW max_connections"; }
# Stops node $1 when it runs with another max_connections than its pg_limit, so that it
# starts again with it.
pg_stop_other_limit() {
  ! pg_running "$1" || [ "$(pg_max_connections "$1")" = "$(pg_limit "$1")" ] || pg_stop "$1"
}
pg_stop() { ! pg_running "$1" || as_pg "$PGBIN/pg_ctl" -D "$(pg_dir "$1")" -m fast -w stop >/dev/null; }

init_primary() {
  local d; d=$(pg_dir 0)
  as_pg "$PGBIN/initdb" -D "$d" -U postgres --auth=trust -E UTF8 >/dev/null
  cat >>"$d/postgresql.conf" <<EOF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
wal_level = replica
max_wal_senders = 10
hot_standby = on
fsync = off
shared_buffers = 256MB
max_connections = 200
EOF
  echo "host replication all 127.0.0.1/32 trust" >>"$d/pg_hba.conf"
}

init_replica() {
  local d; d=$(pg_dir "$1")
  as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$d" -R -X stream -c fast
  sed -i "s/^port = .*/port = $(pg_port "$1")/" "$d/postgresql.conf"
}

start() {
  command -v redis-server >/dev/null || die "no redis-server (apt-get install redis-server)"
  mkdir -p "$DIR"
  [ "$(id -u)" != 0 ] || chown postgres "$DIR"
  [ -d "$(pg_dir 0)" ] || init_primary
  # Nodes with another max_connections than pg_limit's stop (replicas first) and start again.
  for i in $(seq "$REPLICAS" -1 0); do [ ! -d "$(pg_dir "$i")" ] || pg_stop_other_limit "$i"; done
  pg_start 0
  local has_db
  has_db=$(as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'shop'")
  [ "$has_db" = 1 ] || as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE shop"
  for i in $(seq 1 "$REPLICAS"); do
    [ -d "$(pg_dir "$i")" ] || init_replica "$i"
    pg_start "$i"
  done
  [ -z "$PGBOUNCER" ] || pgbouncer_start
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR" --save '' \
      --appendonly no --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid" >/dev/null
  fi
  env_exports
}

# PgBouncer in front of the primary (database `shop`) with the settings above; the postgres
# user logs in without a password (trust, as on the servers) and is its admin.
pgbouncer_conf() {
  cat <<EOF
[databases]
shop = host=127.0.0.1 port=$PG_PORT dbname=shop
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/pgbouncer-users.txt
admin_users = postgres
pool_mode = $PGBOUNCER_POOL_MODE
default_pool_size = $PGBOUNCER_POOL_SIZE
max_client_conn = $PGBOUNCER_MAX_CLIENTS
ignore_startup_parameters = extra_float_digits
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
}

pgbouncer_running() { [ -s "$DIR/pgbouncer.pid" ] && kill -0 "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null; }

pgbouncer_stop() {
  pgbouncer_running || return 0
  kill "$(cat "$DIR/pgbouncer.pid")"
  for _ in $(seq 50); do pgbouncer_running || return 0; sleep 0.1; done
}

pgbouncer_start() {
  local conf="$DIR/pgbouncer.ini" new
  new=$(pgbouncer_conf)
  if pgbouncer_running && [ "$new" = "$(cat "$conf" 2>/dev/null)" ]; then return; fi
  pgbouncer_stop
  echo "$new" >"$conf"
  echo '"postgres" ""' >"$DIR/pgbouncer-users.txt"
  [ "$(id -u)" != 0 ] || chown postgres "$conf" "$DIR/pgbouncer-users.txt"
  as_pg "$PGBOUNCER" -d -q "$conf"   # PgBouncer refuses to run as root
  for _ in $(seq 50); do
    as_pg psql -h 127.0.0.1 -p "$PGBOUNCER_PORT" -U postgres -d shop -Atc "SELECT 1" >/dev/null 2>&1 && return
    sleep 0.1
  done
  die "pgbouncer did not start (see $DIR/pgbouncer.log)"
}

stop() {
  pgbouncer_stop
  for i in $(seq "$REPLICAS" -1 0); do [ ! -d "$(pg_dir "$i")" ] || pg_stop "$i"; done
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

env_exports() {
  local replicas="" i
  for i in $(seq 1 "$REPLICAS"); do
    replicas="$replicas${replicas:+,}postgres://postgres@127.0.0.1:$(pg_port "$i")/shop"
  done
  echo "export SCALESIM_TEST_PG_PRIMARY=postgres://postgres@127.0.0.1:$PG_PORT/shop"
  echo "export SCALESIM_TEST_PG_REPLICAS=$replicas"
  echo "export SCALESIM_TEST_REDIS=redis://127.0.0.1:$REDIS_PORT"
  [ -z "$PGBOUNCER" ] || echo "export SCALESIM_TEST_PGBOUNCER=postgres://postgres@127.0.0.1:$PGBOUNCER_PORT/shop"
}

fault() {
  local n
  case "${1:-}" in
    "stop replica-"*) n=${1#stop replica-}; pg_stop $((n + 1)) ;;
    "start replica-"*) n=${1#start replica-}; pg_start $((n + 1)) ;;
    *) die "unsupported fault: ${1:-}" ;;
  esac
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_exports ;;
  fault) fault "${2:-}" ;;
  *) die "usage: $0 start|stop|env|fault \"stop replica-N\"" ;;
esac
