#!/usr/bin/env bash
# Makes sure the services posbon's tests need are up: PostgreSQL on 127.0.0.1:5432, reachable as
# user postgres without a password (the store's tests create and drop a database per test).
#
# For development and CI machines only (Debian 12): it installs Debian's postgresql if missing,
# creates and starts the packaged cluster, and, where the server asks 127.0.0.1 for a password,
# allows the postgres user in from 127.0.0.1 without one. Idempotent: does nothing when the
# server is already up and reachable. Exits non-zero, saying why, when it cannot.
set -euo pipefail

HOST=127.0.0.1
PORT=5432
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

say() { echo "start-services: $*"; }
die() { echo "start-services: $*" >&2; exit 1; }

listening() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }
can_login() { psql -h "$HOST" -p "$PORT" -U postgres -d postgres -w -Atqc 'SELECT 1' >/dev/null 2>&1; }

# The packaged cluster's version (the newest if several), or nothing.
cluster_version() { pg_lsclusters -h 2>/dev/null | awk '$2 == "main" {print $1}' | sort -n | tail -1; }

if ! listening; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "PostgreSQL is not installed: apt-get install postgresql"
    $SUDO apt-get update -qq || die "apt-get update failed; cannot install PostgreSQL"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null \
      || die "apt-get install postgresql failed"
  fi
  ver=$(cluster_version)
  if [ -z "$ver" ]; then
    ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
    [ -n "$ver" ] || die "postgresql is installed but no server version is under /usr/lib/postgresql"
    say "creating PostgreSQL $ver cluster 'main'"
    # pg_createcluster runs initdb as the postgres user (initdb refuses root).
    $SUDO pg_createcluster "$ver" main >/dev/null || die "pg_createcluster $ver main failed"
  fi
  say "starting PostgreSQL $ver (cluster main)"
  $SUDO pg_ctlcluster "$ver" main start \
    || die "pg_ctlcluster $ver main start failed; see /var/log/postgresql/postgresql-$ver-main.log"
  for _ in $(seq 1 60); do
    listening && break
    sleep 0.5
  done
  listening || die "PostgreSQL $ver started but nothing listens on $HOST:$PORT after 30 s; see /var/log/postgresql/postgresql-$ver-main.log"
fi

command -v psql >/dev/null 2>&1 || die "something listens on $HOST:$PORT but psql is missing (apt-get install postgresql-client) to check it is PostgreSQL"

if ! can_login; then
  ver=$(cluster_version)
  hba=${ver:+/etc/postgresql/$ver/main/pg_hba.conf}
  [ -n "$hba" ] && [ -f "$hba" ] \
    || die "PostgreSQL on $HOST:$PORT refuses user postgres without a password, and it is not the packaged cluster this script may configure; allow trust for postgres from 127.0.0.1/32 or set POSBON_TEST_POSTGRES"
  say "allowing user postgres from $HOST without a password ($hba)"
  tmp=$(mktemp)
  { echo "host all postgres $HOST/32 trust  # added by posbon scripts/start-services.sh (test machines only)"; cat "$hba"; } >"$tmp"
  $SUDO cp "$tmp" "$hba"
  rm -f "$tmp"
  $SUDO pg_ctlcluster "$ver" main reload || die "pg_ctlcluster $ver main reload failed"
  sleep 1
  can_login || die "still cannot log in to PostgreSQL on $HOST:$PORT as postgres; check $hba"
fi

say "PostgreSQL is up on $HOST:$PORT ($(psql -h "$HOST" -p "$PORT" -U postgres -d postgres -w -Atqc 'SHOW server_version'))"
