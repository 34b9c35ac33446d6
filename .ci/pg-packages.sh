#!/usr/bin/env bash
# Debian's PostgreSQL server binaries for the store tests, which run a private server
# (tests/pg_instance.py: its own data directory, 127.0.0.1 only). Installs only what is
# missing and neither creates nor starts the system's cluster: postgresql-common is told not
# to create one (for the install only), and a temporary policy-rc.d keeps the start scripts from starting anything.
set -euo pipefail

have() {
    compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && command -v psql >/dev/null \
        && id postgres >/dev/null 2>&1
}

have && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "pg-packages: run as root to install postgresql" >&2
    exit 1
fi
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy=yes
fi
conf=/etc/postgresql-common/createcluster.d/mailport-ci.conf
trap 'rm -f "$conf"; [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
mkdir -p "$(dirname "$conf")"
echo "create_main_cluster = false" >"$conf"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
echo "pg-packages: postgresql installed (no cluster created, nothing started)"
