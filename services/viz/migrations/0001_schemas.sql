COMMENT ON SCHEMA viz IS 'viz-service: saved charts and dashboards';
