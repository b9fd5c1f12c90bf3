import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { INTERNAL_TOKEN_HEADER } from '@datalab/platform';
import { spawnCommand, stop, waitForStatus, type Spawned } from '../lib/processes.ts';

export interface NginxOptions {
  /** Its own folder: config, pid, temp files. */
  dir: string;
  port: number;
  /** The upstream service instance, e.g. http://127.0.0.1:41234. */
  upstreamUrl: string;
  /** Only this prefix is proxied, as the gateway routes it. */
  prefix: string;
  /** Added to every proxied request: nginx cannot mint the internal token the service needs. */
  internalToken: string;
}

/** A minimal reverse proxy as one would deploy it: keep-alive upstream, no access log. */
export function nginxConfig(options: NginxOptions): string {
  const upstream = new URL(options.upstreamUrl);
  return `daemon off;
worker_processes 2;
pid ${options.dir}/nginx.pid;
error_log stderr warn;

events {
  worker_connections 4096;
}

http {
  access_log off;
  client_body_temp_path ${options.dir}/client_body;
  proxy_temp_path ${options.dir}/proxy;
  fastcgi_temp_path ${options.dir}/fastcgi;
  uwsgi_temp_path ${options.dir}/uwsgi;
  scgi_temp_path ${options.dir}/scgi;

  upstream service {
    server ${upstream.host};
    keepalive 64;
  }

  server {
    listen 127.0.0.1:${options.port};

    location ${options.prefix}/ {
      proxy_pass http://service;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header ${INTERNAL_TOKEN_HEADER} "${options.internalToken}";
    }
  }
}
`;
}

/** Starts nginx in the foreground on `options`; resolves once it answers `probePath` with 200. */
export async function startNginx(
  options: NginxOptions,
  probe: { path: string; headers: Record<string, string> },
) {
  await mkdir(options.dir, { recursive: true });
  const conf = path.join(options.dir, 'nginx.conf');
  await writeFile(conf, nginxConfig(options));
  const nginx: Spawned = spawnCommand('nginx', ['-e', 'stderr', '-p', options.dir, '-c', conf], {});
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitForStatus(`${url}${probe.path}`, 200, nginx, 10_000, probe.headers);
  } catch (error) {
    await stop(nginx);
    throw error;
  }
  return { url, stop: () => stop(nginx) };
}

export async function nginxVersion(): Promise<string> {
  // nginx prints its version on stderr.
  const { stderr } = await promisify(execFile)('nginx', ['-v']);
  return stderr.trim().replace(/^nginx version: nginx\//, '');
}
