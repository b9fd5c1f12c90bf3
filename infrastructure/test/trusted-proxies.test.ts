import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../test/processes.ts';
import { kustomize, type KubeObject } from './lib/kubernetes.ts';
import { inNamespace, type Peer, type PolicySpec } from './lib/network-policy.ts';
import { OVERLAYS } from './lib/overlays.ts';

/**
 * TRUST_PROXY names the proxies whose X-Forwarded-For the gateway believes. Whoever it trusts can
 * claim any client address, and so spend anyone's rate budget: it must name the ingress (nginx in
 * compose) and nothing else, never a whole private network.
 */

/** The widest IPv4 range a TRUST_PROXY entry may name: 256 addresses, a node's or a pool's. */
const WIDEST_PREFIX = 24;

/** Each entry of a TRUST_PROXY value as an address and a prefix length (an address alone: /32). */
function entries(value: string): { address: string; prefix: number }[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const [address = '', prefix] = part.split('/');
      return { address, prefix: prefix === undefined ? 32 : Number(prefix) };
    });
}

function contains(cidr: string, address: string): boolean {
  const [network = '', prefix = '32'] = cidr.split('/');
  const list = new net.BlockList();
  list.addSubnet(network, Number(prefix), 'ipv4');
  return list.check(address, 'ipv4');
}

describe('TRUST_PROXY on Kubernetes', () => {
  const rendered = new Map<string, KubeObject[]>();
  const trustProxyOf = (name: string): string => {
    const config = rendered
      .get(name)
      ?.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'datalab-config');
    const data = (config as { data?: Record<string, string> } | undefined)?.data;
    if (!data || !('TRUST_PROXY' in data)) throw new Error(`${name}: datalab-config has no TRUST_PROXY`);
    return data.TRUST_PROXY ?? '';
  };

  beforeAll(async () => {
    rendered.set('base', await kustomize('infrastructure/k8s/base'));
    for (const overlay of OVERLAYS)
      rendered.set(overlay, await kustomize(`infrastructure/k8s/overlays/${overlay}`));
  });

  it('trusts nobody in the base, which knows no cluster’s addresses', () => {
    expect(trustProxyOf('base')).toBe('');
  });

  it.each(OVERLAYS)(
    '%s names only the ingress controller’s narrow range, never a private network',
    (overlay) => {
      const trusted = entries(trustProxyOf(overlay));
      expect(trusted.length).toBeGreaterThan(0);
      for (const { address, prefix } of trusted) {
        expect(net.isIPv4(address), `${overlay}: ${address} is an IPv4 address`).toBe(true);
        expect(
          prefix,
          `${overlay}: ${address}/${prefix} is at most /${WIDEST_PREFIX} wide`,
        ).toBeGreaterThanOrEqual(WIDEST_PREFIX);
        expect(prefix).toBeLessThanOrEqual(32);
      }
      // The old setting: every RFC 1918 address, i.e. every pod of the cluster.
      for (const probe of ['10.1.2.3', '172.16.5.5', '192.168.1.1'])
        expect(
          trusted.some((entry) => contains(`${entry.address}/${entry.prefix}`, probe)),
          probe,
        ).toBe(false);
    },
  );

  // The compute-service and the workers also reach the gateway (the internal principals route);
  // their addresses are pod addresses, outside the ingress controller's range, so the gateway never
  // believes their X-Forwarded-For.
  const ownCallers = ['compute-service', 'worker'];
  const isOwnCaller = (peer: Peer): boolean =>
    peer.namespaceSelector === undefined &&
    ownCallers.includes(peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? '');

  it.each(OVERLAYS)(
    '%s lets only the ingress controller, monitoring and DataLab’s own callers reach the gateway’s port',
    (overlay) => {
      const policy = rendered
        .get(overlay)
        ?.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'api-gateway');
      const spec = policy?.spec as unknown as PolicySpec;
      const peers = (spec.ingress ?? []).flatMap((rule) => rule.from ?? []);
      expect(peers.length).toBeGreaterThan(0);
      for (const peer of peers.filter((p) => !isOwnCaller(p))) {
        expect(peer.podSelector, `${overlay}: no pod-wide peer`).toBeUndefined();
        expect(inNamespace(peer, 'ingress-nginx') || inNamespace(peer, 'monitoring')).toBe(true);
      }
    },
  );
});

interface ComposeService {
  environment?: Record<string, string>;
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } } | null>;
}

describe('TRUST_PROXY in the production compose file', () => {
  const compose = parse(readFileSync(path.join(repoRoot, 'infrastructure/docker-compose.prod.yml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
  const networksOf = (service: string): string[] => {
    const networks = compose.services[service]?.networks ?? [];
    return Array.isArray(networks) ? networks : Object.keys(networks);
  };
  const nginxAddress = () => {
    const networks = compose.services.nginx?.networks;
    return Array.isArray(networks) ? undefined : networks?.edge?.ipv4_address;
  };

  it('is exactly nginx’s fixed address on the edge network', () => {
    expect(nginxAddress()).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(compose.services['api-gateway']?.environment?.TRUST_PROXY).toBe(nginxAddress());
  });

  it('puts nginx on the edge network only, inside that network’s own subnet, shared with the gateways alone', () => {
    expect(networksOf('nginx')).toEqual(['edge']);
    const subnet = compose.networks?.edge?.ipam?.config?.[0]?.subnet ?? '';
    expect(contains(subnet, nginxAddress() ?? '')).toBe(true);
    const onEdge = Object.keys(compose.services).filter((name) => networksOf(name).includes('edge'));
    expect(onEdge.sort()).toEqual(['api-gateway', 'nginx']);
    // The gateways still reach the services, the databases and Redis on the default network.
    expect(networksOf('api-gateway')).toEqual(['default', 'edge']);
  });
});
