#!/usr/bin/env bash
# PostgreSQL 15 and alembic 1.8 from Debian for the migration tests (toolchain.md sections 5-6). The tests start their
# own throwaway cluster; the packaged cluster is left alone. Installed only when missing; needs root.
set -euo pipefail
missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -x /usr/bin/alembic ] || missing+=(alembic)
/usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing+=(python3-psycopg2)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "missing for the migration tests: ${missing[*]}; install these Debian packages as root first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
/usr/bin/alembic --version >/dev/null
/usr/bin/python3 -c 'import psycopg2'
