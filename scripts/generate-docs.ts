/**
 * Keeps the generated documentation true: `docs/openapi.json` (the document
 * the gateway serves at /openapi.json) and the configuration table in
 * README.md. `--check` writes nothing and fails when either is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import * as prettier from 'prettier';
import { mergeOpenApi, ROUTES, type OpenApiDocument, type UpstreamDocument } from '@datalab/api-gateway';
import {
  commonConfigSchema,
  createLogger,
  createMemoryAdapters,
  createServiceMetrics,
  generateSigningKey,
  loadCommonConfig,
  loadConfig,
  type App,
  type ConfigSchema,
  type Database,
  type ServiceDefinition,
  type ServiceDeps,
} from '@datalab/platform';
import { allServices } from '@datalab/cli';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OPENAPI_PATH = 'docs/openapi.json';
export const README_PATH = 'README.md';
export const CONFIG_START = '<!-- config:start -->';
export const CONFIG_END = '<!-- config:end -->';

/**
 * Everything `buildApp` needs, without I/O: pg pools connect lazily and are
 * never queried, the shared-state adapters live in memory.
 */
async function offlineDeps(definition: ServiceDefinition): Promise<ServiceDeps> {
  const common = loadCommonConfig({});
  const key = await generateSigningKey();
  const pool = new pg.Pool({ connectionString: 'postgres://docs@127.0.0.1:1/docs' });
  const db: Database = { pool, readPool: pool, queryPool: pool, dependencies: [], close: () => pool.end() };
  return {
    name: definition.name,
    description: definition.description,
    version: definition.version,
    config: loadConfig(definition.configSchema, {}),
    common,
    logger: createLogger({ level: 'silent' }),
    db,
    adapters: createMemoryAdapters({
      cacheMaxBytes: common.cacheMaxBytes,
      registryTtlMs: common.registryTtlMs,
    }),
    metrics: createServiceMetrics(definition.name),
    instanceId: 'docs',
    internalKeys: { active: key, all: [key] },
  };
}

/** Builds the service offline, hands it to `use`, then closes it and its dependencies. */
export async function withOfflineApp<T>(
  definition: ServiceDefinition,
  use: (app: App) => Promise<T>,
): Promise<T> {
  const deps = await offlineDeps(definition);
  let app: App | undefined;
  try {
    app = await definition.buildApp(deps);
    await app.ready();
    return await use(app);
  } finally {
    await app?.close();
    await deps.db.close();
    await deps.adapters.close();
  }
}

/** The service's own document, as its /openapi.json serializes it. */
function ownDocument(app: App): OpenApiDocument {
  return JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
}

/** The aggregated document of every service, exactly as the gateway serves it at /openapi.json. */
export async function generateOpenApi(
  services: readonly ServiceDefinition[] = allServices,
): Promise<OpenApiDocument> {
  const [gateway, ...others] = services;
  if (gateway?.name !== 'api-gateway') throw new Error('the service list must start with the api-gateway');
  const document = await withOfflineApp(gateway, async (app) => ownDocument(app));
  const upstreamDocuments: UpstreamDocument[] = [];
  for (const { name, prefix } of ROUTES) {
    const definition = others.find((service) => service.name === name);
    if (!definition) throw new Error(`the gateway routes ${prefix} to ${name}, which is not a known service`);
    upstreamDocuments.push({
      definition: { name, prefix },
      document: await withOfflineApp(definition, async (app) => ownDocument(app)),
    });
  }
  return mergeOpenApi(document, upstreamDocuments);
}

/** The file's content: 2-space JSON with a trailing newline. */
export function renderOpenApi(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** One configuration schema and who reads it ("all", or a service name). */
export interface ConfigSource {
  usedBy: string;
  schema: ConfigSchema;
}

/** The common schema first, then each service's own. */
export function configSources(services: readonly ServiceDefinition[] = allServices): ConfigSource[] {
  return [
    { usedBy: 'all', schema: commonConfigSchema },
    ...services.map((service) => ({ usedBy: service.name, schema: service.configSchema })),
  ];
}

interface Row {
  variable: string;
  defaultText: string;
  literalDefault: boolean;
  usedBy: string[];
  doc: string;
}

/** A table cell: one line, `|` escaped, `<` escaped outside code spans so placeholders are not read as HTML. */
function cell(markdown: string): string {
  return markdown
    .replace(/\s*\n\s*/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/</g, '\\<')))
    .join('')
    .replace(/\|/g, '\\|');
}

function code(text: string): string {
  return text.includes('`') ? cell(text) : `\`${text.replace(/\|/g, '\\|')}\``;
}

/**
 * The README's configuration table, one row per variable. A variable read by
 * several services gets one row naming them all; if they disagree on its
 * default or meaning, that is a bug this refuses to paper over.
 */
export function renderConfigTable(sources: readonly ConfigSource[] = configSources()): string {
  const rows = new Map<string, Row>();
  for (const { usedBy, schema } of sources) {
    for (const field of Object.values(schema)) {
      const existing = rows.get(field.env);
      if (!existing) {
        rows.set(field.env, {
          variable: field.env,
          defaultText: field.defaultText,
          // Shown as code when the text is the value itself; otherwise it describes what happens instead.
          literalDefault: field.defaultText !== '' && field.defaultText === String(field.default),
          usedBy: [usedBy],
          doc: field.doc,
        });
        continue;
      }
      if (existing.defaultText !== field.defaultText || existing.doc !== field.doc) {
        throw new Error(
          `${field.env} is declared by ${existing.usedBy.join(', ')} and ${usedBy} with different defaults or docs`,
        );
      }
      if (!existing.usedBy.includes(usedBy)) existing.usedBy.push(usedBy);
    }
  }
  const lines = [
    '| Variable | Default | Used by | What it does |',
    '| --- | --- | --- | --- |',
    ...[...rows.values()].map((row) => {
      const fallback = row.literalDefault ? code(row.defaultText) : cell(row.defaultText || '(empty)');
      return `| ${code(row.variable)} | ${fallback} | ${cell(row.usedBy.join(', '))} | ${cell(row.doc)} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `text` with everything between the `start` and `end` marker lines replaced
 * by `content`. Throws when the markers are missing, repeated or out of order.
 */
export function replaceBetweenMarkers(text: string, start: string, end: string, content: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to === -1) {
    throw new Error(`the markers ${start} and ${end} are missing`);
  }
  if (text.indexOf(start, from + 1) !== -1 || text.indexOf(end, to + 1) !== -1 || to < from) {
    throw new Error(`the markers ${start} and ${end} must each appear once, in that order`);
  }
  // Blank lines around the content are what prettier's markdown formatting keeps.
  return `${text.slice(0, from)}${start}\n\n${content.trim()}\n\n${text.slice(to)}`;
}

/** README.md with its configuration table regenerated, formatted as `prettier` would leave it. */
export async function generateReadme(readme: string, readmePath = `${root}${README_PATH}`): Promise<string> {
  const options = { ...(await prettier.resolveConfig(readmePath)), filepath: readmePath };
  const table = await prettier.format(renderConfigTable(), options);
  try {
    return replaceBetweenMarkers(readme, CONFIG_START, CONFIG_END, table);
  } catch (error) {
    throw new Error(`${README_PATH}: ${(error as Error).message}; add them where the table belongs`, {
      cause: error,
    });
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes (or, with `check`, compares) both artefacts; returns the problems, one line each. */
export async function run(options: { check: boolean }): Promise<string[]> {
  const problems: string[] = [];
  const stale = (file: string): string => `${file} is out of date: run npm run docs`;

  const openapiPath = `${root}${OPENAPI_PATH}`;
  const openapi = renderOpenApi(await generateOpenApi());
  if ((await readIfPresent(openapiPath)) !== openapi) {
    if (options.check) problems.push(stale(OPENAPI_PATH));
    else await writeFile(openapiPath, openapi);
  }

  const readmePath = `${root}${README_PATH}`;
  const readme = await readIfPresent(readmePath);
  if (readme === undefined) {
    problems.push(`${README_PATH} is missing; it must hold the markers ${CONFIG_START} and ${CONFIG_END}`);
    return problems;
  }
  let updated: string;
  try {
    updated = await generateReadme(readme, readmePath);
  } catch (error) {
    problems.push((error as Error).message);
    return problems;
  }
  if (updated !== readme) {
    if (options.check) problems.push(stale(README_PATH));
    else await writeFile(readmePath, updated);
  }
  return problems;
}

/** True when run as `tsx scripts/generate-docs.ts`, false when imported (by the test). */
function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const problems = await run({ check: process.argv.includes('--check') });
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
}
