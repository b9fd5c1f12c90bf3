import { BlockList, isIP } from 'node:net';
import { f, type ConfigOf, type Field } from '@datalab/platform';

/** Comma-separated CIDR networks (`10.1.2.0/24,fd00::/8`) as a list that can be checked against an address. */
function networkList(env: string, doc: string): Field<BlockList> {
  return {
    env,
    doc,
    default: new BlockList(),
    defaultText: '(empty)',
    parse: (raw) => {
      const list = new BlockList();
      for (const part of raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')) {
        const [network = '', bits = ''] = part.split('/');
        const family = isIP(network);
        const prefix = Number(bits || (family === 6 ? 128 : 32));
        const max = family === 6 ? 128 : 32;
        if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max)
          throw new Error(`must be comma-separated networks like 10.1.2.0/24; "${part}" is not one`);
        list.addSubnet(network, prefix, family === 6 ? 'ipv6' : 'ipv4');
      }
      return list;
    },
  };
}

/** The data job types' settings; the data-service's config schema spreads these in. */
export const jobsConfigSchema = {
  importAllowPrivate: f.boolean(
    'DATA_IMPORT_ALLOW_PRIVATE',
    'Let `import-url` jobs fetch from loopback, private, link-local and other non-public addresses (closed networks, tests). Off: such addresses are refused, whatever DNS or a redirect says.',
    false,
  ),
  importAllowedNetworks: networkList(
    'DATA_IMPORT_ALLOWED_NETWORKS',
    'Non-public networks `import-url` may fetch from all the same, as CIDRs (`10.1.2.0/24,fd00:1::/64`): an internal file server, without opening every private address.',
  ),
  importTimeoutMs: f.integer(
    'DATA_IMPORT_TIMEOUT_MS',
    'Longest an `import-url` download may wait for the server to connect or to send more bytes.',
    30_000,
    100,
    3_600_000,
  ),
};

export type JobsConfig = ConfigOf<typeof jobsConfigSchema>;
