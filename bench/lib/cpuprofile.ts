import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './processes.ts';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that the summary reads. */
interface Profile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Only the samples taken this long before the profile ended (µs): e.g. the load, not the start-up. */
export interface Window {
  fromEndUs: number;
  toEndUs: number;
}

export interface Share {
  name: string;
  ms: number;
  share: number;
}

/** Where a function lives: an npm package, a file of ours, Node itself, or V8's own entries. */
function placeOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) {
    const [first, second] = url.slice(5).split('/');
    return `node:${first === 'internal' && second ? `internal/${second}` : first}`;
  }
  const file = url.replace(/^file:\/\//, '');
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (inModules) return inModules[1]!;
  return path.relative(repoRoot, file);
}

function top(totals: Map<string, number>, all: number, count: number): Share[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: us / all }));
}

/** A named share of the work, recognized by the script URL of a frame on the stack (e.g. /ioredis/). */
export interface Category {
  name: string;
  url: RegExp;
}

/**
 * Self time by package, by function, by category (each sample goes to the
 * category of the frame nearest the leaf that matches one), and inclusive time of our own functions (their share
 * of samples whose stack holds them, awaited continuations included).
 */
export function summarize(profile: Profile, window: Window, categories: Category[], count = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const byCategory = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let all = 0;
  let at = profile.startTime;
  const [from, to] = [profile.endTime - window.fromEndUs, profile.endTime - window.toEndUs];
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    at += us;
    const node = byId.get(id)!;
    if (at < from || at > to || node.callFrame.functionName === '(idle)') return;
    all += us;
    const place = placeOf(node.callFrame.url, node.callFrame.functionName);
    self.set(place, (self.get(place) ?? 0) + us);
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${place}`;
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + us);
    const seen = new Set<string>();
    let category: string | undefined;
    for (let frame: number | undefined = id; frame !== undefined; frame = parent.get(frame)) {
      const { functionName, url } = byId.get(frame)!.callFrame;
      category ??= categories.find((candidate) => candidate.url.test(url))?.name;
      const where = placeOf(url, functionName);
      if (!/^(services|packages)\//.test(where)) continue;
      const name = `${functionName || '(anonymous)'} ${where}`;
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      seen.add(name);
    }
    category ??= node.callFrame.url ? 'other' : node.callFrame.functionName;
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  });
  return {
    busyMs: Math.round(all / 1000),
    byPackage: top(self, all, count),
    byFunction: top(selfByFunction, all, count),
    byCategory: top(byCategory, all, categories.length + 4),
    ourFunctions: top(inclusive, all, count),
  };
}

/** The one profile `node --cpu-prof --cpu-prof-dir=<dir>` wrote there. */
export async function profileIn(dir: string): Promise<string> {
  const [file] = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir}: did the process exit cleanly?`);
  return path.join(dir, file);
}

export async function summarizeFile(file: string, window: Window, categories: Category[], count?: number) {
  return summarize(JSON.parse(await readFile(file, 'utf8')) as Profile, window, categories, count);
}
