import { AppError, type Principal } from '@datalab/platform';
import type { Upstream } from './upstreams.ts';

export interface DatasetInfo {
  id: string;
  name: string;
  version: number;
  row_count: number;
  columns: { name: string; type: string }[];
}

export interface DatasetRows {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

/** The data-service, always as the user a request or job acts for: it enforces their rights. */
export function createDataClient(upstream: Upstream) {
  return {
    async dataset(principal: Principal, idOrName: string): Promise<DatasetInfo> {
      const client = await upstream.client();
      const response = await client.call<DatasetInfo>(
        'GET',
        `/api/v1/data/datasets/${encodeURIComponent(idOrName)}`,
        {
          headers: await upstream.headers(principal),
        },
      );
      return response.body;
    },

    /** The whole dataset through its export (JSON), as row objects. */
    async rows(principal: Principal, id: string, signal?: AbortSignal): Promise<DatasetRows> {
      const client = await upstream.client();
      const response = await client.call<{ columns: DatasetRows['columns']; rows: unknown[][] }>(
        'GET',
        `/api/v1/data/datasets/${encodeURIComponent(id)}/export?format=json`,
        { headers: await upstream.headers(principal), ...(signal ? { signal } : {}) },
      );
      const { columns, rows } = response.body;
      return {
        columns,
        rows: rows.map((values) => Object.fromEntries(columns.map((column, i) => [column.name, values[i]]))),
      };
    },

    /** Uploads NDJSON as a new dataset owned by `principal`; answers the data-service's upload result. */
    async createDataset(
      principal: Principal,
      options: { name: string; description: string; visibility: string },
      ndjson: string,
    ): Promise<{ dataset: DatasetInfo; rows_written: number }> {
      const form = new FormData();
      form.append('name', options.name);
      form.append('description', options.description);
      form.append('visibility', options.visibility);
      form.append('format', 'ndjson');
      form.append('file', new Blob([ndjson]), `${options.name}.ndjson`);
      const response = await fetch(new URL('/api/v1/data/datasets', await upstream.url()), {
        method: 'POST',
        headers: await upstream.headers(principal),
        body: form,
        signal: AbortSignal.timeout(300_000),
      });
      const body = (await response.json()) as { detail?: string; dataset: DatasetInfo; rows_written: number };
      if (response.status !== 201) {
        throw new AppError(
          response.status >= 500 ? 'unavailable' : 'invalid',
          `data-service refused the new dataset: ${body.detail ?? response.status}`,
        );
      }
      return body;
    },
  };
}

export type DataClient = ReturnType<typeof createDataClient>;
