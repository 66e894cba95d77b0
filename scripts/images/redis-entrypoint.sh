#!/usr/bin/env bash
# Entrypoint of the look-alike `redis:7` image that scripts/build-images.sh builds from Debian
# packages. Like the official image's: arguments that start with '-' (or a *.conf file) are
# passed to `redis-server`; started as root it re-runs itself as the `redis` user. Unlike
# Debian's packaged config, the server listens on every interface, without protected mode,
# writes to /data, and logs to stdout ("Ready to accept connections"), as the official
# image's does. Any other command is exec'd unchanged.
set -Eeo pipefail

if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" != 'redis-server' ]; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	mkdir -p /data
	chown redis:redis /data
	exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

shift
config=()
if [ "${1%.conf}" != "${1:-}" ]; then
	config=("$1")
	shift
fi
exec redis-server "${config[@]}" --protected-mode no --dir /data "$@"
