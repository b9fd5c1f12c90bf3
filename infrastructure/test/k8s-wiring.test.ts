import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { allServices } from '@datalab/cli';
import { repoRoot } from '../../test/processes.ts';
import { selects, type KubeObject } from './lib/kubernetes.ts';
import { allows, inNamespace } from './lib/network-policy.ts';
import { OVERLAYS, renderedOverlays, template } from './lib/overlays.ts';

/**
 * How the services find what the overlays' components run: the Sentinels, PostgreSQL's services,
 * the OpenTelemetry collector; and the Istio overlay's line between the mesh and the data tier.
 */
const { load, ofKind, named, policies } = renderedOverlays();

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
beforeAll(load);

describe('the Istio overlay', () => {
  it('keeps the data tier out of the mesh and DataLab’s services in it', () => {
    const annotationsOf = (o: KubeObject) =>
      o.kind === 'Cluster'
        ? (o.spec as { inheritedMetadata?: { annotations?: Record<string, string> } }).inheritedMetadata
            ?.annotations
        : (o.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata
            .annotations;
    const data = [...ofKind('production-istio', 'StatefulSet'), ...ofKind('production-istio', 'Cluster')];
    for (const o of data)
      expect(annotationsOf(o)?.['sidecar.istio.io/inject'], o.metadata.name).toBe('false');
    for (const o of ofKind('production-istio', 'Deployment'))
      expect(annotationsOf(o)?.['sidecar.istio.io/inject'], o.metadata.name).toBeUndefined();
    expect(ofKind('production', 'Cluster')[0]!.spec).not.toHaveProperty('inheritedMetadata');
  });
});

describe.each(OVERLAYS)('%s: the services find PostgreSQL, the Sentinels and the collector', (overlay) => {
  const config = () => named(overlay, 'ConfigMap', 'datalab-config').data!;

  it('REDIS_SENTINELS names every Sentinel pod and REDIS_SENTINEL_NAME the master they watch', () => {
    const sentinel = named(overlay, 'StatefulSet', 'sentinel');
    const spec = sentinel.spec as { replicas: number; serviceName: string };
    const port = template(sentinel).spec.containers[0]!.ports![0]!.containerPort;
    const expected = Array.from(
      { length: spec.replicas },
      (_, i) => `sentinel-${i}.${spec.serviceName}:${port}`,
    );
    expect(config().REDIS_SENTINELS?.split(',')).toEqual(expected);
    expect(named(overlay, 'Service', spec.serviceName)).toBeDefined();
    const sentinelConf = readFileSync(path.join(repoRoot, 'infrastructure/redis/sentinel.conf'), 'utf8');
    expect(sentinelConf).toMatch(
      new RegExp(`^sentinel monitor ${config().REDIS_SENTINEL_NAME} \\S+ 6379 2$`, 'm'),
    );
  });

  it('DATABASE_URL and READ_DATABASE_URL are documented at the Cluster’s -rw and -ro services', () => {
    const cluster = ofKind(overlay, 'Cluster')[0]!.metadata.name;
    const external = named(overlay, 'ExternalSecret', 'datalab-secrets').spec as {
      data: { secretKey: string }[];
    };
    expect(external.data.map((d) => d.secretKey)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'READ_DATABASE_URL']),
    );
    const backup = ofKind(overlay, 'ScheduledBackup')[0]!.spec as {
      cluster: { name: string };
      schedule: string;
    };
    expect(backup.cluster.name).toBe(cluster);
    expect(backup.schedule.split(' ')).toHaveLength(6); // CloudNativePG's cron has a seconds field
    for (const doc of ['docs/deployment.md', 'docs/operations.md']) {
      const text = readFileSync(path.join(repoRoot, doc), 'utf8');
      expect(text, doc).toContain(`${cluster}-rw`);
      expect(text, doc).toContain(`${cluster}-ro`);
      for (const [, label] of text.matchAll(/cnpg\.io\/cluster: ([\w-]+)/g)) expect(label, doc).toBe(cluster);
    }
  });

  it('every process that runs user SQL logs in as datalab_query, which the Cluster makes with its grants', () => {
    const runsUserSql = new Set<string>(allServices.filter((s) => s.runsUserSql).map((s) => s.name));
    const external = ofKind(overlay, 'ExternalSecret');
    const provided = (secret: string, key: string) =>
      external.some(
        (e) =>
          (e.spec as { target: { name: string } }).target.name === secret &&
          (e.spec as { data: { secretKey: string }[] }).data.some((d) => d.secretKey === key),
      );
    const users = ofKind(overlay, 'Deployment').filter((deployment) => {
      const args = (template(deployment).spec.containers[0] as { args?: string[] }).args ?? [];
      return args[0] === 'worker' || (args[0] === 'serve' && runsUserSql.has(args[1]!));
    });
    expect(users.map((d) => d.metadata.name).sort()).toEqual(['compute-service', 'data-service', 'worker']);
    for (const deployment of users) {
      const env = template(deployment).spec.containers[0]!.env as EnvVar[];
      const ref = env.find((v) => v.name === 'QUERY_DATABASE_URL')?.valueFrom?.secretKeyRef;
      expect(ref, `${deployment.metadata.name}: QUERY_DATABASE_URL`).toBeDefined();
      expect(ref!.optional, `${deployment.metadata.name}: required`).toBeUndefined();
      expect(provided(ref!.name, ref!.key), `${deployment.metadata.name}: ${ref!.key}`).toBe(true);
    }
    const cluster = ofKind(overlay, 'Cluster')[0]!.spec as {
      bootstrap: { initdb: { postInitApplicationSQL: string[] } };
      managed: {
        roles: { name: string; login: boolean; inRoles: string[]; passwordSecret: { name: string } }[];
      };
    };
    expect(cluster.bootstrap.initdb.postInitApplicationSQL).toEqual(
      expect.arrayContaining([
        'CREATE ROLE datalab_query LOGIN IN ROLE datalab_reader',
        'GRANT SET ON PARAMETER temp_file_limit TO datalab_query',
      ]),
    );
    const role = cluster.managed.roles.find((r) => r.name === 'datalab_query')!;
    expect(role).toMatchObject({ login: true, inRoles: ['datalab_reader'] });
    const password = external.find(
      (e) => (e.spec as { target: { name: string } }).target.name === role.passwordSecret.name,
    );
    expect(password?.spec).toMatchObject({
      target: { template: { type: 'kubernetes.io/basic-auth', data: { username: 'datalab_query' } } },
    });
    const docs = readFileSync(path.join(repoRoot, 'docs/deployment.md'), 'utf8');
    for (const key of ['QUERY_DATABASE_URL', 'JOBS_QUERY_DATABASE_URL', 'QUERY_DATABASE_PASSWORD'])
      expect(docs, key).toContain(key);
  });

  it('every Deployment sends spans to the collector under its own name, through an open port', () => {
    const endpoint = new URL(config().OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect(endpoint.port).toBe('4318');
    expect(endpoint.hostname).toMatch(/^otel-collector\.monitoring\./);
    const collector = readFileSync(path.join(repoRoot, 'infrastructure/otel/otel-collector.yaml'), 'utf8');
    expect(collector).toContain(`endpoint: 0.0.0.0:${endpoint.port}`);
    for (const deployment of ofKind(overlay, 'Deployment')) {
      const container = template(deployment).spec.containers[0]!;
      expect(container.env?.find((v) => v.name === 'OTEL_SERVICE_NAME')?.value).toBe(
        deployment.metadata.name,
      );
      const labels = template(deployment).metadata.labels;
      const open = policies(overlay).some(
        ({ spec }) =>
          selects(spec.podSelector, labels) &&
          (spec.egress ?? []).some(
            (rule) =>
              allows(rule.ports, Number(endpoint.port)) &&
              (rule.to ?? []).some(
                (peer) =>
                  inNamespace(peer, 'monitoring') &&
                  peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'otel-collector',
              ),
          ),
      );
      expect(open, `${deployment.metadata.name} → collector`).toBe(true);
    }
  });
});
