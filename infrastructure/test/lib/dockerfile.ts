import { existsSync } from 'node:fs';
import path from 'node:path';

/** The five images, one per service, named as the services are. */
export const IMAGES = [
  'api-gateway',
  'data-service',
  'ai-service',
  'compute-service',
  'viz-service',
] as const;

/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

export interface Stage {
  name: string;
  base: string;
  workdir: string;
  copies: Copy[];
  user: string | undefined;
  env: Map<string, string>;
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions (comments dropped, `\` continuations joined). */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = index + 1;
    if (line.startsWith('#')) return;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const [keyword = '', ...rest] = full.split(/\s+/);
    out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
  });
  return out;
}

/** `KEY=value KEY2="v 2"` as a map (the only ENV form these Dockerfiles use). */
function parseEnv(args: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
    env.set(match[1]!, match[2]!.replace(/^"|"$/g, ''));
  }
  return env;
}

function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  const rest: string[] = [];
  for (const word of words) {
    if (word.startsWith('--from=')) from = word.slice('--from='.length);
    else if (!word.startsWith('--')) rest.push(word);
  }
  const destination = rest.pop();
  if (destination === undefined || rest.length === 0)
    throw new Error(`COPY needs sources and a destination: ${args}`);
  return { from, sources: rest, destination };
}

/** The stages of a multi-stage Dockerfile, in order; the last is the image. */
export function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [base = '', as, name] = instruction.args.split(/\s+/);
      out.push({
        name: as?.toUpperCase() === 'AS' && name ? name : String(out.length),
        base,
        workdir: '/',
        copies: [],
        user: undefined,
        env: new Map(),
        instructions: [],
      });
      continue;
    }
    const stage = out.at(-1);
    if (!stage) continue;
    stage.instructions.push(instruction);
    if (instruction.keyword === 'WORKDIR')
      stage.workdir = path.posix.resolve(stage.workdir, instruction.args);
    if (instruction.keyword === 'USER') stage.user = instruction.args;
    if (instruction.keyword === 'ENV') for (const [k, v] of parseEnv(instruction.args)) stage.env.set(k, v);
    if (instruction.keyword === 'COPY') {
      const copy = parseCopy(instruction.args);
      // A trailing slash means "into this folder"; resolving would drop it.
      const folder = copy.destination.endsWith('/') || copy.destination === '.';
      copy.destination = `${path.posix.resolve(stage.workdir, copy.destination)}${folder ? '/' : ''}`;
      stage.copies.push(copy);
    }
  }
  return out;
}

/** The exec-form (JSON array) arguments of ENTRYPOINT, CMD or HEALTHCHECK CMD. */
export function execForm(args: string): string[] {
  const json = args.replace(/^.*?(?=\[)/s, '');
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

/** Where a COPY puts `source`: into the destination folder, or as the destination itself. */
function placeOf(copy: Copy, source: string): string {
  const intoFolder = copy.destination.endsWith('/') && !source.endsWith('/');
  return intoFolder ? path.posix.join(copy.destination, path.posix.basename(source)) : copy.destination;
}

/**
 * Where a file at `target` inside `stageName` comes from: a path in the build context,
 * following `COPY --from` back through earlier stages. Undefined when no COPY puts it
 * there (it would have to be made by a RUN step).
 */
export function contextSourceOf(all: Stage[], stageName: string, target: string): string | undefined {
  const stage = all.find((candidate) => candidate.name === stageName);
  if (!stage) throw new Error(`no stage ${stageName}`);
  // Later COPYs win over earlier ones, as layers do.
  for (const copy of [...stage.copies].reverse()) {
    for (const source of copy.sources) {
      const relative = path.posix.relative(placeOf(copy, source), target);
      if (relative.startsWith('..') || path.posix.isAbsolute(relative)) continue;
      const origin = path.posix.join(source, relative);
      if (copy.from === undefined) return origin;
      const found = contextSourceOf(all, copy.from, origin);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Each COPY source that is neither in the build context under `root` nor an earlier stage. */
export function missingCopySources(all: Stage[], root: string): string[] {
  const names = new Set(all.map((stage) => stage.name));
  return all.flatMap((stage) =>
    stage.copies.flatMap((copy) => {
      if (copy.from !== undefined) return names.has(copy.from) ? [] : [`--from=${copy.from}`];
      return copy.sources.filter((source) => !existsSync(path.join(root, source)));
    }),
  );
}
