import { readdir, readFile } from 'node:fs/promises';

/** Resident memory of one process, in MB, from /proc (0 once it is gone). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : 0;
}

/** Every process whose parent chain reaches `pid` (the embedded PostgreSQL under `datalab up`). */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses: the fields after its last ')' are fixed.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent) parents.set(Number(entry), parent);
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, of] of parents) {
      if (of === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

/** Proportional set size in MB: shared memory (PostgreSQL's buffers) split among its sharers, not counted in each. */
export async function pssMb(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kb = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1];
  return kb ? Number(kb) / 1024 : 0;
}

/**
 * Samples a process's RSS once a second until stopped. One reading at the end of a minute swings
 * by a third with where V8's collector happens to be; the minute's mean does not.
 */
export function sampleRss(pid: number): () => Promise<{ meanMb: number; maxMb: number }> {
  const readings: number[] = [];
  const read = () => void rssMb(pid).then((mb) => mb > 0 && readings.push(mb));
  read();
  const timer = setInterval(read, 1000);
  return async () => {
    clearInterval(timer);
    readings.push(await rssMb(pid));
    return {
      meanMb: readings.reduce((sum, mb) => sum + mb, 0) / readings.length,
      maxMb: Math.max(...readings),
    };
  };
}
