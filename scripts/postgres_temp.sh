#!/usr/bin/env bash
# A throwaway PostgreSQL cluster from Debian's package, in a temporary directory, for the
# server tests and benchmarks (nothing is installed as a service, nothing outlives it).
#
#   eval "$(bash scripts/postgres_temp.sh start)"   # exports EXAM_SERVER_TEST_POSTGRES_URL
#   bash scripts/postgres_temp.sh stop "$EXAM_PG_DIR"
#
# Listens on 127.0.0.1 on a free port; trust authentication for the local user "postgres"
# (the cluster holds test data only and lives for one run). initdb refuses to run as
# root, so as root the cluster belongs to the "postgres" system user.
set -euo pipefail

pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$found" ] || { echo "postgres_temp: PostgreSQL is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
  echo "$found"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    bin=$(pg_bin)
    dir=$(mktemp -d /tmp/exam-pg-XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log"
    # Defaults otherwise (fsync on): the durability settings are under test.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300 -c shared_buffers=128MB" \
      start >/dev/null
    echo "export EXAM_PG_DIR=$dir"
    echo "export EXAM_SERVER_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${2:?usage: postgres_temp.sh stop DIR}"
    bin=$(pg_bin)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres_temp.sh start | stop DIR" >&2
    exit 2
    ;;
esac
