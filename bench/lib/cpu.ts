import { readdir, readFile } from 'node:fs/promises';

/** Linux reports CPU time in USER_HZ ticks, 100 per second on every mainstream kernel. */
const TICK_S = 0.01;
/** Processes grouped by name when no pid is given for them. */
const BY_NAME = ['postgres', 'redis-server', 'nginx'];

/** CPU seconds used so far: by the given pids, by the known programs, and by the whole machine. */
export type CpuSnapshot = Record<string, number>;

async function cpuOf(pid: string): Promise<{ name: string; seconds: number } | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  // After "pid (name) ", the fields start at state (3rd); utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name, seconds: (Number(fields[11]) + Number(fields[12])) * TICK_S };
}

async function machineBusy(): Promise<number> {
  const [, ...ticks] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = ticks;
  return (user + nice + system + irq + softirq) * TICK_S;
}

export async function snapshot(pids: Record<string, number | undefined>): Promise<CpuSnapshot> {
  const named = new Map(Object.entries(pids).map(([name, pid]) => [String(pid), name]));
  const totals: CpuSnapshot = Object.fromEntries([...named.values(), ...BY_NAME].map((name) => [name, 0]));
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cpu = await cpuOf(pid);
    const group = named.get(pid) ?? (cpu && BY_NAME.includes(cpu.name) ? cpu.name : undefined);
    if (cpu && group) totals[group]! += cpu.seconds;
  }
  totals.machine = await machineBusy();
  return totals;
}

/**
 * CPU microseconds per request between two snapshots, per group; `rest` is the
 * machine's busy time no group accounts for (wrk itself, the kernel's share, anything else running).
 */
export function perRequest(
  before: CpuSnapshot,
  after: CpuSnapshot,
  requests: number,
): Record<string, number> {
  const spent = Object.fromEntries(
    Object.keys(after).map((name) => [name, Math.max(0, after[name]! - (before[name] ?? 0))]),
  );
  const grouped = Object.entries(spent).reduce((sum, [name, s]) => (name === 'machine' ? sum : sum + s), 0);
  spent.rest = Math.max(0, spent.machine! - grouped);
  return Object.fromEntries(
    Object.entries(spent).map(([name, s]) => [name, Math.round((s * 1e6) / requests)]),
  );
}

/** Cores kept busy over `ms` by whatever runs now: a bench needs a quiet machine. */
export async function busyCores(ms = 2000): Promise<number> {
  const before = await machineBusy();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((await machineBusy()) - before) / (ms / 1000);
}

/**
 * Waits (up to `maxMs`) until other work leaves the machine nearly idle, so a
 * measured run does not share the cores with it; returns the busy cores last seen.
 */
export async function untilQuiet(maxMs = 120_000, threshold = 0.25): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = await busyCores(1000);
  while (busy > threshold && Date.now() < deadline) {
    console.log(`  waiting for a quiet machine: ${busy.toFixed(1)} cores busy`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    busy = await busyCores(1000);
  }
  if (busy > threshold)
    console.warn(`  Warning: measuring with ${busy.toFixed(1)} cores busy with other work`);
  return busy;
}
