#!/bin/sh
# First start of the compose PostgreSQL primary (docker-entrypoint-initdb.d): the streaming
# replication login the replica connects with, and the restricted login user SQL runs as
# (QUERY_DATABASE_URL). Passwords come from the environment, which compose fills from .env.
set -eu
: "${POSTGRES_REPLICATION_PASSWORD:?}" "${POSTGRES_QUERY_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v replication_password="$POSTGRES_REPLICATION_PASSWORD" \
  -v query_password="$POSTGRES_QUERY_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
SELECT pg_create_physical_replication_slot('replica_1');
-- The data-service's migrations grant SELECT on dataset tables to datalab_reader; this login
-- is only a member of it.
DO $$ BEGIN CREATE ROLE datalab_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE ROLE datalab_query LOGIN PASSWORD :'query_password' IN ROLE datalab_reader;
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
