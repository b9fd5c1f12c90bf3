import type { LabelSelector } from './kubernetes.ts';

/** The parts of a NetworkPolicy the tests read. */
export type Peer = { namespaceSelector?: LabelSelector; podSelector?: LabelSelector };
export type Port = { port: number; endPort?: number };
export interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes: string[];
  ingress?: { from?: Peer[]; ports?: Port[] }[];
  egress?: { to?: Peer[]; ports?: Port[] }[];
}

/** A rule's ports admit `port` (no ports listed: every port). */
export function allows(ports: Port[] | undefined, port: number): boolean {
  return ports === undefined || ports.some((p) => port >= p.port && port <= (p.endPort ?? p.port));
}

/** The peer is (pods in) the namespace named `namespace`. */
export function inNamespace(peer: Peer, namespace: string): boolean {
  return peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === namespace;
}
