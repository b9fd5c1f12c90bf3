export type Side = 'datalab' | 'celery';

export interface Round {
  side: Side;
  jobs: number;
  seconds: number;
  jobs_per_s: number;
  busyBefore: number;
  cpuSecondsPer1000Jobs: Record<string, number>;
}

export interface Outcome {
  date: string;
  code: { commit: string; modified: boolean };
  versions: Record<string, string | number>;
  options: Record<string, string | number>;
  rounds: Round[];
  command: string;
}

export const TARGETS = { jobsPerS: 1000, ratioToCelery: 2 };

export const bestOf = (rounds: Round[], side: Side): Round =>
  rounds.filter((r) => r.side === side).reduce((top, r) => (r.jobs_per_s > top.jobs_per_s ? r : top));

const fixed = (n: number, digits = 0) => n.toFixed(digits);

export function markdownReport(outcome: Outcome): string {
  const ours = bestOf(outcome.rounds, 'datalab');
  const celery = bestOf(outcome.rounds, 'celery');
  const ratio = ours.jobs_per_s / celery.jobs_per_s;
  const cpuNames = [...new Set(outcome.rounds.flatMap((r) => Object.keys(r.cpuSecondsPer1000Jobs)))];
  const lines = [
    '# bench/compute',
    '',
    `${outcome.date}, commit ${outcome.code.commit.slice(0, 12)}${outcome.code.modified ? ' (with uncommitted changes)' : ''}, ` +
      `${outcome.versions.nproc} cores (${outcome.versions.cpu}), Node ${outcome.versions.node}, ${outcome.versions.celery}.`,
    '',
    `\`${outcome.command}\``,
    '',
    '| | jobs/s (best round) | target |',
    '|---|---:|---|',
    `| DataLab, 2 workers | ${fixed(ours.jobs_per_s)} | ≥ ${TARGETS.jobsPerS}: ${ours.jobs_per_s >= TARGETS.jobsPerS ? 'met' : 'not met'} |`,
    `| Celery, 2 workers | ${fixed(celery.jobs_per_s)} | |`,
    `| ratio | ${fixed(ratio, 2)}× | ≥ ${TARGETS.ratioToCelery}×: ${ratio >= TARGETS.ratioToCelery ? 'met' : 'not met'} |`,
    '',
    'Every round, with the CPU seconds each process group spent per 1,000 jobs (`rest`: the bench client, PostgreSQL’s share when not named, anything else running):',
    '',
    `| round | side | jobs | seconds | jobs/s | cores busy before | ${cpuNames.join(' | ')} |`,
    `|---:|---|---:|---:|---:|---:|${cpuNames.map(() => '---:').join('|')}|`,
    ...outcome.rounds.map(
      (r, i) =>
        `| ${Math.floor(i / 2) + 1} | ${r.side} | ${r.jobs} | ${fixed(r.seconds, 2)} | ${fixed(r.jobs_per_s)} | ${fixed(r.busyBefore, 2)} | ${cpuNames
          .map((name) =>
            r.cpuSecondsPer1000Jobs[name] === undefined ? '' : fixed(r.cpuSecondsPer1000Jobs[name], 3),
          )
          .join(' | ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
