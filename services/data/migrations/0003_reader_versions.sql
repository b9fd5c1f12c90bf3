-- The query executor reads the versions of the datasets a query touches in the
-- same snapshot as the query (so a lagging replica is noticed and its answer
-- not cached). It runs on the restricted query login, which may see those two
-- columns and nothing else of the metadata.
GRANT USAGE ON SCHEMA data TO datalab_reader;
GRANT SELECT (id, version) ON data.datasets TO datalab_reader;
