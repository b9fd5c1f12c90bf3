import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '@datalab/platform';
import { watchWebFiles, type WebFile, type WebFiles } from './web-ui.files.ts';

/** Where `npm run build -w web` puts the UI in a checkout: <repo>/web/dist. */
export const DEFAULT_WEB_DIST = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../web/dist',
);

/**
 * The UI's policy: its own scripts only (no inline script, no eval — Vega runs
 * its expression interpreter), inline styles for CodeMirror and Vega's
 * tooltips, images from data:/blob: for chart exports, and calls to this origin.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths the UI never answers, so an unknown API route still gets the API's 404 problem. */
const NOT_UI = /^\/(api|docs|health|metrics|openapi\.json|info|\.well-known)(\/|$)/;

/** The request's path, or undefined for one no UI file or route is named like (escapes, `//`, dot segments). */
function pathOf(url: string): string | undefined {
  const raw = url.split(/[?#]/, 1)[0] ?? '';
  return /^\/[\w.~\-/]*$/.test(raw) && !/\/[/.]/.test(raw) ? raw : undefined;
}

function pickEncoding(request: FastifyRequest, file: WebFile): 'br' | 'gzip' | 'identity' {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (file.bodies.br && /\bbr\b/.test(accepted)) return 'br';
  if (file.bodies.gzip && /\bgzip\b/.test(accepted)) return 'gzip';
  return 'identity';
}

async function send(request: FastifyRequest, reply: FastifyReply, file: WebFile, immutable: boolean) {
  void reply.header('content-security-policy', UI_CSP);
  void reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  void reply.header('etag', file.etag);
  void reply.header('vary', 'accept-encoding');
  void reply.type(file.type);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const encoding = pickEncoding(request, file);
  if (encoding !== 'identity') void reply.header('content-encoding', encoding);
  return reply.send(file.bodies[encoding]);
}

// Shown while there is no build: `datalab up` builds one in the background at its first start.
const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>DataLab</title></head><body style="font-family:sans-serif;margin:3rem">
<h1>DataLab</h1><p>The web UI is not built yet. <code>datalab up</code> builds it at start (this page reloads
itself); otherwise run <code>npm run build:web</code>.</p><p>The API and its documentation are at <a href="/docs">/docs</a>.</p>
</body></html>`;

function handler(files: WebFiles) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const urlPath = pathOf(request.url);
    if (urlPath === undefined || NOT_UI.test(urlPath)) return reply.callNotFound();
    const build = await files.current();
    const isFile = urlPath !== '/index.html' && path.extname(urlPath) !== '';
    if (build?.has(urlPath) && urlPath !== '/index.html') {
      // Vite names every file under /assets/ by its content hash: a new build means new names.
      return send(request, reply, await build.get(urlPath), urlPath.startsWith('/assets/'));
    }
    // A missing asset is a 404, not the app page (a browser would try to run HTML as a script).
    if (isFile) return reply.callNotFound();
    if (!build) {
      void reply.header('content-security-policy', UI_CSP);
      void reply.header('cache-control', 'no-store');
      return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    return send(request, reply, await build.get('/index.html'), false);
  };
}

/**
 * Serves the built web UI at `/`: hashed assets with a year's cache, every
 * other path outside the API the app's page (client-side routes). Until a
 * build exists, pages answer 503 with a note saying how to make one.
 */
export function registerWebUi(app: App, directory: string): void {
  const serve = handler(watchWebFiles(directory));
  app.get('/', { schema: { hide: true } }, serve);
  app.get('/*', { schema: { hide: true } }, serve);
}
