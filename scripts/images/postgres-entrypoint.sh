#!/usr/bin/env bash
# Entrypoint of the look-alike `postgres:15` image that scripts/build-images.sh builds from
# Debian packages. It behaves like the official image's docker-entrypoint.sh for what scalesim
# uses:
#   - arguments that start with '-' are passed to `postgres` (so `-c fsync=off` works);
#   - started as root, it fixes the ownership of PGDATA and re-runs itself as `postgres`;
#   - on an empty PGDATA it runs initdb with POSTGRES_USER / POSTGRES_PASSWORD /
#     POSTGRES_INITDB_ARGS, allows remote logins with POSTGRES_HOST_AUTH_METHOD (default
#     scram-sha-256), creates POSTGRES_DB, and runs /docker-entrypoint-initdb.d/* (*.sh is run or
#     sourced, *.sql is fed to psql) against a temporary server that listens only on the Unix
#     socket and logs to stdout;
#   - then it execs the final server, which logs to stderr. Both servers print "database system
#     is ready to accept connections", once on each stream, as the official image does.
#   - any other command (`bash -c ...`, `pg_basebackup ...`) is exec'd unchanged.
set -Eeo pipefail

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" != 'postgres' ]; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 0700 "$PGDATA"
	chmod 3777 /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

psql_init() {
	psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

init_database() {
	: "${POSTGRES_USER:=postgres}"
	: "${POSTGRES_DB:=$POSTGRES_USER}"
	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		echo >&2 'error: database is uninitialized and POSTGRES_PASSWORD is not set;'
		echo >&2 '       set it, or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections.'
		exit 1
	fi
	# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as upstream.
	if [ -n "$POSTGRES_PASSWORD" ]; then
		initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
	else
		initdb --username="$POSTGRES_USER" $POSTGRES_INITDB_ARGS
	fi
	printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"

	local args=("${@:2}" -c "listen_addresses=" -p "${PGPORT:-5432}")
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${args[@]}")" -w start

	if [ "$POSTGRES_DB" != 'postgres' ]; then
		psql_init --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
	run_init_scripts
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo 'PostgreSQL init process complete; ready for start up.'
}

run_init_scripts() {
	local f
	for f in /docker-entrypoint-initdb.d/*; do
		# shellcheck disable=SC1090 # init scripts are the user's, as upstream.
		case "$f" in
			*.sh) if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
			*.sql) psql_init --dbname "$POSTGRES_DB" -f "$f" ;;
			*) if [ -e "$f" ]; then echo "ignoring $f"; fi ;;
		esac
	done
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	init_database "$@"
fi
exec "$@"
