import { writeFile } from 'node:fs/promises';
import type { SoakStack } from './stack.ts';

interface MixRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/**
 * The reads a team's UI and scripts make, in the proportions the list repeats them: dataset lists
 * and pages, cached SQL and structured queries, the cached chart picture, job and chart lists.
 */
export function readMix(stack: SoakStack): MixRequest[] {
  const dataset = `/api/v1/data/datasets/${stack.datasetId}`;
  const totals = `SELECT region, count(*) AS n, sum(amount) AS total FROM ${stack.datasetName} GROUP BY region ORDER BY region`;
  return [
    { method: 'GET', path: '/api/v1/data/datasets?limit=20' },
    { method: 'GET', path: dataset },
    { method: 'GET', path: `${dataset}/rows?limit=50` },
    { method: 'GET', path: `${dataset}/rows?limit=50&offset=5000&sort=-amount` },
    { method: 'GET', path: `${dataset}/rows?limit=50&filter=region:eq:west` },
    { method: 'POST', path: '/api/v1/data/query', body: { sql: totals } },
    { method: 'POST', path: '/api/v1/data/query', body: { sql: totals } },
    {
      method: 'POST',
      path: '/api/v1/data/query',
      body: {
        dataset: stack.datasetName,
        group_by: ['region'],
        aggregates: [{ fn: 'avg', column: 'amount', as: 'mean' }],
      },
    },
    { method: 'GET', path: `/api/v1/viz/charts/${stack.chartId}/render.png` },
    { method: 'GET', path: `/api/v1/viz/charts/${stack.chartId}/render.png` },
    { method: 'GET', path: `/api/v1/viz/charts/${stack.chartId}/render.svg` },
    { method: 'GET', path: '/api/v1/viz/charts?limit=5' },
    { method: 'GET', path: '/api/v1/compute/jobs?limit=10' },
    { method: 'GET', path: '/api/v1/auth/me' },
  ];
}

const luaString = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Writes the mix as the Lua table mix.lua loads (SOAK_REQUESTS). */
export async function writeMix(file: string, stack: SoakStack, requests: MixRequest[]): Promise<void> {
  const entries = requests.map((request) => {
    const headers: Record<string, string> = { ...stack.headers };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    const headerTable = Object.entries(headers)
      .map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`)
      .join(', ');
    const body = request.body === undefined ? 'nil' : luaString(JSON.stringify(request.body));
    return `  { method = ${luaString(request.method)}, path = ${luaString(request.path)}, headers = { ${headerTable} }, body = ${body} },`;
  });
  await writeFile(file, `return {\n${entries.join('\n')}\n}\n`);
}
