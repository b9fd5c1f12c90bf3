import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, spawnCommand, type Spawned } from '../../../test/processes.ts';

const run = promisify(execFile);

export const NGINX_CONF = path.join(repoRoot, 'infrastructure/nginx/nginx.conf');

export async function readNginxConf(): Promise<string> {
  return readFile(NGINX_CONF, 'utf8');
}

/** Where a rendered copy runs: loopback ports, a scratch folder, a certificate made for the test. */
export interface LocalSite {
  directory: string;
  httpPort: number;
  httpsPort: number;
  /** host:port of each gateway the upstream balances over. */
  upstreams: string[];
  certificate: string;
  key: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export async function selfSignedCertificate(
  directory: string,
): Promise<{ certificate: string; key: string }> {
  const certificate = path.join(directory, 'tls.crt');
  const key = path.join(directory, 'tls.key');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    key,
    '-out',
    certificate,
  ]);
  return { certificate, key };
}

/** Replaces `from` by `to`, insisting it occurs exactly once so the render cannot silently drift. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at === -1 || text.indexOf(from, at + 1) !== -1) {
    throw new Error(`nginx.conf: expected exactly one "${from}"`);
  }
  return `${text.slice(0, at)}${to}${text.slice(at + from.length)}`;
}

/**
 * The production config with only what differs on this machine changed: listen addresses,
 * the upstream servers (compose's `api-gateway` name → loopback gateways), the certificate,
 * the access log and temp folders (so it runs without root). Everything else is verbatim.
 */
export function renderLocal(conf: string, site: LocalSite): string {
  const upstreamLine = 'server api-gateway:8000 max_fails=3 fail_timeout=10s;';
  let text = replaceOnce(
    conf,
    upstreamLine,
    site.upstreams.map((upstream) => upstreamLine.replace('api-gateway:8000', upstream)).join('\n        '),
  );
  text = replaceOnce(text, 'listen 80 default_server;', `listen 127.0.0.1:${site.httpPort} default_server;`);
  text = replaceOnce(
    text,
    'listen 443 ssl http2 default_server;',
    `listen 127.0.0.1:${site.httpsPort} ssl http2 default_server;`,
  );
  text = replaceOnce(text, '/run/secrets/tls_cert', site.certificate);
  text = replaceOnce(text, '/run/secrets/tls_key', site.key);
  text = replaceOnce(text, '/var/log/nginx/access.log', path.join(site.directory, 'access.log'));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${path.join(site.directory, `${kind}_temp`)};`)
    .join('\n');
  return replaceOnce(text, 'http {\n', `http {\n${temp}\n`);
}

/** Global directives given on the command line, so the file itself stays the production one. */
function globals(directory: string, foreground: boolean): string {
  return `${foreground ? 'daemon off; ' : ''}pid ${path.join(directory, 'nginx.pid')}; error_log stderr warn;`;
}

export async function writeLocal(site: LocalSite): Promise<string> {
  await mkdir(site.directory, { recursive: true });
  // nginx workers run as `nobody` when the master is root: they must reach the temp folders.
  await chmod(site.directory, 0o755);
  const file = path.join(site.directory, 'nginx.conf');
  await writeFile(file, renderLocal(await readNginxConf(), site));
  return file;
}

/** `nginx -t` on a config file; resolves with its output, rejects with it when the test fails. */
export async function nginxTest(file: string, directory: string): Promise<string> {
  const { stderr } = await run('nginx', ['-t', '-p', directory, '-c', file, '-g', globals(directory, false)]);
  return stderr;
}

export function startNginx(file: string, directory: string): Spawned {
  return spawnCommand('nginx', ['-p', directory, '-c', file, '-g', globals(directory, true)], {});
}

/** One access-log line, as the `datalab_json` format writes it. */
export interface AccessLogLine {
  uri: string;
  status: number;
  upstream_addr: string;
  upstream_status: string;
  protocol: string;
}

export async function readAccessLog(directory: string): Promise<AccessLogLine[]> {
  const text = await readFile(path.join(directory, 'access.log'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AccessLogLine);
}
