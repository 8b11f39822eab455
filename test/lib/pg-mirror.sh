#!/usr/bin/env bash
# pg-mirror.sh ROOT - make a private, relocated copy of Debian's PostgreSQL 15
# installation under ROOT, so a developer can `make install` into it (with
# PG_CONFIG=ROOT/usr/lib/postgresql/15/bin/pg_config) without touching the
# system's copy.  PostgreSQL finds its share and lib directories relative to
# its binaries, so the copy works wherever it is put.  Development aid only.
set -euo pipefail
root=${1:?usage: pg-mirror.sh ROOT}
ver=15
mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$root/usr/include"
[ -d "$root/usr/lib/postgresql/$ver" ] || cp -a "/usr/lib/postgresql/$ver" "$root/usr/lib/postgresql/"
[ -d "$root/usr/share/postgresql/$ver" ] || cp -a "/usr/share/postgresql/$ver" "$root/usr/share/postgresql/"
[ -e "$root/usr/include/postgresql" ] || ln -s /usr/include/postgresql "$root/usr/include/postgresql"
echo "PG_CONFIG=$root/usr/lib/postgresql/$ver/bin/pg_config"
