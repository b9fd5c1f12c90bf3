import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};
const COMPRESSIBLE = /^(text\/|application\/(json|wasm)|image\/svg)/;

export interface WebFile {
  type: string;
  etag: string;
  /** The bytes, and the encodings worth sending (only when smaller). */
  bodies: { identity: Buffer; br?: Buffer; gzip?: Buffer };
}

/** One build of the UI: its files by URL path (`/assets/index-3f2a.js`), read and compressed on first use. */
export interface WebBuild {
  has(urlPath: string): boolean;
  get(urlPath: string): Promise<WebFile>;
}

/** The UI's build directory as it is now: `undefined` while there is no build (yet). */
export interface WebFiles {
  current(): Promise<WebBuild | undefined>;
}

async function walk(directory: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const relative = `${prefix}/${entry.name}`;
      if (entry.isDirectory()) return walk(path.join(directory, entry.name), relative);
      return entry.isFile() ? [relative] : [];
    }),
  );
  return nested.flat();
}

async function load(file: string): Promise<WebFile> {
  const identity = await readFile(file);
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
  const loaded: WebFile = { type, etag, bodies: { identity } };
  if (COMPRESSIBLE.test(type) && identity.length > 1024) {
    const [br, gz] = await Promise.all([
      brotliAsync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
      gzipAsync(identity, { level: 9 }),
    ]);
    if (br.length < identity.length) loaded.bodies.br = br;
    if (gz.length < identity.length) loaded.bodies.gzip = gz;
  }
  return loaded;
}

async function openBuild(directory: string): Promise<WebBuild> {
  const paths = new Set(await walk(directory));
  const cache = new Map<string, Promise<WebFile>>();
  return {
    has: (urlPath) => paths.has(urlPath),
    get(urlPath) {
      let file = cache.get(urlPath);
      if (!file) {
        file = load(path.join(directory, urlPath));
        // A failed read is not remembered: the next request tries again.
        file.catch(() => cache.delete(urlPath));
        cache.set(urlPath, file);
      }
      return file;
    },
  };
}

/**
 * Serves only files that a listing of the directory found, so no request path
 * ever reaches the file system. The listing is made again when index.html
 * changes (a new build, e.g. `datalab up` finishing one in the background):
 * one stat per check, at most once a second.
 */
export function watchWebFiles(directory: string): WebFiles {
  let build: Promise<WebBuild | undefined> = Promise.resolve(undefined);
  let builtAt: number | undefined;
  let latest: Promise<WebBuild | undefined> = build;
  let checkedAt = 0;

  async function refresh(): Promise<WebBuild | undefined> {
    const index = await stat(path.join(directory, 'index.html')).catch(() => undefined);
    if (index?.mtimeMs !== builtAt) {
      builtAt = index?.mtimeMs;
      build = index ? openBuild(directory).catch(() => undefined) : Promise.resolve(undefined);
    }
    return build;
  }

  return {
    current() {
      const now = Date.now();
      if (now - checkedAt >= 1000) {
        checkedAt = now;
        latest = refresh();
      }
      return latest;
    },
  };
}
