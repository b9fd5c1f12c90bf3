import { beforeAll, describe, expect, it } from 'vitest';
import {
  isEmptySelector,
  selects,
  validateObject,
  type KubeObject,
  type LabelSelector,
} from './lib/kubernetes.ts';
import { allows, inNamespace } from './lib/network-policy.ts';
import { OVERLAYS, renderedOverlays, template } from './lib/overlays.ts';

/**
 * The pieces the overlays take from infrastructure/monitoring, postgres and redis (kustomize
 * Components), held to the same policies as DataLab's own Deployments where those apply, and the
 * names that tie them together (NetworkPolicy peers, Sentinel addresses, database hosts, scrape
 * ports) checked against what each overlay really runs (k8s-wiring.test.ts: the services' side).
 */
const { load, ofKind, named, policies, podsOf } = renderedOverlays();
beforeAll(load);

describe('the new kinds validate against their CRD schemas, and the check has teeth', () => {
  it('refuses a broken ServiceMonitor, PrometheusRule, AlertmanagerConfig, StatefulSet, Cluster and ScheduledBackup', () => {
    const broken = (object: KubeObject, spec: Record<string, unknown>) => ({ ...object, spec });
    const monitor = ofKind('production', 'ServiceMonitor')[0]!;
    expect(() => validateObject(monitor)).not.toThrow();
    expect(() => validateObject(broken(monitor, { ...monitor.spec, endpoints: 'http' }))).toThrow();
    const rule = ofKind('production', 'PrometheusRule')[0]!;
    expect(() => validateObject(broken(rule, { groups: [{ rules: [] }] }))).toThrow(/name/);
    const routing = ofKind('production', 'AlertmanagerConfig')[0]!;
    expect(() => validateObject(broken(routing, { ...routing.spec, receivers: [{}] }))).toThrow(/name/);
    const redis = named('production', 'StatefulSet', 'redis');
    expect(() => validateObject(broken(redis, { ...redis.spec, replicas: 'three' }))).toThrow();
    const cluster = ofKind('production', 'Cluster')[0]!;
    const spec = cluster.spec as { postgresql: Record<string, unknown> };
    expect(() =>
      validateObject(broken(cluster, { ...spec, postgresql: { synchronous: { method: 'all', number: 1 } } })),
    ).toThrow(/allowed values/);
    expect(() => validateObject(broken(cluster, { ...spec, instance: 3 }))).toThrow(/instance/);
    const backup = ofKind('production', 'ScheduledBackup')[0]!;
    expect(() => validateObject(broken(backup, { cluster: { name: 'x' } }))).toThrow(/schedule/);
  });
});

describe.each(OVERLAYS)('%s: monitoring, PostgreSQL and Redis are part of the overlay', (overlay) => {
  it('renders the ServiceMonitors, the PrometheusRule, the Alertmanager routing and the dashboards', () => {
    expect(
      ofKind(overlay, 'ServiceMonitor')
        .map((m) => m.metadata.name)
        .sort(),
    ).toEqual(['datalab-gateway', 'datalab-services', 'datalab-workers']);
    expect(ofKind(overlay, 'PrometheusRule')).toHaveLength(1);
    expect(ofKind(overlay, 'AlertmanagerConfig')).toHaveLength(1);
    const dashboards = ofKind(overlay, 'ConfigMap').filter(
      (c) => c.metadata.labels?.grafana_dashboard === '1',
    );
    expect(dashboards.length).toBeGreaterThanOrEqual(6);
  });

  it('every ServiceMonitor port exists on the Services it selects, and Prometheus may reach it', () => {
    const services = ofKind(overlay, 'Service');
    for (const monitor of ofKind(overlay, 'ServiceMonitor')) {
      const spec = monitor.spec as { selector: LabelSelector; endpoints: { port: string }[] };
      const selected = services.filter((s) => selects(spec.selector, s.metadata.labels ?? {}));
      expect(selected.length, monitor.metadata.name).toBeGreaterThan(0);
      for (const service of selected) {
        const serviceSpec = service.spec as {
          selector: Record<string, string>;
          ports: { name: string; port: number }[];
        };
        for (const { port: portName } of spec.endpoints) {
          const port = serviceSpec.ports.find((p) => p.name === portName);
          expect(port, `${service.metadata.name} port ${portName}`).toBeDefined();
          const admitted = policies(overlay).some(
            ({ spec: policy }) =>
              selects(policy.podSelector, serviceSpec.selector) &&
              (policy.ingress ?? []).some(
                (rule) =>
                  allows(rule.ports, port!.port) &&
                  (rule.from ?? []).some((peer) => inNamespace(peer, 'monitoring')),
              ),
          );
          expect(admitted, `Prometheus → ${service.metadata.name}:${port!.port}`).toBe(true);
        }
      }
    }
    // CloudNativePG's PodMonitor scrapes each instance's exporter on 9187.
    const pg = policies(overlay).find((p) => p.spec.podSelector.matchLabels?.['cnpg.io/cluster'])!;
    const scraped = (pg.spec.ingress ?? []).filter((rule) =>
      (rule.from ?? []).some((peer) => inNamespace(peer, 'monitoring')),
    );
    expect(scraped.flatMap((rule) => rule.ports?.map((p) => p.port))).toEqual([9187]);
  });

  it('Redis and Sentinel StatefulSets follow the container policies that apply to them', () => {
    const statefulSets = ofKind(overlay, 'StatefulSet');
    expect(statefulSets.map((s) => s.metadata.name).sort()).toEqual(['redis', 'sentinel']);
    for (const set of statefulSets) {
      const pod = template(set).spec;
      // Fixed size on purpose: one master and two replicas, three Sentinels for a quorum of two.
      expect((set.spec as { replicas: number }).replicas, set.metadata.name).toBe(3);
      expect(pod.automountServiceAccountToken, set.metadata.name).toBe(false);
      expect(pod.topologySpreadConstraints?.length, set.metadata.name).toBeGreaterThan(0);
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const where = `${set.metadata.name}/${container.name}`;
        expect(container.image, where).toMatch(/^redis:\d+\.\d+[\w.-]*$/);
        for (const resource of ['cpu', 'memory']) {
          expect(container.resources?.requests?.[resource], `${where} requests ${resource}`).toBeDefined();
          expect(container.resources?.limits?.[resource], `${where} limits ${resource}`).toBeDefined();
        }
        expect(container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, where).toBe(
          true,
        );
        expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
      }
      // Redis speaks RESP, not HTTP: the probes are `redis-cli ping` on the port the container
      // declares. No startup probe: both start in well under the liveness budget (60 s).
      for (const container of pod.containers) {
        const port = String(container.ports?.[0]?.containerPort);
        for (const probe of [container.livenessProbe, container.readinessProbe]) {
          const command = probe?.exec?.command ?? [];
          expect(command[0], container.name).toBe('redis-cli');
          expect(command.at(-1)).toBe('ping');
          if (port !== '6379') expect(command).toContain(port);
        }
      }
    }
  });

  it('no autoscaler touches the data tier; each of its pods has one PDB and its own NetworkPolicy', () => {
    const targets = [
      ...ofKind(overlay, 'HorizontalPodAutoscaler').map(
        (h) => (h.spec as { scaleTargetRef: { kind: string } }).scaleTargetRef.kind,
      ),
      ...ofKind(overlay, 'ScaledObject').map(
        (s) => (s.spec as { scaleTargetRef: { kind?: string } }).scaleTargetRef.kind ?? 'Deployment',
      ),
    ];
    expect(targets.every((kind) => kind === 'Deployment')).toBe(true);
    const pdbs = ofKind(overlay, 'PodDisruptionBudget').map(
      (p) => (p.spec as { selector: LabelSelector }).selector,
    );
    for (const { owner, labels } of podsOf(overlay).filter((p) => !p.owner.startsWith('Deployment/'))) {
      const guarding = pdbs.filter((selector) => !isEmptySelector(selector) && selects(selector, labels));
      // CloudNativePG makes its own PDBs (enablePDB); a second one would make every eviction fail.
      expect(guarding, `${owner}: PodDisruptionBudgets in the overlay`).toHaveLength(
        owner.startsWith('Cluster/') ? 0 : 1,
      );
      const own = policies(overlay).filter(
        (p) => !isEmptySelector(p.spec.podSelector) && selects(p.spec.podSelector, labels),
      );
      expect(own, `${owner}: NetworkPolicy`).toHaveLength(1);
      expect(own[0]!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    }
    const cluster = ofKind(overlay, 'Cluster')[0]!.spec as { enablePDB: boolean; instances: number };
    expect(cluster.enablePDB).toBe(true);
  });

  it('every NetworkPolicy peer in the namespace selects pods the overlay runs, on ports they serve', () => {
    const pods = podsOf(overlay);
    for (const { name, spec } of policies(overlay)) {
      const rules = [
        ...(spec.egress ?? []).map((r) => ({ peers: r.to ?? [], ports: r.ports })),
        ...(spec.ingress ?? []).map((r) => ({ peers: r.from ?? [], ports: r.ports })),
      ];
      for (const { peers } of rules) {
        for (const peer of peers.filter((p) => p.podSelector && !p.namespaceSelector)) {
          const matched = pods.filter((pod) => selects(peer.podSelector!, pod.labels));
          expect(matched.length, `${name}: ${JSON.stringify(peer.podSelector)}`).toBeGreaterThan(0);
        }
      }
    }
    const egressTo = (policy: string, labels: Record<string, string>) =>
      policies(overlay)
        .find((p) => p.name === policy)!
        .spec.egress!.filter((rule) =>
          (rule.to ?? []).some((peer) => peer.podSelector && selects(peer.podSelector, labels)),
        )
        .flatMap((rule) => (rule.ports ?? []).map((p) => p.port));
    const pg = ofKind(overlay, 'Cluster')[0]!.metadata.name;
    for (const policy of ['api-gateway', 'datalab-services', 'worker']) {
      expect(egressTo(policy, { 'cnpg.io/cluster': pg }), policy).toEqual([5432]);
      expect(egressTo(policy, template(named(overlay, 'StatefulSet', 'redis')).metadata.labels)).toEqual([
        6379,
      ]);
      expect(egressTo(policy, template(named(overlay, 'StatefulSet', 'sentinel')).metadata.labels)).toEqual([
        26379,
      ]);
    }
  });
});
