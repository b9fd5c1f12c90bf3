import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { repoRoot } from '../../../test/processes.ts';

export interface RedisProcess {
  port: number;
  child: ChildProcess;
  output: () => string;
  kill: (signal: NodeJS.Signals) => Promise<void>;
}

function start(command: string, args: string[], port: number): RedisProcess {
  let output = '';
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    child,
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** The shipped redis.conf, on loopback and `port`, persisting under `dir`; a replica when `master` is given. */
export async function startRedis(dir: string, port: number, master?: number): Promise<RedisProcess> {
  const shipped = await readFile(path.join(repoRoot, 'infrastructure', 'redis', 'redis.conf'), 'utf8');
  const file = path.join(dir, `redis-${port}.conf`);
  const local = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `appendfilename "appendonly-${port}.aof"`,
    `appenddirname "aof-${port}"`,
    ...(master ? [`replicaof 127.0.0.1 ${master}`] : []),
  ];
  await writeFile(file, `${shipped.replace(/^(port|bind) .*$/gm, '')}\n${local.join('\n')}\n`);
  const redis = start('redis-server', [file], port);
  await waitForPing(port);
  return redis;
}

/**
 * A Sentinel running the shipped sentinel.conf, watching the master at
 * 127.0.0.1:`master` (instead of the compose host name) on loopback.
 */
export async function startSentinel(dir: string, port: number, master: number): Promise<RedisProcess> {
  const shipped = await readFile(path.join(repoRoot, 'infrastructure', 'redis', 'sentinel.conf'), 'utf8');
  const file = path.join(dir, `sentinel-${port}.conf`);
  const text = shipped
    .replace(/^port .*$/m, `port ${port}`)
    .replace(/^bind .*$/m, 'bind 127.0.0.1')
    .replace(/^sentinel monitor datalab \S+ \d+/m, `sentinel monitor datalab 127.0.0.1 ${master}`);
  await writeFile(file, `${text}\ndir ${dir}\n`);
  const sentinel = start('redis-sentinel', [file], port);
  await waitForPing(port);
  return sentinel;
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    // Refusals while the server starts are expected; `connect` rejects with them.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.disconnect();
    }
  }
}

/** The master the Sentinel on `port` names now. */
export async function masterPort(port: number): Promise<number> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    const [, masterAt] = (await client.call('SENTINEL', 'get-master-addr-by-name', 'datalab')) as [
      string,
      string,
    ];
    return Number(masterAt);
  } finally {
    client.disconnect();
  }
}
