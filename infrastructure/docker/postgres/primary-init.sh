#!/bin/sh
# First start of the compose PostgreSQL primary (docker-entrypoint-initdb.d): the streaming
# replication login the replica connects with. (query-login.sh, beside it, makes the login user SQL
# runs as.) The password comes from the environment, which compose fills from .env.
set -eu
: "${POSTGRES_REPLICATION_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v replication_password="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
SELECT pg_create_physical_replication_slot('replica_1');
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
