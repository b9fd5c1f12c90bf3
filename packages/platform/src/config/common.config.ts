import { f } from './config.ts';

/** The fields every DataLab process reads, whichever service it runs. */
export const commonConfigSchema = {
  host: f.string('HOST', 'Interface the HTTP servers listen on (0.0.0.0 in containers).', '127.0.0.1'),
  port: f.optionalPort(
    'PORT',
    'Port to listen on. With `datalab up` the gateway takes PORT and the services PORT+1 to PORT+4.',
    "the service's own: 8000 gateway, 8001 data, 8002 ai, 8003 compute, 8004 viz",
  ),
  logLevel: f.oneOf('LOG_LEVEL', 'Log level.', 'info', [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ]),
  databaseUrl: f.optionalUrl(
    'DATABASE_URL',
    'PostgreSQL connection URL. Unset: an embedded PostgreSQL is started under DATALAB_DATA_DIR.',
    ['postgres', 'postgresql'],
  ),
  readDatabaseUrl: f.optionalUrl(
    'READ_DATABASE_URL',
    'Read-replica URL for read-only queries. Unset: reads go to DATABASE_URL.',
    ['postgres', 'postgresql'],
  ),
  queryDatabaseUrl: f.optionalUrl(
    'QUERY_DATABASE_URL',
    'Where user SQL runs: a login role that is only a member of datalab_reader and may SET temp_file_limit. Unset: embedded mode makes one; otherwise user SQL (SQL queries, `sql` and `transform` jobs) is refused.',
    ['postgres', 'postgresql'],
  ),
  databasePoolSize: f.integer('DATABASE_POOL_SIZE', 'Connections per service pool.', 10, 1, 500),
  databaseMaxMessageBytes: f.integer(
    'DATABASE_MAX_MESSAGE_BYTES',
    'Largest single message (one row) a process reads from PostgreSQL; a bigger one fails its query with 413 instead of exhausting memory.',
    128 * 1024 * 1024,
    64 * 1024,
    256 * 1024 * 1024,
  ),
  databaseConnectTimeoutMs: f.integer(
    'DATABASE_CONNECT_TIMEOUT_MS',
    'How long to wait for PostgreSQL at start and per connection.',
    5000,
    100,
  ),
  redisUrl: f.optionalUrl('REDIS_URL', 'Redis URL. Unset (and no Sentinels): in-memory adapters.', [
    'redis',
    'rediss',
  ]),
  redisPrefix: f.string(
    'REDIS_PREFIX',
    'Prefix of every Redis key and channel, so several DataLabs can share one Redis.',
    'datalab:',
  ),
  redisSentinels: f.hostPortList(
    'REDIS_SENTINELS',
    'Redis Sentinels as host:port,host:port (overrides REDIS_URL host).',
  ),
  redisSentinelName: f.string('REDIS_SENTINEL_NAME', 'Name of the master the Sentinels watch.', 'mymaster'),
  dataDir: f.string(
    'DATALAB_DATA_DIR',
    'Where embedded mode keeps its data (PostgreSQL, keys).',
    './.datalab',
  ),
  embeddedPostgresPort: f.port(
    'DATALAB_EMBEDDED_PG_PORT',
    'Port of the embedded PostgreSQL (loopback only).',
    54329,
  ),
  shutdownTimeoutMs: f.integer(
    'SHUTDOWN_TIMEOUT_MS',
    'On SIGTERM, how long in-flight requests may take before the process exits anyway.',
    10000,
    0,
  ),
  shutdownDrainMs: f.integer(
    'SHUTDOWN_DRAIN_MS',
    'On SIGTERM, how long requests in flight may run before their connections are closed (an upload or export cut off is not acknowledged, and leaves nothing behind).',
    1500,
    0,
  ),
  trustProxy: f.string(
    'TRUST_PROXY',
    'Proxies whose X-Forwarded-For is believed (comma-separated addresses/CIDRs, or true). Empty: none.',
    '',
  ),
  bodyLimitBytes: f.integer(
    'BODY_LIMIT_BYTES',
    'Largest JSON request body a service accepts.',
    1048576,
    1024,
  ),
  advertiseUrl: f.optionalUrl(
    'ADVERTISE_URL',
    'URL other instances use to reach this one (registry). Unset: http://<HOST or hostname>:<PORT>.',
    ['http', 'https'],
  ),
  registryHeartbeatMs: f.integer(
    'REGISTRY_HEARTBEAT_MS',
    'How often an instance renews its registry entry.',
    5000,
    100,
  ),
  registryTtlMs: f.integer(
    'REGISTRY_TTL_MS',
    'An instance silent this long leaves the registry.',
    15000,
    300,
  ),
  cacheMaxBytes: f.integer(
    'CACHE_MAX_BYTES',
    'Size bound of the in-memory cache (embedded mode).',
    268435456,
    0,
  ),
  internalKey: f.optionalString(
    'DATALAB_INTERNAL_KEY',
    'Ed25519 private key (PEM) signing the tokens between DataLab processes; every process needs the same one.',
  ),
  internalKeyFile: f.optionalString(
    'DATALAB_INTERNAL_KEY_FILE',
    'File holding that key. Neither set: generated once under DATALAB_DATA_DIR/keys.',
  ),
  otlpEndpoint: f.optionalUrl(
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OpenTelemetry collector (OTLP/HTTP, spans to <url>/v1/traces). Unset: tracing is off.',
    ['http', 'https'],
  ),
  otelServiceName: f.string(
    'OTEL_SERVICE_NAME',
    "service.name of this process's spans (each span also names its DataLab service).",
    'datalab',
  ),
  traceSamplePercent: f.integer(
    'OTEL_TRACES_SAMPLE_PERCENT',
    'Percentage of new traces kept (a caller that sends traceparent decides for its own trace).',
    100,
    0,
    100,
  ),
  instanceId: f.optionalString(
    'INSTANCE_ID',
    'Name of this instance in the registry. Unset: hostname-pid-random.',
  ),
};
