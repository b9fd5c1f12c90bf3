import { startService, type Platform, type Principal, type RunningService } from '@datalab/platform';
import { dataService } from '@datalab/data-service';
import { testEnv, testPlatform, uniqueName } from '../../../../test/helpers.ts';
import { callAs, uploadForm } from '../../../../test/internal.ts';
import { vizService } from '../definition.ts';

/** A real data-service and viz-service on one platform, as `datalab up` runs them. */
export interface VizStack {
  platform: Platform;
  data: RunningService;
  viz: RunningService;
  close: () => Promise<void>;
}

export async function startVizStack(env: Record<string, string> = {}): Promise<VizStack> {
  const platform = await testPlatform();
  const data = await startService(dataService, platform, { env: testEnv(), port: 0 });
  const viz = await startService(vizService, platform, {
    env: testEnv({ VIZ_DATA_SERVICE_URL: data.url, ...env }),
    port: 0,
  });
  return {
    platform,
    data,
    viz,
    close: async () => {
      await viz.close();
      await data.close();
      await platform.close();
    },
  };
}

export interface UploadedDataset {
  id: string;
  name: string;
  version: number;
}

/** Uploads CSV text as `owner`, straight to the data-service as the gateway would forward it. */
export async function uploadCsv(
  stack: VizStack,
  owner: Principal,
  csv: string,
  options: { visibility?: 'private' | 'shared'; name?: string } = {},
): Promise<UploadedDataset> {
  const name = options.name ?? uniqueName('points');
  const response = await callAs(stack.platform, stack.data, owner, '/api/v1/data/datasets', {
    method: 'POST',
    body: uploadForm(csv, `${name}.csv`, { name, visibility: options.visibility ?? 'private' }),
  });
  const body = (await response.json()) as { dataset: UploadedDataset };
  if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${JSON.stringify(body)}`);
  return body.dataset;
}

/** Appends CSV rows to a dataset: a new version. */
export async function appendCsv(stack: VizStack, owner: Principal, id: string, csv: string): Promise<void> {
  const response = await callAs(
    stack.platform,
    stack.data,
    owner,
    `/api/v1/data/datasets/${id}/versions?mode=append`,
    {
      method: 'POST',
      body: uploadForm(csv, 'more.csv'),
    },
  );
  if (response.status >= 300) throw new Error(`append failed: ${response.status} ${await response.text()}`);
}

export interface Rendered {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** POST /api/v1/viz/render as `principal`. */
export async function renderAs(
  stack: VizStack,
  principal: Principal,
  body: unknown,
  query = 'format=png',
  headers: Record<string, string> = {},
): Promise<Rendered> {
  const response = await callAs(stack.platform, stack.viz, principal, `/api/v1/viz/render?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

/** The problem document of a refused render. */
export function problemOf(rendered: Rendered): {
  detail: string;
  errors?: { field: string; message: string }[];
} {
  return JSON.parse(rendered.bytes.toString('utf8')) as {
    detail: string;
    errors?: { field: string; message: string }[];
  };
}
