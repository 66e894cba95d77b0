#!/usr/bin/env bash
# Builds look-alikes of the official `postgres:15` and `redis:7` images from Debian bookworm
# packages, for machines where Docker runs but no registry can be reached. When both images are
# already present (official or built here before), it prints one line and exits.
#
# How: debootstrap a minimal bookworm root file system, install postgresql-15 and redis-server
# without starting services or creating the default cluster, add the entrypoints from
# scripts/images/ (which mimic the official images' environment variables, arguments and log
# lines), then `docker import` the same tarball twice with a different ENTRYPOINT/CMD/EXPOSE
# per image (identical layers are stored once).
#
# Environment:
#   SCALESIM_PG_IMAGE       name of the Postgres image (default postgres:15)
#   SCALESIM_REDIS_IMAGE    name of the Redis image (default redis:7)
#   SCALESIM_DEBIAN_MIRROR  Debian mirror for debootstrap (default: debootstrap's own)
# Needs root when it has to build (debootstrap, chroot); installs debootstrap with apt-get if it
# is missing. Takes about two minutes.
set -euo pipefail

PG_IMAGE="${SCALESIM_PG_IMAGE:-postgres:15}"
REDIS_IMAGE="${SCALESIM_REDIS_IMAGE:-redis:7}"
SUITE=bookworm
PG_MAJOR=15
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "build-images: $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

present() { have_image "$PG_IMAGE" && have_image "$REDIS_IMAGE"; }

if present; then
	echo "build-images: $PG_IMAGE and $REDIS_IMAGE are present, nothing to do"
	exit 0
fi
# One build at a time on this machine (test runs of several checkouts may start it together);
# whoever waited finds the images there.
exec 9>"${TMPDIR:-/tmp}/scalesim-build-images.lock"
flock 9
if present; then
	echo "build-images: $PG_IMAGE and $REDIS_IMAGE were built meanwhile, nothing to do"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	log "building $PG_IMAGE / $REDIS_IMAGE needs root (debootstrap and chroot)"
	exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/scalesim-images.XXXXXX")"
ROOT="$WORK/rootfs"
cleanup() {
	if mountpoint -q "$ROOT/proc" 2>/dev/null; then umount "$ROOT/proc"; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

install_debootstrap() {
	if ! command -v debootstrap >/dev/null; then
		log "installing debootstrap"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
	fi
}

bootstrap() {
	local mirror=()
	if [ -n "${SCALESIM_DEBIAN_MIRROR:-}" ]; then mirror=("$SCALESIM_DEBIAN_MIRROR"); fi
	log "debootstrap $SUITE (minbase)"
	debootstrap --variant=minbase "$SUITE" "$ROOT" "${mirror[@]}" >"$WORK/debootstrap.log" 2>&1 \
		|| { tail -n 30 "$WORK/debootstrap.log" >&2; return 1; }
}

# No service may start inside the chroot, and postgresql-common must not create a cluster:
# the entrypoint runs initdb in the container, on its own PGDATA.
install_packages() {
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod +x "$ROOT/usr/sbin/policy-rc.d"
	mkdir -p "$ROOT/etc/postgresql-common/createcluster.d"
	echo 'create_main_cluster = false' >"$ROOT/etc/postgresql-common/createcluster.d/scalesim.conf"
	mount -t proc proc "$ROOT/proc"
	log "apt-get install postgresql-$PG_MAJOR redis-server"
	in_root apt-get update -qq
	in_root apt-get install -y -qq --no-install-recommends "postgresql-$PG_MAJOR" redis-server \
		>"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log" >&2; return 1; }
	in_root apt-get clean
	umount "$ROOT/proc"
}

in_root() { chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

# Directories as the official images have them, the entrypoints, and less weight.
finish_root() {
	install -m 0755 "$HERE/images/postgres-entrypoint.sh" "$ROOT/usr/local/bin/postgres-entrypoint.sh"
	install -m 0755 "$HERE/images/redis-entrypoint.sh" "$ROOT/usr/local/bin/redis-entrypoint.sh"
	mkdir -p "$ROOT/var/lib/postgresql/data" "$ROOT/run/postgresql" "$ROOT/data" "$ROOT/docker-entrypoint-initdb.d"
	in_root chown postgres:postgres /var/lib/postgresql/data /run/postgresql
	in_root chown redis:redis /data
	chmod 1777 "$ROOT/var/lib/postgresql/data"
	chmod 3777 "$ROOT/run/postgresql"
	# As the official image: the server listens on every interface of the container.
	sed -ri "s/^#?(listen_addresses)\s*=\s*\S+.*/\1 = '*'/" \
		"$ROOT/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
	rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
		"$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/i18n \
		"$ROOT"/var/log/*.log "$ROOT"/var/cache/debconf/*-old
	drop_jit
}

# LLVM and its z3 weigh 130 MB and serve only Postgres's JIT, which the workloads scalesim runs
# (short OLTP queries) never reach: without llvmjit.so the server simply reports jit as
# unavailable.
drop_jit() {
	rm -rf "$ROOT/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit.so" \
		"$ROOT/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit_types.bc" \
		"$ROOT/usr/lib/postgresql/$PG_MAJOR/lib/bitcode" \
		"$ROOT"/usr/lib/*-linux-gnu/libLLVM-*.so* "$ROOT"/usr/lib/*-linux-gnu/libz3.so*
	: >"$ROOT/etc/resolv.conf"
}

import_images() {
	log "packing the root file system"
	tar -C "$ROOT" --numeric-owner -cf "$WORK/rootfs.tar" .
	if ! have_image "$PG_IMAGE"; then
		log "importing $PG_IMAGE"
		IMPORTED+=("$PG_IMAGE")
		docker import \
			--change "ENV PATH=/usr/lib/postgresql/$PG_MAJOR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
			--change "ENV PG_MAJOR=$PG_MAJOR" \
			--change 'ENV PGDATA=/var/lib/postgresql/data' \
			--change 'ENV LANG=C.UTF-8' \
			--change 'LABEL org.scalesim.image=debian-lookalike' \
			--change 'ENTRYPOINT ["postgres-entrypoint.sh"]' \
			--change 'CMD ["postgres"]' \
			--change 'EXPOSE 5432' \
			"$WORK/rootfs.tar" "$PG_IMAGE" >/dev/null
	fi
	if ! have_image "$REDIS_IMAGE"; then
		log "importing $REDIS_IMAGE"
		IMPORTED+=("$REDIS_IMAGE")
		docker import \
			--change 'ENV LANG=C.UTF-8' \
			--change 'LABEL org.scalesim.image=debian-lookalike' \
			--change 'WORKDIR /data' \
			--change 'ENTRYPOINT ["redis-entrypoint.sh"]' \
			--change 'CMD ["redis-server"]' \
			--change 'EXPOSE 6379' \
			"$WORK/rootfs.tar" "$REDIS_IMAGE" >/dev/null
	fi
}

start=$SECONDS
IMPORTED=()
install_debootstrap
bootstrap
install_packages
finish_root
import_images
log "built ${IMPORTED[*]} in $((SECONDS - start)) s"
