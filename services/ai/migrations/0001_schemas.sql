COMMENT ON SCHEMA ai IS 'ai-service: model registry, versions, training lineage';
