#!/bin/sh
# First start of a compose PostgreSQL (docker-entrypoint-initdb.d): the restricted login user SQL
# runs as (QUERY_DATABASE_URL of the data-service, the compute-service and the workers). It is only
# a member of datalab_reader (the data-service's migrations grant that role SELECT on dataset
# tables), and it may SET temp_file_limit, so each query gets the limit DataLab is configured with
# (QUERY_TEMP_FILE_BYTES); the reader role a query runs as may not raise it. The password comes from
# the environment, which compose fills from .env.
set -eu
: "${POSTGRES_QUERY_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v query_password="$POSTGRES_QUERY_PASSWORD" <<'SQL'
DO $$ BEGIN CREATE ROLE datalab_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE ROLE datalab_query LOGIN PASSWORD :'query_password' IN ROLE datalab_reader;
GRANT SET ON PARAMETER temp_file_limit TO datalab_query;
SQL
