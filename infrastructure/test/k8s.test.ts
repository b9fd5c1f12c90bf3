import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/processes.ts';
import {
  CREDENTIAL_NAME,
  CREDENTIAL_VALUE,
  configVariables,
  serviceVariables,
} from './lib/config-variables.ts';
import {
  isEmptySelector,
  kustomize,
  parseYamlObjects,
  selects,
  validateObject,
  type KubeObject,
  type LabelSelector,
} from './lib/kubernetes.ts';
import { SEED } from './lib/seed.ts';

const OVERLAYS = ['staging', 'production', 'production-gpu', 'production-istio'] as const;
type Overlay = (typeof OVERLAYS)[number];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsNonRoot?: boolean };
  topologySpreadConstraints?: unknown[];
  nodeSelector?: Record<string, string>;
  tolerations?: { key: string }[];
}

const rendered = new Map<Overlay | 'base', KubeObject[]>();
const get = (overlay: Overlay | 'base') => rendered.get(overlay)!;
const ofKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const deployments = (objects: KubeObject[]) => ofKind(objects, 'Deployment');
const podSpec = (deployment: KubeObject) =>
  (deployment.spec as { template: { spec: PodSpec } }).template.spec;
const podLabels = (deployment: KubeObject) =>
  (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
    .labels;
const containersOf = (deployment: KubeObject) => [
  ...podSpec(deployment).containers,
  ...(podSpec(deployment).initContainers ?? []),
];

beforeAll(async () => {
  rendered.set('base', await kustomize('infrastructure/k8s/base'));
  for (const overlay of OVERLAYS)
    rendered.set(overlay, await kustomize(`infrastructure/k8s/overlays/${overlay}`));
});

describe('the kustomize base and overlays (rendered by kubectl kustomize)', () => {
  it.each(['base', ...OVERLAYS] as const)('%s: every object validates against its schema', (overlay) => {
    const problems: string[] = [];
    for (const object of get(overlay)) {
      try {
        validateObject(object);
      } catch (error) {
        problems.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    expect(get(overlay).length).toBeGreaterThan(30);
  });

  it('a broken object is refused by the same validation (the check has teeth)', () => {
    const deployment = structuredClone(deployments(get('production'))[0]!);
    podSpec(deployment).containers[0]!.resources = { limits: { cpu: 'lots' } };
    expect(() => validateObject(deployment)).toThrow(/quantity/);
    expect(() => validateObject({ ...deployment, kind: 'Unheard' })).toThrow(/no schema known/);
  });

  it.each(OVERLAYS)('%s: puts everything in its namespace and runs registry images', (overlay) => {
    const namespace = ofKind(get(overlay), 'Namespace');
    expect(namespace).toHaveLength(1);
    const name = namespace[0]!.metadata.name;
    expect(namespace[0]!.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const object of get(overlay).filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(name);
    }
    for (const deployment of deployments(get(overlay))) {
      for (const container of containersOf(deployment))
        expect(container.image).toMatch(/^ghcr\.io\/datalab\/[a-z-]+:.+$/);
    }
  });
});

// DataLab's own Deployments. The Redis and Sentinel StatefulSets and the CloudNativePG Cluster the
// overlays add are held to the policies that apply to them in k8s-data.test.ts.
describe.each(OVERLAYS)('%s policies', (overlay) => {
  it('every container has requests and limits, the three probes, and runs non-root on a read-only root', () => {
    for (const deployment of deployments(get(overlay))) {
      const pod = podSpec(deployment);
      for (const container of containersOf(deployment)) {
        const where = `${deployment.metadata.name}/${container.name}`;
        for (const resource of ['cpu', 'memory']) {
          expect(container.resources?.requests?.[resource], `${where} requests ${resource}`).toBeDefined();
          expect(container.resources?.limits?.[resource], `${where} limits ${resource}`).toBeDefined();
        }
        const portNames = (container.ports ?? []).map((port) => port.name);
        for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
          expect(probe?.httpGet?.path, `${where} probe`).toMatch(/^\/health\/(live|ready)$/);
          expect(portNames, `${where} probes a port it declares`).toContain(probe?.httpGet?.port);
        }
        expect(container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, where).toBe(
          true,
        );
        expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
      }
      expect(pod.topologySpreadConstraints?.length, deployment.metadata.name).toBeGreaterThan(0);
    }
  });

  it('every pod has its own service account, without an API token', () => {
    const accounts = new Map(ofKind(get(overlay), 'ServiceAccount').map((a) => [a.metadata.name, a]));
    for (const deployment of deployments(get(overlay))) {
      const pod = podSpec(deployment);
      expect(pod.automountServiceAccountToken, deployment.metadata.name).toBe(false);
      const account = accounts.get(pod.serviceAccountName ?? 'default');
      expect(account, `${deployment.metadata.name}: service account`).toBeDefined();
      expect(account?.automountServiceAccountToken).toBe(false);
    }
  });

  it('the HorizontalPodAutoscalers scale each service within the seed’s range', () => {
    const hpas = ofKind(get(overlay), 'HorizontalPodAutoscaler');
    const ranges = Object.fromEntries(
      hpas.map((hpa) => {
        const spec = hpa.spec as {
          scaleTargetRef: { kind: string; name: string };
          minReplicas: number;
          maxReplicas: number;
        };
        expect(spec.scaleTargetRef.kind).toBe('Deployment');
        expect(deployments(get(overlay)).map((d) => d.metadata.name)).toContain(spec.scaleTargetRef.name);
        return [spec.scaleTargetRef.name, [spec.minReplicas, spec.maxReplicas]];
      }),
    );
    expect(ranges).toEqual(
      Object.fromEntries(Object.entries(SEED).map(([name, seed]) => [name, seed.replicas])),
    );
  });

  it('KEDA scales the workers on the jobs waiting in PostgreSQL', () => {
    const [scaled] = ofKind(get(overlay), 'ScaledObject');
    const spec = scaled?.spec as {
      scaleTargetRef: { name: string };
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metadata: { query: string }; authenticationRef: { name: string } }[];
    };
    expect(spec.scaleTargetRef.name).toBe('worker');
    expect(
      podSpec(deployments(get(overlay)).find((d) => d.metadata.name === 'worker')!).containers[0]?.args,
    ).toEqual(['worker']);
    expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(spec.maxReplicaCount).toBeGreaterThan(spec.minReplicaCount);
    expect(spec.triggers[0]?.type).toBe('postgresql');
    expect(spec.triggers[0]?.metadata.query).toMatch(
      /FROM compute\.jobs WHERE state IN \('queued', 'running'\)/,
    );
    const auth = ofKind(get(overlay), 'TriggerAuthentication').map((t) => t.metadata.name);
    expect(auth).toContain(spec.triggers[0]?.authenticationRef.name);
  });

  it('every Deployment is selected by a PodDisruptionBudget and by its own NetworkPolicy, behind a default deny', () => {
    const pdbs = ofKind(get(overlay), 'PodDisruptionBudget');
    const policies = ofKind(get(overlay), 'NetworkPolicy');
    const selectorOf = (o: KubeObject) => o.spec as { selector?: LabelSelector; podSelector?: LabelSelector };
    const denyAll = policies.find((p) => {
      const spec = p.spec as {
        podSelector: LabelSelector;
        policyTypes: string[];
        ingress?: unknown;
        egress?: unknown;
      };
      return isEmptySelector(spec.podSelector) && spec.ingress === undefined && spec.egress === undefined;
    });
    expect((denyAll?.spec as { policyTypes: string[] } | undefined)?.policyTypes).toEqual([
      'Ingress',
      'Egress',
    ]);
    for (const deployment of deployments(get(overlay))) {
      const labels = podLabels(deployment);
      const pdb = pdbs.filter(
        (p) => !isEmptySelector(selectorOf(p).selector!) && selects(selectorOf(p).selector!, labels),
      );
      expect(pdb, `${deployment.metadata.name}: PodDisruptionBudget`).toHaveLength(1);
      // Its own policy (ingress and egress); egress-only grants beside it (dataset-storage) add to it.
      const own = policies.filter(
        (p) =>
          !isEmptySelector(selectorOf(p).podSelector!) &&
          selects(selectorOf(p).podSelector!, labels) &&
          (p.spec as { policyTypes: string[] }).policyTypes.includes('Ingress'),
      );
      expect(own, `${deployment.metadata.name}: NetworkPolicy`).toHaveLength(1);
      expect((own[0]!.spec as { policyTypes: string[] }).policyTypes).toEqual(['Ingress', 'Egress']);
    }
  });

  it('only the ingress controller, Prometheus, and compute (asking about job owners) may reach the gateway; services only from DataLab pods', () => {
    const policies = ofKind(get(overlay), 'NetworkPolicy');
    type Peer = { namespaceSelector?: LabelSelector; podSelector?: LabelSelector };
    const sources = (name: string) =>
      (
        (policies.find((p) => p.metadata.name === name)!.spec as { ingress: { from: Peer[] }[] }).ingress ??
        []
      ).flatMap((rule) => rule.from);
    const namespaces = (peers: Peer[]) =>
      peers.flatMap((peer) =>
        peer.namespaceSelector ? [peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name']] : [],
      );
    expect(namespaces(sources('api-gateway')).sort()).toEqual(['ingress-nginx', 'monitoring']);
    // In the namespace, only the compute-service and the workers: they ask who a job's owner is now.
    expect(
      sources('api-gateway')
        .filter((peer) => peer.podSelector)
        .map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name']),
    ).toEqual(['compute-service', 'worker']);
    const services = sources('datalab-services');
    expect(namespaces(services)).toEqual(['monitoring']);
    expect(services.filter((peer) => peer.podSelector).map((peer) => peer.podSelector?.matchLabels)).toEqual([
      { 'app.kubernetes.io/part-of': 'datalab' },
    ]);
  });

  it('containers read only real DataLab variables; every credential comes from the external secret', () => {
    const objects = get(overlay);
    expect(ofKind(objects, 'Secret')).toEqual([]);
    const external = ofKind(objects, 'ExternalSecret');
    const provided = new Set(
      external.flatMap((e) =>
        (e.spec as { data: { secretKey: string }[] }).data.map(
          (item) => `${e.metadata.name}/${item.secretKey}`,
        ),
      ),
    );
    const configMaps = new Map(ofKind(objects, 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
    for (const deployment of deployments(objects)) {
      for (const container of containersOf(deployment)) {
        const where = `${deployment.metadata.name}/${container.name}`;
        const service = container.args?.[0] === 'serve' ? container.args[1]! : undefined;
        const known = service ? serviceVariables(service) : configVariables();
        const env = container.env ?? [];
        // Kubernetes-only helpers: filled from the downward API, used only inside another value.
        const helpers = env.filter(
          (v) => v.valueFrom?.fieldRef && env.some((other) => other.value?.includes(`$(${v.name})`)),
        );
        const fromConfigMaps = (container.envFrom ?? []).flatMap((source) => {
          expect(source.secretRef, `${where}: no envFrom secrets (each credential named)`).toBeUndefined();
          const data = configMaps.get(source.configMapRef!.name);
          expect(data, `${where}: ConfigMap ${source.configMapRef?.name}`).toBeDefined();
          return Object.keys(data!);
        });
        const names = [...env.filter((v) => !helpers.includes(v)).map((v) => v.name), ...fromConfigMaps];
        expect(
          names.filter((name) => !known.has(name)),
          `${where}: unknown variables`,
        ).toEqual([]);
        for (const variable of env.filter((v) => CREDENTIAL_NAME.test(v.name))) {
          const ref = variable.valueFrom?.secretKeyRef;
          expect(ref, `${where}: ${variable.name} from a secret`).toBeDefined();
          expect(provided, `${where}: ${variable.name}`).toContain(`${ref!.name}/${ref!.key}`);
        }
      }
    }
    expect(JSON.stringify(objects)).not.toMatch(CREDENTIAL_VALUE);
  });

  it('serves HTTPS for every host of every Ingress, to the gateway only', () => {
    for (const ingress of ofKind(get(overlay), 'Ingress')) {
      const spec = ingress.spec as {
        tls: { hosts: string[]; secretName: string }[];
        rules: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[];
      };
      const tlsHosts = spec.tls.flatMap((tls) => tls.hosts);
      for (const rule of spec.rules) {
        expect(tlsHosts).toContain(rule.host);
        for (const p of rule.http.paths) expect(p.backend.service.name).toBe('api-gateway');
      }
    }
  });
});

describe('sizing and options', () => {
  it('production runs each service with the seed’s CPU and memory (requests = limits)', () => {
    for (const [name, seed] of Object.entries(SEED)) {
      const deployment = deployments(get('production')).find((d) => d.metadata.name === name)!;
      const resources = podSpec(deployment).containers[0]!.resources!;
      expect(resources.requests).toEqual({ cpu: seed.cpu, memory: seed.memory });
      expect(resources.limits).toEqual({ cpu: seed.cpu, memory: seed.memory });
    }
  });

  it('the GPU overlay gives the ai-service a GPU on GPU nodes, and nothing else changes', () => {
    const gpu = deployments(get('production-gpu'));
    const ai = podSpec(gpu.find((d) => d.metadata.name === 'ai-service')!);
    expect(ai.containers[0]?.resources?.limits?.['nvidia.com/gpu']).toBe('1');
    expect(ai.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(ai.tolerations?.map((t) => t.key)).toEqual(['nvidia.com/gpu']);
    expect(ai.containers[0]?.env).toContainEqual({ name: 'AI_EXECUTION_PROVIDER', value: 'cuda' });
    const others = gpu.filter((d) => d.metadata.name !== 'ai-service');
    expect(others).toEqual(deployments(get('production')).filter((d) => d.metadata.name !== 'ai-service'));
  });

  it('the Istio overlay requires mutual TLS and gives every service timeouts, retries and outlier detection', () => {
    const objects = get('production-istio');
    expect(ofKind(objects, 'Namespace')[0]?.metadata.labels?.['istio-injection']).toBe('enabled');
    const meshWide = ofKind(objects, 'PeerAuthentication').find((p) => p.metadata.name === 'default');
    expect(meshWide?.spec).toEqual({ mtls: { mode: 'STRICT' } });
    for (const name of Object.keys(SEED).filter((n) => n !== 'api-gateway')) {
      const rule = ofKind(objects, 'DestinationRule').find((d) => d.metadata.name === name);
      expect(rule?.spec).toMatchObject({
        host: name,
        trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' }, outlierDetection: { consecutive5xxErrors: 5 } },
      });
      const routes = (
        ofKind(objects, 'VirtualService').find((v) => v.metadata.name === name)?.spec as {
          http: { timeout: string; retries?: { attempts: number; retryOn: string } }[];
        }
      ).http;
      const fallback = routes.at(-1)!;
      expect(fallback.timeout).toMatch(/^\d+s$/);
      expect(fallback.retries?.retryOn).toBe('connect-failure,refused-stream');
    }
  });

  it('deploy.sh renders an overlay with every image pinned to the tag it is given', async () => {
    const { stdout } = await promisify(execFile)(
      'sh',
      ['infrastructure/k8s/deploy.sh', 'staging', 'sha-0123abc', 'render'],
      {
        cwd: repoRoot,
        maxBuffer: 32 * 1024 * 1024,
      },
    );
    const images = deployments(parseYamlObjects(stdout)).flatMap((d) =>
      podSpec(d).containers.map((c) => c.image),
    );
    expect(images.length).toBe(6);
    expect(images.every((image) => /^ghcr\.io\/datalab\/[a-z-]+:sha-0123abc$/.test(image))).toBe(true);
  });
});
