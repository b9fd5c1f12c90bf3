import { beforeAll, describe, expect, it } from 'vitest';
import { selects, type KubeObject } from './lib/kubernetes.ts';
import { allows } from './lib/network-policy.ts';
import { OVERLAYS, renderedOverlays, template } from './lib/overlays.ts';

/**
 * Dataset files on Kubernetes: the data-service and the workers name one S3 bucket, cache and spill
 * in emptyDirs of their own (the data-service keeps nothing: no volume claim), may reach the
 * bucket, and a dropped file outlives PostgreSQL's point-in-time recovery window.
 */
const { load, ofKind, named, policies } = renderedOverlays();
beforeAll(load);

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface DataContainer {
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string };
  persistentVolumeClaim?: unknown;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** A Kubernetes quantity in bytes (the binary suffixes the manifests use). */
function bytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi|Ti)$/.exec(quantity);
  if (!match) throw new Error(`unexpected quantity ${quantity}`);
  return Number(match[1]) * { Mi: MiB, Gi: GiB, Ti: 1024 * GiB }[match[2] as 'Mi' | 'Gi' | 'Ti'];
}

/** CloudNativePG's retentionPolicy (`30d`, `4w`) in seconds. */
function retentionSeconds(policy: string): number {
  const match = /^(\d+)([dw])$/.exec(policy);
  if (!match) throw new Error(`unexpected retention ${policy}`);
  return Number(match[1]) * (match[2] === 'w' ? 7 : 1) * 24 * 3600;
}

const READERS = ['data-service', 'worker'];

describe.each(OVERLAYS)('%s: dataset files in object storage', (overlay) => {
  const storage = () => named(overlay, 'ConfigMap', 'datalab-dataset-storage').data!;
  const pod = (name: string) => {
    const spec = template(named(overlay, 'Deployment', name)).spec as unknown as {
      containers: DataContainer[];
      volumes: Volume[];
    };
    return { container: spec.containers[0]!, volumes: spec.volumes };
  };
  /** The emptyDir mounted at `mountPath` in `name`'s pod, or at a folder above it. */
  const emptyDirAt = (name: string, mountPath: string) => {
    const { container, volumes } = pod(name);
    const mount = (container.volumeMounts ?? [])
      .filter((m) => mountPath === m.mountPath || mountPath.startsWith(`${m.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    expect(mount, `${name}: a volume at ${mountPath}`).toBeDefined();
    const volume = volumes.find((v) => v.name === mount!.name)!;
    expect(volume.emptyDir, `${name}: ${volume.name} is an emptyDir`).toBeDefined();
    return bytes(volume.emptyDir!.sizeLimit!);
  };

  it('the data-service and the workers store in S3, with the bucket’s keys from the external secret', () => {
    expect(storage().DATA_STORAGE).toBe('s3');
    expect(storage().DATA_S3_BUCKET).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/);
    const external = named(overlay, 'ExternalSecret', 'datalab-secrets').spec as {
      data: { secretKey: string }[];
    };
    const users = ofKind(overlay, 'Deployment').filter((deployment) =>
      (template(deployment).spec.containers[0] as DataContainer).envFrom?.some(
        (source) => source.configMapRef?.name === 'datalab-dataset-storage',
      ),
    );
    expect(users.map((d) => d.metadata.name).sort()).toEqual(READERS);
    for (const name of READERS) {
      const env = pod(name).container.env ?? [];
      for (const key of ['DATA_S3_ACCESS_KEY_ID', 'DATA_S3_SECRET_ACCESS_KEY']) {
        expect(env.find((v) => v.name === key)?.valueFrom?.secretKeyRef, `${name}: ${key}`).toEqual({
          name: 'datalab-secrets',
          key,
        });
        expect(external.data.map((d) => d.secretKey)).toContain(key);
      }
    }
  });

  it('each pod caches in an emptyDir sized for DATA_CACHE_MAX_MB, and spills in one sized for DATA_ENGINE_TEMP_MB', () => {
    const cacheBytes = Number(storage().DATA_CACHE_MAX_MB) * MiB;
    const spillBytes = Number(storage().DATA_ENGINE_TEMP_MB) * MiB;
    for (const name of READERS) {
      // Past the cache's bound: a version being written is staged there, and files being read stay.
      expect(emptyDirAt(name, storage().DATA_STORAGE_DIR!), `${name}: cache`).toBeGreaterThanOrEqual(
        cacheBytes + 2 * GiB,
      );
      // DuckDB spills to <DATALAB_DATA_DIR>/duckdb-tmp; uploads wait beside it.
      const spill = `${storage().DATALAB_DATA_DIR}/duckdb-tmp`;
      expect(emptyDirAt(name, spill), `${name}: spill`).toBeGreaterThanOrEqual(spillBytes + 2 * GiB);
    }
    expect(pod('data-service').volumes.filter((v) => v.persistentVolumeClaim)).toEqual([]);
  });

  it('both may reach the bucket over HTTPS, and nothing else gains that way out', () => {
    const grants = policies(overlay).filter(({ spec }) =>
      (spec.egress ?? []).some((rule) => rule.to === undefined && allows(rule.ports, 443)),
    );
    const reaching = (labels: Record<string, string>) =>
      grants.some(({ spec }) => selects(spec.podSelector, labels));
    const pods = ofKind(overlay, 'Deployment').map((d: KubeObject) => ({
      name: d.metadata.name,
      reaches: reaching(template(d).metadata.labels),
    }));
    expect(
      pods
        .filter((p) => p.reaches)
        .map((p) => p.name)
        .sort(),
    ).toEqual(READERS);
  });

  it('keeps a dropped file longer than PostgreSQL’s point-in-time recovery window', () => {
    const cluster = ofKind(overlay, 'Cluster')[0]!.spec as { backup: { retentionPolicy: string } };
    expect(Number(storage().DATA_SWEEP_GRACE_SECONDS)).toBeGreaterThanOrEqual(
      retentionSeconds(cluster.backup.retentionPolicy),
    );
  });
});
