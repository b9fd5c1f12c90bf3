import type { SideCounts } from './side.ts';

export interface Minute {
  minute: number;
  requests: number;
  reqPerS: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  socketErrors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** The `datalab up` process, read at the minute's end. */
  rssMb: number;
  /** The same, read once a second through the minute. */
  rssMeanMb: number;
  rssMaxMb: number;
  /** The embedded PostgreSQL's processes together (PSS: their shared buffers counted once). */
  postgresPssMb: number;
  /** Side calls so far (uploads, jobs, renders). */
  side: SideCounts;
}

export interface SoakResult {
  machine: Record<string, unknown>;
  code: { commit: string; modified: boolean };
  options: { minutes: number; rate: number };
  minutes: Minute[];
  side: SideCounts;
}

/** Growth of the DataLab process's RSS (as `pick` reads it) from minute 5 (warm) to the last minute. */
export function rssGrowth(minutes: Minute[], pick: (minute: Minute) => number): number | undefined {
  const warm = minutes.find((m) => m.minute === 5);
  const last = minutes.at(-1);
  if (!warm || !last || last.minute <= 5) return undefined;
  return pick(last) / pick(warm) - 1;
}

const percent = (growth: number | undefined) =>
  growth === undefined ? 'n/a' : `${(growth * 100).toFixed(1)} %`;

export function markdownReport(result: SoakResult): string {
  const total = (pick: (m: Minute) => number) => result.minutes.reduce((sum, m) => sum + pick(m), 0);
  const fivexx = total((m) => m.s5xx) + result.side.s5xx;
  const lines = [
    '# Soak',
    '',
    `${result.options.minutes} minutes through the gateway of one \`datalab up\` (embedded PostgreSQL), the read mix paced at ${result.options.rate} req/s, with appends, jobs and uncached renders beside it. Commit ${result.code.commit}${result.code.modified ? ' (modified)' : ''}.`,
    '',
    `- Requests: ${total((m) => m.requests)} read-mix calls, ${result.side.calls} side calls.`,
    `- 5xx: ${fivexx} (read mix ${total((m) => m.s5xx)}, side ${result.side.s5xx}); 4xx: ${total((m) => m.s4xx) + result.side.s4xx}; socket errors: ${total((m) => m.socketErrors) + result.side.failed}.`,
    `- RSS of the DataLab process, minute 5 → last, the minute's mean of one reading a second: ${percent(rssGrowth(result.minutes, (m) => m.rssMeanMb))} (target < 10 %); the minute's highest reading: ${percent(rssGrowth(result.minutes, (m) => m.rssMaxMb))}; the one reading at the minute's end: ${percent(rssGrowth(result.minutes, (m) => m.rssMb))}.`,
    '',
    '| minute | req/s | 5xx | 4xx | socket errors | p50 ms | p95 ms | p99 ms | RSS mean MB | RSS max MB | RSS at end MB | PostgreSQL PSS MB | side calls | side 5xx |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...result.minutes.map(
      (m) =>
        `| ${m.minute} | ${m.reqPerS.toFixed(0)} | ${m.s5xx} | ${m.s4xx} | ${m.socketErrors} | ${m.p50Ms.toFixed(1)} | ${m.p95Ms.toFixed(1)} | ${m.p99Ms.toFixed(1)} | ${m.rssMeanMb.toFixed(0)} | ${m.rssMaxMb.toFixed(0)} | ${m.rssMb.toFixed(0)} | ${m.postgresPssMb.toFixed(0)} | ${m.side.calls} | ${m.side.s5xx} |`,
    ),
    '',
    ...(result.side.samples.length > 0
      ? ['Side calls that were not 2xx (first ten):', '', ...result.side.samples.map((s) => `- ${s}`), '']
      : []),
  ];
  return lines.join('\n');
}
