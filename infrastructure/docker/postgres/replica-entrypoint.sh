#!/bin/sh
# The compose PostgreSQL streaming replica: on first start, clone the primary with
# pg_basebackup (-R writes standby.signal and primary_conninfo), then run as a hot standby.
set -eu
: "${PRIMARY_HOST:?}" "${POSTGRES_REPLICATION_PASSWORD:?}"
export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres -q; do sleep 1; done
  pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -X stream -R -S replica_1 -P
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on
