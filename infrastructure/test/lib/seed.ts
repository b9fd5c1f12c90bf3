/**
 * The seed's sizing table: resources per instance and the autoscaling range of each service.
 * docs/deployment.md repeats it for people; the tests hold the manifests to it.
 */
export const SEED: Record<string, { cpu: string; memory: string; replicas: [number, number] }> = {
  'api-gateway': { cpu: '2', memory: '4Gi', replicas: [3, 20] },
  'data-service': { cpu: '4', memory: '8Gi', replicas: [2, 15] },
  'ai-service': { cpu: '8', memory: '16Gi', replicas: [2, 8] },
  'compute-service': { cpu: '8', memory: '16Gi', replicas: [2, 12] },
  'viz-service': { cpu: '2', memory: '4Gi', replicas: [2, 10] },
};
