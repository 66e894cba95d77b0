#!/usr/bin/env bash
# A throwaway Postgres primary with streaming replicas and a Redis server, on loopback, for the
# real-run tests (tests/it/real_load.rs) and the driver-overhead bench when no containers are at
# hand. Needs Debian's postgresql-15 (pgbench is in it; postgresql-contrib on other setups) and
# redis-server (redis-tools for redis-benchmark).
#
#   scripts/real-dev-cluster.sh start       # create on first use, start, print the env exports
#   eval "$(scripts/real-dev-cluster.sh env)"
#   cargo test --test it real_load
#   scripts/real-dev-cluster.sh stop
#   scripts/real-dev-cluster.sh fault "stop replica-0"   # also: start replica-N
#
# SCALESIM_TEST_FAULT_CMD="scripts/real-dev-cluster.sh fault" lets the stopped-replica test use
# it. Settings (environment): SCALESIM_DEV_DIR (default $TMPDIR/scalesim-dev-cluster), PG_PORT
# (15432; replica N listens on PG_PORT + N + 1), REDIS_PORT (16379), REPLICAS (2). The servers
# trust every local connection and run with fsync off: test use only.
set -euo pipefail

DIR=${SCALESIM_DEV_DIR:-${TMPDIR:-/tmp}/scalesim-dev-cluster}
PG_PORT=${PG_PORT:-15432}
REDIS_PORT=${REDIS_PORT:-16379}
REPLICAS=${REPLICAS:-2}
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
pg_start() { pg_running "$1" || as_pg "$PGBIN/pg_ctl" -D "$(pg_dir "$1")" -l "$(pg_dir "$1").log" -w start >/dev/null; }
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
  pg_start 0
  local has_db
  has_db=$(as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'shop'")
  [ "$has_db" = 1 ] || as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE shop"
  for i in $(seq 1 "$REPLICAS"); do
    [ -d "$(pg_dir "$i")" ] || init_replica "$i"
    pg_start "$i"
  done
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR" --save '' \
      --appendonly no --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid" >/dev/null
  fi
  env_exports
}

stop() {
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
