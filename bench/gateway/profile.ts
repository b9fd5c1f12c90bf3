import { copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { profileIn, summarizeFile, type Category, type Share } from '../lib/cpuprofile.ts';
import { untilQuiet } from '../lib/cpu.ts';
import { measure } from '../lib/measure.ts';
import { stop } from '../lib/processes.ts';
import { codeVersion, machine, writeResults } from '../lib/report.ts';
import { cpuTable, type Load } from './report.ts';
import { ENDPOINT, type Stack } from './stack.ts';

/** What the gateway does for each call, recognized by the code on the stack. */
const CATEGORIES: Category[] = [
  { name: 'access token: jose + Ed25519 verify', url: /\/jose\/|gateway\/src\/auth\/|platform\/src\/auth\// },
  { name: 'rate limit: Redis EVAL via ioredis', url: /\/ioredis\/|\/redis-parser\/|rate-limit/ },
  { name: 'audit log: buffer + batched INSERT', url: /\/audit\/|\/pg\/|\/pg-pool\/|\/pg-protocol\// },
  {
    name: 'proxy: undici to the viz-service',
    url: /\/undici\/|gateway\/src\/proxy\/|gateway\/src\/upstreams\//,
  },
  { name: 'metrics: prom-client', url: /\/prom-client\/|platform\/src\/metrics\// },
  { name: 'security headers, CORS', url: /security-headers|@fastify\/cors/ },
  { name: 'logging: pino', url: /\/pino/ },
  {
    name: 'HTTP server + Fastify',
    url: /\/fastify\/|\/find-my-way\/|\/avvio\/|node:_http_|platform\/src\/server\//,
  },
];

const shareTable = (title: string, rows: Share[]) =>
  [
    `| ${title} | ms | share |`,
    '|---|---:|---:|',
    ...rows.map((row) => `| \`${row.name}\` | ${row.ms} | ${(row.share * 100).toFixed(1)} % |`),
  ].join('\n');

/**
 * One gateway run with the gateway under `node --cpu-prof`: where its CPU goes
 * while under load (start-up excluded), written to bench/results/gateway-profile.*.
 */
export async function profileGateway(stack: Stack, load: Load, profileDir: string): Promise<void> {
  const { gateway, viz } = stack.processes;
  await untilQuiet();
  const started = performance.now();
  const result = await measure(
    `${stack.gatewayUrl}${ENDPOINT.path}`,
    { ...load, headers: stack.auth },
    {
      gateway: gateway.child.pid,
      viz: viz.child.pid,
    },
  );
  const ended = performance.now();
  await stop(gateway);
  const exited = performance.now();
  // Kept outside the repository for Chrome DevTools or speedscope: it is megabytes.
  const kept = path.join(os.tmpdir(), `datalab-gateway-${Date.now()}.cpuprofile`);
  await copyFile(await profileIn(profileDir), kept);
  const window = { fromEndUs: (exited - started) * 1000, toEndUs: (exited - ended) * 1000 };
  const profile = await summarizeFile(kept, window, CATEGORIES);
  const usPerCall = (share: number) => Math.round(share * (result.cpuUsPerRequest.gateway ?? 0));
  const categories = [
    '| what the gateway does | share | ≈ µs CPU / call |',
    '|---|---:|---:|',
    ...profile.byCategory.map(
      (row) => `| ${row.name} | ${(row.share * 100).toFixed(1)} % | ${usPerCall(row.share)} |`,
    ),
  ].join('\n');

  const host = machine();
  const code = await codeVersion();
  const markdown = `# Gateway profile

${new Date().toISOString()} · commit ${code.commit.slice(0, 7)}${code.modified ? ' (with uncommitted changes)' : ''} · ${host.nproc} cores · Node ${host.node} · \`npm run bench -- gateway --profile\`

The gateway under \`node --cpu-prof\` (which slows it a little), ${ENDPOINT.method} \`${ENDPOINT.path}\`,
wrk ${load.threads} threads × ${load.connections} connections, ${load.warmupS} s warm-up + ${load.durationS} s: **${result.reqPerS.toFixed(0)} req/s**,
p95 ${result.p95Ms.toFixed(2)} ms. The profile covers the warm-up and the run (${profile.busyMs} ms of gateway CPU).

${cpuTable([['gateway (profiled)', result]])}

Each sample goes to the category of the frame nearest the leaf that matches one (a socket write
made by undici counts as proxying; the write of the answer to the caller as HTTP server).

${categories}

${shareTable('self time, by package or file', profile.byPackage)}

${shareTable('self time, by function', profile.byFunction)}

${shareTable('inclusive time, our functions', profile.ourFunctions)}

Full profile: \`${kept}\` (open in Chrome DevTools → Performance, or speedscope).
`;
  const files = await writeResults(
    'gateway-profile',
    { date: new Date().toISOString(), code, machine: host, load, result, profile },
    markdown,
  );
  console.log(
    `\n${markdown}\nWritten: ${files.map((file) => path.relative(process.cwd(), file)).join(', ')}`,
  );
}
