import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1beta1/ExternalSecret';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { repoRoot } from '../../../test/processes.ts';
import { validateCnpg } from './cnpg-schema.ts';

const run = promisify(execFile);

/** A rendered Kubernetes object, loosely typed: tests look into it by path. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

interface Validatable {
  validate(): void;
}

/**
 * The schema each object is checked against, by `apiVersion/kind`. ExternalSecret is written as
 * external-secrets.io/v1 (the only version external-secrets ≥ 0.17 serves) and checked against the
 * v1beta1 schema of @kubernetes-models/external-secrets (the release that runs on Node 20): v1 is
 * that schema promoted unchanged, so only the apiVersion is swapped for the check. The Prometheus
 * Operator's kinds come from @kubernetes-models/prometheus-operator; CloudNativePG has no models
 * package, so its kinds are checked against its CRDs' OpenAPI schema (cnpg-schema.ts).
 */
const MODELS: Record<string, (object: KubeObject) => Validatable> = {
  'v1/ConfigMap': (o) => new ConfigMap(o),
  'v1/Namespace': (o) => new Namespace(o),
  'v1/PersistentVolumeClaim': (o) => new PersistentVolumeClaim(o),
  'v1/Service': (o) => new Service(o),
  'v1/ServiceAccount': (o) => new ServiceAccount(o),
  'apps/v1/Deployment': (o) => new Deployment(o as never),
  'apps/v1/StatefulSet': (o) => new StatefulSet(o as never),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o as never),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o as never),
  'networking.k8s.io/v1/Ingress': (o) => new Ingress(o),
  'keda.sh/v1alpha1/ScaledObject': (o) => new ScaledObject(o as never),
  'keda.sh/v1alpha1/TriggerAuthentication': (o) => new TriggerAuthentication(o as never),
  'external-secrets.io/v1/ExternalSecret': (o) =>
    new ExternalSecret({ ...o, apiVersion: 'external-secrets.io/v1beta1' } as never),
  'security.istio.io/v1beta1/PeerAuthentication': (o) => new PeerAuthentication(o),
  'networking.istio.io/v1beta1/DestinationRule': (o) => new DestinationRule(o),
  'networking.istio.io/v1beta1/VirtualService': (o) => new VirtualService(o),
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => new ServiceMonitor(o as never),
  'monitoring.coreos.com/v1/PrometheusRule': (o) => new PrometheusRule(o as never),
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig': (o) => new AlertmanagerConfig(o as never),
  'postgresql.cnpg.io/v1/Cluster': (o) => ({ validate: () => validateCnpg(o) }),
  'postgresql.cnpg.io/v1/ScheduledBackup': (o) => ({ validate: () => validateCnpg(o) }),
};

/** Throws with the schema's complaint, or when no schema is known for the object's kind. */
export function validateObject(object: KubeObject): void {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) throw new Error(`no schema known for ${object.apiVersion} ${object.kind}`);
  model(object).validate();
}

/** `kubectl kustomize <dir>` (Debian's kubectl has kustomize built in), parsed. */
export async function kustomize(directory: string): Promise<KubeObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', path.resolve(repoRoot, directory)], {
    maxBuffer: 32 * 1024 * 1024,
  });
  return parseYamlObjects(stdout);
}

export function parseYamlObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics (an empty selector matches everything). */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return labels[key] !== undefined && values.includes(labels[key]);
      case 'NotIn':
        return labels[key] === undefined || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabel && byExpression;
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0
  );
}
