import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allServices } from '@datalab/cli';
import { repoRoot } from '../../test/processes.ts';
import {
  CREDENTIAL_NAME,
  CREDENTIAL_VALUE,
  configVariables,
  serviceVariables,
} from './lib/config-variables.ts';
import { IMAGES, stages } from './lib/dockerfile.ts';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  secrets?: string[];
  depends_on?: string[] | Record<string, unknown>;
  deploy?: { replicas?: number };
  read_only?: boolean;
  healthcheck?: { test: string[] };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
}

const infrastructure = path.join(repoRoot, 'infrastructure');

function load(file: string): { text: string; compose: ComposeFile } {
  const text = readFileSync(path.join(infrastructure, file), 'utf8');
  return { text, compose: parse(text, { merge: true }) as ComposeFile };
}

/** The DataLab service a container runs (the worker runs the compute-service's image), if any. */
function datalabServiceOf(service: ComposeService): (typeof IMAGES)[number] | undefined {
  const fromImage = IMAGES.find((name) => service.image?.includes(`/${name}:`));
  const fromBuild = IMAGES.find(
    (name) => service.build?.dockerfile === `infrastructure/docker/Dockerfile.${name}`,
  );
  if (fromImage && fromBuild && fromImage !== fromBuild)
    throw new Error(`${fromImage} built from ${fromBuild}`);
  return fromImage ?? fromBuild;
}

function datalabContainers(compose: ComposeFile) {
  return Object.entries(compose.services).flatMap(([name, service]) => {
    const runs = datalabServiceOf(service);
    return runs ? [{ name, service, runs }] : [];
  });
}

describe.each(['docker-compose.yml', 'docker-compose.prod.yml'])('infrastructure/%s', (file) => {
  const { text, compose } = load(file);

  it('runs each of the five services and a worker from the images of infrastructure/docker', () => {
    const containers = datalabContainers(compose);
    expect(new Set(containers.map((c) => c.runs))).toEqual(new Set(IMAGES));
    const worker = containers.find((c) => c.name === 'worker');
    expect(worker?.runs).toBe('compute-service');
    expect(worker?.service.command).toEqual(['worker']);
    for (const { name, runs } of containers) {
      if (name !== 'worker') expect(name).toBe(runs);
    }
  });

  it('builds only from Dockerfiles that exist, with the repository root as context', () => {
    const builds = Object.values(compose.services).flatMap((s) => (s.build ? [s.build] : []));
    for (const build of builds) {
      expect(path.resolve(infrastructure, build.context)).toBe(repoRoot);
      expect(build.dockerfile).toMatch(/^infrastructure\/docker\/Dockerfile\.[a-z-]+$/);
      expect(existsSync(path.join(repoRoot, build.dockerfile)), build.dockerfile).toBe(true);
    }
  });

  it('gives DataLab containers only variables their service reads', () => {
    for (const { name, service, runs } of datalabContainers(compose)) {
      // A worker runs every service's job types, each reading its own service's settings.
      const known = name === 'worker' ? configVariables() : serviceVariables(runs);
      const unknown = Object.keys(service.environment ?? {}).filter((variable) => !known.has(variable));
      expect(unknown, `${name} sets variables ${runs} does not read`).toEqual([]);
      expect(service.read_only, `${name} has a read-only root filesystem`).toBe(true);
    }
  });

  it('points the gateway at each service by its compose name and port', () => {
    const environment = compose.services['api-gateway']?.environment ?? {};
    for (const definition of allServices.filter((s) => s.name !== 'api-gateway')) {
      const variable = `${definition.name.replace('-service', '').toUpperCase()}_SERVICE_URL`;
      expect(environment[variable]).toBe(`http://${definition.name}:${definition.defaultPort}`);
      expect(compose.services[definition.name]).toBeDefined();
    }
  });

  it('writes no credential: passwords come from the environment, keys from secret files', () => {
    expect(text).not.toMatch(CREDENTIAL_VALUE);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (!CREDENTIAL_NAME.test(variable) || variable.endsWith('_FILE')) continue;
        // URLs were checked above (no password written out); a password or secret key is only ever interpolated.
        if (/PASSWORD|SECRET/.test(variable))
          expect(String(value), `${name}: ${variable}`).toMatch(/^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/);
      }
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (variable.endsWith('_FILE')) {
          const secret = String(value).replace('/run/secrets/', '');
          expect(service.secrets, `${name}: ${variable} names a secret it mounts`).toContain(secret);
        }
      }
    }
    for (const [secret, { file }] of Object.entries(compose.secrets ?? {})) {
      expect(file, `${secret} lives in the git-ignored secrets folder`).toMatch(/^\.\/secrets\/[^/]+$/);
    }
    const ignored = readFileSync(path.join(infrastructure, '.gitignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'secrets/*']));
  });

  it('gives every process that runs user SQL the restricted login, made at PostgreSQL’s first start', () => {
    const runsUserSql = new Set(allServices.filter((s) => s.runsUserSql).map((s) => s.name));
    const containers = datalabContainers(compose).filter(({ runs }) => runsUserSql.has(runs));
    expect(containers.map((c) => c.name).sort()).toEqual(['compute-service', 'data-service', 'worker']);
    for (const { name, service } of containers) {
      const setting = String(service.environment?.QUERY_DATABASE_URL);
      expect(setting, name).toMatch(/^postgres:\/\/datalab_query:\$\{POSTGRES_QUERY_PASSWORD:\?[^}]*\}@/);
      const host = new URL(setting.replace(/\$\{[^}]*\}/, 'password')).hostname;
      expect(compose.services[host], `${name} → ${host}`).toBeDefined();
    }
    // One PostgreSQL makes the login (a replica is a copy of its primary), with the password compose passes.
    const makers = Object.values(compose.services).filter((s) =>
      (s.volumes ?? []).some((v) =>
        v.startsWith('./docker/postgres/query-login.sh:/docker-entrypoint-initdb.d/'),
      ),
    );
    expect(makers).toHaveLength(1);
    expect(String(makers[0]!.environment?.POSTGRES_QUERY_PASSWORD)).toMatch(
      /^\$\{POSTGRES_QUERY_PASSWORD:\?/,
    );
    const script = readFileSync(path.join(infrastructure, 'docker/postgres/query-login.sh'), 'utf8');
    expect(script).toContain(
      "CREATE ROLE datalab_query LOGIN PASSWORD :'query_password' IN ROLE datalab_reader;",
    );
    expect(script).toContain('GRANT SET ON PARAMETER temp_file_limit TO datalab_query;');
  });

  it('mounts only files of this repository and depends only on services it defines', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.')) continue;
        expect(existsSync(path.resolve(infrastructure, source)), `${name} mounts ${source}`).toBe(true);
      }
      const dependencies = Array.isArray(service.depends_on)
        ? service.depends_on
        : Object.keys(service.depends_on ?? {});
      for (const dependency of dependencies)
        expect(compose.services[dependency], `${name} → ${dependency}`).toBeDefined();
      for (const secret of service.secrets ?? [])
        expect(compose.secrets?.[secret], `${name}: ${secret}`).toBeDefined();
    }
  });
  it('keeps dataset files in MinIO’s versioned bucket, which the data-service and the worker share', () => {
    const { minio, 'minio-setup': setup } = compose.services;
    expect(minio?.image).toMatch(/^minio\/minio:RELEASE\.[0-9TZ-]+$/);
    expect(minio?.volumes).toContain('minio-data:/data');
    expect(minio?.healthcheck?.test).toEqual(['CMD', 'mc', 'ready', 'local']);
    expect(setup?.image).toMatch(/^minio\/mc:RELEASE\.[0-9TZ-]+$/);
    expect(setup?.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    const script = setup!.volumes!.find((volume) => volume.startsWith('./minio/setup.sh:'))!.split(':')[1]!;
    expect(setup?.entrypoint).toEqual(['sh', script]);
    const steps = readFileSync(path.join(infrastructure, 'minio/setup.sh'), 'utf8');
    expect(steps).toMatch(/^mc mb --ignore-existing "\$bucket"$/m);
    expect(steps).toMatch(/^mc version enable "\$bucket"$/m);
    expect(steps).toMatch(/"NoncurrentVersionExpiration": \{"NoncurrentDays": \$NONCURRENT_VERSION_DAYS\}/);
    // The services' login may not delete object versions, nor change versioning or lifecycle.
    expect(steps).not.toMatch(/s3:\*|DeleteObjectVersion|PutBucketVersioning|PutLifecycleConfiguration/);

    const readers = datalabContainers(compose).filter(({ service }) => service.environment?.DATA_STORAGE);
    expect(readers.map((c) => c.name).sort()).toEqual(['data-service', 'worker']);
    for (const { name, service } of readers) {
      const environment = service.environment!;
      expect(environment.DATA_STORAGE, name).toBe('s3');
      expect(environment.DATA_S3_ENDPOINT, name).toBe('http://minio:9000');
      expect(environment.DATA_S3_FORCE_PATH_STYLE, name).toBe('true');
      for (const variable of ['DATA_S3_BUCKET', 'DATA_S3_ACCESS_KEY_ID', 'DATA_S3_SECRET_ACCESS_KEY'])
        expect(environment[variable], `${name}: ${variable}`).toBe(setup?.environment?.[variable]);
      expect(service.depends_on, name).toMatchObject({
        'minio-setup': { condition: 'service_completed_successfully' },
      });
    }
  });

  it('gives each data container a volume of its own for its cache, uploads and spill files, which its user may write', () => {
    const readers = datalabContainers(compose).filter(({ service }) => service.environment?.DATA_STORAGE);
    expect(readers.map((c) => c.name).sort()).toEqual(['data-service', 'worker']);
    for (const { name, service, runs } of readers) {
      const dataDir = service.environment!.DATALAB_DATA_DIR;
      // An anonymous volume: each replica gets its own, so replicas share nothing but the bucket.
      expect(service.volumes, name).toEqual([dataDir]);
      expect(service.environment!.DATA_STORAGE_DIR, `${name}: the cache under the volume`).toBeUndefined();
      const text = readFileSync(path.join(repoRoot, `infrastructure/docker/Dockerfile.${runs}`), 'utf8');
      const image = stages(text).at(-1)!;
      const runSteps = image.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
      expect(runSteps, name).toContainEqual(`mkdir -p ${dataDir} && chown ${image.user} ${dataDir}`);
    }
  });
});

describe('the production compose file', () => {
  const { text, compose } = load('docker-compose.prod.yml');
  const services = compose.services;

  it('puts nginx with this repository’s config in front of several gateways', () => {
    expect(services.nginx?.volumes).toContain('./nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(services.nginx?.secrets).toEqual(['tls_cert', 'tls_key']);
    expect(services['api-gateway']?.deploy?.replicas).toBeGreaterThanOrEqual(2);
    // Only nginx is believed about the client's address (trusted-proxies.test.ts checks it closely).
    expect(services['api-gateway']?.environment?.TRUST_PROXY).toBe('172.30.250.10');
  });

  it('runs a PostgreSQL primary with a streaming replica serving READ_DATABASE_URL', () => {
    expect(services['postgres-primary']).toBeDefined();
    expect(services['postgres-replica']?.depends_on).toHaveProperty('postgres-primary');
    const environment = services['data-service']?.environment ?? {};
    expect(String(environment.DATABASE_URL)).toContain('@postgres-primary:5432/');
    expect(String(environment.READ_DATABASE_URL)).toContain('@postgres-replica:5432/');
  });

  it('runs Redis with three Sentinels that the services use', () => {
    const sentinels = Object.keys(services).filter((name) => name.startsWith('redis-sentinel-'));
    expect(sentinels).toHaveLength(3);
    const environment = services['api-gateway']?.environment ?? {};
    expect(String(environment.REDIS_SENTINELS).split(',')).toEqual(sentinels.map((name) => `${name}:26379`));
    for (const name of sentinels) {
      expect(services[name]?.volumes).toContain('./redis/sentinel.conf:/etc/redis/sentinel.conf:ro');
    }
    const sentinelConf = readFileSync(path.join(infrastructure, 'redis/sentinel.conf'), 'utf8');
    expect(sentinelConf).toMatch(
      new RegExp(`^sentinel monitor ${String(environment.REDIS_SENTINEL_NAME)} redis-primary 6379 2$`, 'm'),
    );
    expect(services['redis-primary']).toBeDefined();
    expect(services['redis-replica']?.command).toEqual(
      expect.arrayContaining(['--replicaof', 'redis-primary']),
    );
  });

  it('runs Prometheus, Alertmanager, Grafana and the node exporter Prometheus scrapes', () => {
    for (const name of ['prometheus', 'alertmanager', 'grafana', 'node-exporter'])
      expect(services[name]).toBeDefined();
    const prometheus = readFileSync(path.join(infrastructure, 'monitoring/prometheus.yml'), 'utf8');
    expect(prometheus).toMatch(/names: \['node-exporter'\]\s+type: A\s+port: 9100/);
  });

  it('sends every DataLab container’s spans, under its own service name, to the collector', () => {
    expect(services['otel-collector']?.volumes).toContain(
      './otel/otel-collector.yaml:/etc/otelcol/config.yaml:ro',
    );
    const collector = readFileSync(path.join(infrastructure, 'otel/otel-collector.yaml'), 'utf8');
    expect(collector).toContain('endpoint: 0.0.0.0:4318');
    for (const { name, service } of datalabContainers(compose)) {
      expect(service.environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://otel-collector:4318');
      expect(service.environment?.OTEL_SERVICE_NAME, name).toBe(name);
    }
  });

  it('keeps a dropped dataset file, and then its noncurrent version, through the point-in-time recovery window', () => {
    // postgres/pgbackrest.conf keeps repo1-retention-full weekly full backups (docs/operations.md).
    const pgbackrest = readFileSync(path.join(infrastructure, 'postgres/pgbackrest.conf'), 'utf8');
    const fullBackups = Number(/^repo1-retention-full=(\d+)$/m.exec(pgbackrest)![1]);
    const windowDays = 7 * fullBackups;
    for (const name of ['data-service', 'worker'])
      expect(Number(services[name]?.environment?.DATA_SWEEP_GRACE_SECONDS), name).toBeGreaterThanOrEqual(
        windowDays * 24 * 3600,
      );
    expect(Number(services['minio-setup']?.environment?.NONCURRENT_VERSION_DAYS)).toBeGreaterThanOrEqual(
      windowDays,
    );
  });

  it('asks for every interpolated setting in .env.example', () => {
    const example = readFileSync(path.join(infrastructure, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((match) => match[1]));
    const used = new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((match) => match[1]));
    expect([...used].filter((variable) => !listed.has(variable))).toEqual([]);
  });
});
