COMMENT ON SCHEMA compute IS 'compute-service: jobs, job logs, schedules';
