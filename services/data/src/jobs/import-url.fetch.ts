import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import { AppError } from '@datalab/platform';

/**
 * Downloads for `import-url` that cannot be pointed at the inside of the
 * network (SSRF). The check sits in the connector, where the socket is
 * opened: the host name is resolved there, every address it resolves to must
 * be public, and the socket goes to the address that was checked. So a DNS
 * answer that changes between a check and the connect (rebinding), an IP
 * literal in any spelling, and a redirect to an internal address all meet the
 * same check.
 */

// One list per family: a BlockList checks IPv4 addresses against IPv6 rules too (as ::ffff:a.b.c.d),
// so ::ffff:0:0/96 beside the IPv4 rules would refuse every IPv4 address.
const NOT_PUBLIC_V4 = new BlockList();
const NOT_PUBLIC_V6 = new BlockList();
const V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const V6: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated): would reach an IPv4 address
  ['::ffff:0:0', 96], // IPv4-mapped: would reach an IPv4 address
  ['64:ff9b::', 96], // NAT64: would reach an IPv4 address
  ['64:ff9b:1::', 48], // local NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];
for (const [network, prefix] of V4) NOT_PUBLIC_V4.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of V6) NOT_PUBLIC_V6.addSubnet(network, prefix, 'ipv6');

/** True for loopback, private, link-local, multicast and the other addresses no public server has. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? NOT_PUBLIC_V4.check(address, 'ipv4') : NOT_PUBLIC_V6.check(address, 'ipv6');
}

export class RefusedAddressError extends Error {
  constructor(host: string, address: string) {
    super(
      `${host} resolves to ${address}, which is not a public address; import-url refuses loopback, private and link-local addresses (DATA_IMPORT_ALLOW_PRIVATE or DATA_IMPORT_ALLOWED_NETWORKS allow them)`,
    );
    this.name = 'RefusedAddressError';
  }
}

/** Which addresses a download may connect to: public ones, plus what configuration opens. */
export function addressPolicy(
  allowPrivate: boolean,
  allowedNetworks: BlockList,
): (address: string) => boolean {
  return (address) =>
    allowPrivate ||
    !isNonPublicAddress(address) ||
    allowedNetworks.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** The address to connect to: every address of `host` must be permitted, not just the first. */
async function checkedAddress(host: string, permits: (address: string) => boolean): Promise<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(bare)
    ? [bare]
    : (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
  if (addresses.length === 0) throw new Error(`${bare} has no address`);
  const refused = addresses.find((address) => !permits(address));
  if (refused !== undefined) throw new RefusedAddressError(bare, refused);
  return addresses[0]!;
}

export interface FetchOptions {
  /** Whether a connection to this address may be made (see addressPolicy). */
  permits: (address: string) => boolean;
  /** Connect and idle-read timeout. */
  timeoutMs: number;
  maxRedirects: number;
  signal: AbortSignal;
}

export interface Download {
  body: Readable;
  /** The URL the file finally came from (after redirects). */
  url: URL;
  contentType: string | undefined;
  /** Content-Length, when the server sent one. */
  length: number | undefined;
  close: () => Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function refuseUrl(message: string): AppError {
  return new AppError('invalid', message, { errors: [{ field: 'params.url', message }] });
}

function checkedUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw refuseUrl(`${raw} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refuseUrl(`Only http and https URLs can be imported, not ${url.protocol}`);
  if (url.username || url.password) throw refuseUrl('URLs with credentials are not imported');
  return url;
}

/**
 * GETs `raw`, following up to `maxRedirects` redirects (each to http or https
 * only, each connect checked), and returns the body as a stream.
 */
export async function guardedDownload(raw: string, options: FetchOptions): Promise<Download> {
  const connect = buildConnector({ timeout: options.timeoutMs });
  const agent = new Agent({
    connect: (connectOptions, callback) => {
      checkedAddress(connectOptions.hostname, options.permits).then(
        (address) => connect({ ...connectOptions, hostname: address }, callback),
        (error: Error) => callback(error, null),
      );
    },
  });
  const close = () => agent.close();
  try {
    let url = checkedUrl(raw);
    for (let hop = 0; ; hop++) {
      const response = await request(url, {
        dispatcher: agent,
        method: 'GET',
        signal: options.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        headers: {
          accept: 'text/csv, application/json, application/x-ndjson, application/vnd.apache.parquet, */*',
        },
      });
      const location = response.headers.location;
      if (REDIRECTS.has(response.statusCode) && typeof location === 'string') {
        await response.body.dump();
        if (hop >= options.maxRedirects) throw refuseUrl(`More than ${options.maxRedirects} redirects`);
        url = checkedUrl(location, url);
        continue;
      }
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw refuseUrl(`${url.origin}${url.pathname} answered ${response.statusCode}, not 200`);
      }
      const type = response.headers['content-type'];
      const length = Number(response.headers['content-length'] ?? NaN);
      return {
        length: Number.isFinite(length) ? length : undefined,
        body: response.body,
        url,
        contentType: typeof type === 'string' ? type : undefined,
        close,
      };
    }
  } catch (error) {
    await close().catch(() => undefined);
    const cause = (error as { cause?: unknown }).cause;
    if (error instanceof RefusedAddressError || cause instanceof RefusedAddressError) {
      const refused = error instanceof RefusedAddressError ? error : (cause as RefusedAddressError);
      throw refuseUrl(refused.message);
    }
    throw error;
  }
}
