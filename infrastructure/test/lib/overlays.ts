import { kustomize, type KubeObject } from './kubernetes.ts';
import type { PolicySpec } from './network-policy.ts';

/** The overlays the tests render, and accessors into what they render. */
export const OVERLAYS = ['staging', 'production', 'production-gpu', 'production-istio'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { exec?: { command: string[] } };
  readinessProbe?: { exec?: { command: string[] } };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    automountServiceAccountToken?: boolean;
    securityContext?: { runAsNonRoot?: boolean };
    topologySpreadConstraints?: unknown[];
  };
}

/** The pod template of a Deployment or StatefulSet. */
export const template = (workload: KubeObject) => (workload.spec as { template: PodTemplate }).template;

/** Renders every overlay once (`load`, for beforeAll), then answers questions about them. */
export function renderedOverlays() {
  const rendered = new Map<Overlay, KubeObject[]>();
  const ofKind = (overlay: Overlay, kind: string) => {
    const objects = rendered.get(overlay);
    if (!objects) throw new Error(`${overlay} not rendered yet`);
    return objects.filter((o) => o.kind === kind);
  };
  const named = (overlay: Overlay, kind: string, name: string) => {
    const found = ofKind(overlay, kind).find((o) => o.metadata.name === name);
    if (!found) throw new Error(`${overlay}: no ${kind}/${name}`);
    return found;
  };
  const policies = (overlay: Overlay) =>
    ofKind(overlay, 'NetworkPolicy').map((p) => ({
      name: p.metadata.name,
      spec: p.spec as unknown as PolicySpec,
    }));
  /** The labels of every pod an overlay runs: workloads' templates and CloudNativePG's instances. */
  const podsOf = (overlay: Overlay): { owner: string; labels: Record<string, string> }[] => {
    const workloads = [...ofKind(overlay, 'Deployment'), ...ofKind(overlay, 'StatefulSet')].map((w) => ({
      owner: `${w.kind}/${w.metadata.name}`,
      labels: template(w).metadata.labels,
    }));
    // CloudNativePG labels each instance pod with its Cluster's name (cnpg.io/cluster).
    const instances = ofKind(overlay, 'Cluster').map((c) => ({
      owner: `Cluster/${c.metadata.name}`,
      labels: { 'cnpg.io/cluster': c.metadata.name, 'cnpg.io/podRole': 'instance' },
    }));
    return [...workloads, ...instances];
  };
  const load = async () => {
    for (const overlay of OVERLAYS)
      rendered.set(overlay, await kustomize(`infrastructure/k8s/overlays/${overlay}`));
  };
  return { load, ofKind, named, policies, podsOf };
}
