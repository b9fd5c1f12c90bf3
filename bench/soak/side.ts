import { salesCsv, type SoakStack } from './stack.ts';

/** Answers of the soak's own calls (uploads, jobs, uncached renders), by status class. */
export interface SideCounts {
  calls: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
  failed: number;
  /** The first few answers that were not 2xx, for the report. */
  samples: string[];
}

export function emptyCounts(): SideCounts {
  return { calls: 0, s2xx: 0, s4xx: 0, s5xx: 0, failed: 0, samples: [] };
}

async function count(counts: SideCounts, what: string, call: () => Promise<Response>): Promise<void> {
  counts.calls++;
  try {
    const response = await call();
    const body = await response.text();
    const klass = Math.floor(response.status / 100);
    if (klass === 2) counts.s2xx++;
    else if (klass === 5) counts.s5xx++;
    else counts.s4xx++;
    if (klass !== 2 && counts.samples.length < 10)
      counts.samples.push(`${what}: ${response.status} ${body.slice(0, 300)}`);
  } catch (error) {
    counts.failed++;
    if (counts.samples.length < 10) counts.samples.push(`${what}: ${(error as Error).message}`);
  }
}

export interface SideOptions {
  uploadEveryS: number;
  jobEveryS: number;
  renderEveryS: number;
}

/**
 * What a team does besides reading, at a slow steady pace: append 500 rows to the dataset (which
 * makes the next cached query and render miss), run a `sql` or `noop` job, draw a chart nobody drew
 * before. Returns a stop function.
 */
export function startSideWork(
  stack: SoakStack,
  options: SideOptions,
  counts: SideCounts,
): () => Promise<void> {
  const json = { ...stack.headers, 'content-type': 'application/json' };
  let appended = 20_000;
  let jobs = 0;
  let renders = 0;
  const upload = () => {
    const form = new FormData();
    form.append('file', new Blob([salesCsv(appended, 500)]), 'more.csv');
    appended += 500;
    return count(counts, 'append', () =>
      fetch(`${stack.url}/api/v1/data/datasets/${stack.datasetId}/versions?mode=append`, {
        method: 'POST',
        headers: stack.headers,
        body: form,
      }),
    );
  };
  const job = () => {
    jobs++;
    const body =
      jobs % 2 === 0
        ? { type: 'noop', params: {} }
        : {
            type: 'sql',
            params: {
              sql: `SELECT region, count(*) AS n, sum(amount) AS total FROM ${stack.datasetName} GROUP BY region`,
              name: `soak_totals_${jobs}`,
            },
          };
    return count(counts, 'job', () =>
      fetch(`${stack.url}/api/v1/compute/jobs`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(body),
      }),
    );
  };
  const render = () => {
    renders++;
    return count(counts, 'render', () =>
      fetch(`${stack.url}/api/v1/viz/render?format=png&width=640&height=400`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          spec: {
            usermeta: { soak: renders },
            mark: 'point',
            data: {
              sql: `SELECT units, region, avg(amount) AS amount FROM ${stack.datasetName} GROUP BY units, region`,
            },
            encoding: {
              x: { field: 'units', type: 'quantitative' },
              y: { field: 'amount', type: 'quantitative' },
              color: { field: 'region', type: 'nominal' },
            },
          },
        }),
      }),
    );
  };
  const timers = [
    setInterval(() => void upload(), options.uploadEveryS * 1000),
    setInterval(() => void job(), options.jobEveryS * 1000),
    setInterval(() => void render(), options.renderEveryS * 1000),
  ];
  return async () => {
    for (const timer of timers) clearInterval(timer);
    // The calls in flight when the soak ends still count.
    await new Promise((resolve) => setTimeout(resolve, 5000));
  };
}
