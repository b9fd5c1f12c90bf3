import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, waitForStatus, type Spawned } from '../../test/processes.ts';
import { logLines, SERVICES, startDataLab, startWorker, until, type RunningDataLab } from './lib/datalab.ts';
import {
  dashboardExpressions,
  exposedNames,
  isExposed,
  metricNames,
  ruleFiles,
  ruleGroups,
} from './lib/monitoring.ts';
import { startPrometheus } from './lib/prometheus-server.ts';
import { startOtlpReceiver } from './lib/otlp-receiver.ts';

/** Added by Prometheus to every scrape target, so no /metrics page can show it. */
const SYNTHETIC = new Set(['up']);

describe('a running DataLab, observed from outside', () => {
  const redisUrl = inject('redisUrl');
  let lab: RunningDataLab;
  let worker: Spawned | undefined;
  let workerPort: number;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    lab = await startDataLab(inject('databaseUrl'), {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      RATE_LIMIT_DEFAULT: '100000',
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    });
    if (redisUrl) {
      workerPort = await freePort();
      worker = startWorker(lab, {
        WORKER_METRICS_PORT: String(workerPort),
        OTEL_SERVICE_NAME: 'compute-worker',
      });
      await waitForStatus(`http://127.0.0.1:${workerPort}/health/live`, 200, worker);
    }
  }, 240_000);

  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
    await lab?.close();
    await receiver?.close();
  });

  it('exposes on its live /metrics every metric name a recording rule, an alert or a dashboard panel reads', async () => {
    const ports = [...lab.scrapePorts, ...(worker ? [workerPort] : [])];
    const pages = await Promise.all(
      ports.map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
    );
    const exposed = new Map(pages.flatMap((page) => [...exposedNames(page)]));
    const groups = await ruleGroups();
    const recorded = new Set(groups.flatMap((group) => group.rules.flatMap((rule) => rule.record ?? [])));
    const reads = [
      ...groups.flatMap((group) =>
        group.rules.map((rule) => ({
          where: `${group.name}: ${rule.alert ?? rule.record}`,
          expr: rule.expr,
        })),
      ),
      ...(await dashboardExpressions()),
    ];
    const missing = reads.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !recorded.has(name) && !SYNTHETIC.has(name) && !isExposed(name, exposed))
        .map((name) => `${name} (${where})`),
    );

    expect(reads.length).toBeGreaterThan(80);
    expect(missing).toEqual([]);
  });

  it('is scraped by a real Prometheus that evaluates the rules and answers every dashboard query', async () => {
    const targets = Object.fromEntries(
      SERVICES.map((service, i) => [`datalab-${service}`, `127.0.0.1:${lab.scrapePorts[i]}`]),
    );
    const prometheus = await startPrometheus(
      { ...targets, ...(worker ? { 'datalab-worker': `127.0.0.1:${workerPort}` } : {}) },
      await ruleFiles(),
    );
    try {
      const up = await until('every target scraped', async () => {
        const result = (await prometheus.query('up == 1')).data?.result ?? [];
        return result.length === Object.keys(targets).length + (worker ? 1 : 0) ? result : undefined;
      });
      // A rate needs the counter to move between two scrapes: requests keep flowing while waiting.
      const traffic = await until('the request-rate recording rule', async () => {
        const response = await fetch(`${lab.gateway}/api/v1/compute/jobs`, {
          headers: { authorization: `Bearer ${lab.token}` },
        });
        await response.body?.cancel();
        const result = (await prometheus.query('service:http_requests:rate5m{service="api-gateway"} > 0'))
          .data?.result;
        return result?.length ? result : undefined;
      });

      expect(up.length).toBeGreaterThanOrEqual(5);
      expect(traffic).toHaveLength(1);
      const failures: string[] = [];
      for (const { where, expr } of await dashboardExpressions()) {
        const answer = await prometheus.query(expr);
        if (answer.status !== 'success') failures.push(`${where}: ${answer.error ?? answer.status}`);
      }
      expect(failures).toEqual([]);
    } finally {
      await prometheus.close();
    }
  });

  it("carries the trace the gateway starts through the compute-service and into the job's log lines and spans", async () => {
    const response = await fetch(`${lab.gateway}/api/v1/compute/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${lab.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'noop', params: { duration_ms: 50 } }),
    });
    expect(response.status).toBe(201);
    const requestId = response.headers.get('x-request-id');
    const job = (await response.json()) as { id: string };

    const started = await until('the job to start', () =>
      logLines(lab.datalab, worker).find(
        (line) => line.msg === 'job attempt started' && line.job_id === job.id,
      ),
    );
    // Each service writes its request line once the answer is sent: the gateway's may come last.
    const request = await until('both request lines', () => {
      const found = logLines(lab.datalab).filter(
        (line) => line.request_id === requestId && line.msg === 'request',
      );
      return found.length === 2 ? found : undefined;
    });
    const traceId = request.find((line) => line.service === 'api-gateway')?.trace_id;

    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(request.find((line) => line.service === 'compute-service')?.trace_id).toBe(traceId);
    expect(started.trace_id).toBe(traceId);
    // The job's span hangs under the compute-service's request span, which hangs under the gateway's:
    // followed parent by parent, it reaches the gateway's root span once every process has exported.
    const chain = await until('the whole chain of spans', () => {
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      const byId = new Map(spans.map((span) => [span.spanId, span]));
      const names: string[] = [];
      let span = spans.find((candidate) => candidate.name === 'job noop');
      while (span) {
        names.push(`${span.service}: ${span.name}`);
        if (!span.parentSpanId) return names;
        span = byId.get(span.parentSpanId);
      }
      return undefined;
    });
    expect(chain[0]).toMatch(/: job noop$/);
    expect(chain.at(-1)).toMatch(/: POST \/api\/v1\/compute/);
    expect(chain.length).toBeGreaterThanOrEqual(3);
  });

  it("continues a caller's W3C traceparent instead of starting a new trace", async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${lab.gateway}/api/v1/compute/jobs`, {
      headers: {
        authorization: `Bearer ${lab.token}`,
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');

    const lines = await until('both request lines', () => {
      const found = logLines(lab.datalab).filter(
        (line) => line.request_id === requestId && line.msg === 'request',
      );
      return found.length === 2 ? found : undefined;
    });
    expect(lines.map((line) => [line.service, line.trace_id]).sort()).toEqual([
      ['api-gateway', traceId],
      ['compute-service', traceId],
    ]);
  });
});
