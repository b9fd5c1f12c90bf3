import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * API5:2023 Broken Function Level Authorization — the admin user routes, reached by an editor
 * through every spelling of their path we know. Each is refused, and nothing is written. (The
 * routes' own role check, with no path rule in front, is tested in users.routes.int.test.ts.)
 */

/**
 * Spellings of /api/v1/admin/users (followed by `rest`) that a router might resolve while a path
 * rule misses them.
 */
const SPELLINGS: [string, (rest: string) => string][] = [
  ['as written', (rest) => `/api/v1/admin/users${rest}`],
  ['an escaped letter', (rest) => `/api/v1/%61dmin/users${rest}`],
  ['an escaped letter later', (rest) => `/api/v1/admin/%75sers${rest}`],
  ['capitals', (rest) => `/api/v1/ADMIN/users${rest}`],
  ['a doubled slash', (rest) => `/api/v1/admin//users${rest}`],
  ['a leading doubled slash', (rest) => `//api/v1/admin/users${rest}`],
  ['a trailing slash', (rest) => `/api/v1/admin/users${rest}/`],
  ['a dot segment', (rest) => `/api/v1/./admin/users${rest}`],
  ['a parent segment', (rest) => `/api/v1/x/../admin/users${rest}`],
  ['an escaped parent segment', (rest) => `/api/v1/x/%2e%2e/admin/users${rest}`],
  ['a matrix parameter', (rest) => `/api/v1/admin/users${rest};x`],
  ['backslashes', (rest) => `/api/v1\\admin\\users${rest.replace('/', '\\')}`],
  ['a query', (rest) => `/api/v1/admin/users${rest}?role=admin`],
];

/** Sends a raw request line, so the path goes out exactly as written; answers the whole response. */
function raw(port: number, method: string, target: string, token: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    const head = [
      `${method} ${target} HTTP/1.1`,
      'Host: 127.0.0.1',
      `Authorization: Bearer ${token}`,
      'Connection: close',
      ...(body === undefined
        ? []
        : ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]),
    ];
    // Written, not ended: a half-closed socket would abort the request before it is answered.
    // `Connection: close` has the server close it once it answered.
    socket.write(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`);
  });
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

describe('the admin user routes, for an editor', () => {
  let stack: Stack;
  let editor: { id: string; token: string };
  let adminToken: string;

  beforeAll(async () => {
    stack = await startStack();
    const signed = await stack.signedIn('editor');
    editor = { id: signed.user.id, token: signed.token };
    adminToken = (await stack.signedIn('admin')).token;
  });
  afterAll(() => stack?.close());

  it.each(SPELLINGS)('refuse listing users (path with %s)', async (_what, spell) => {
    const answer = await raw(stack.ports.gateway, 'GET', spell(''), editor.token);
    expect([403, 404]).toContain(statusOf(answer));
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    expect(answer).not.toContain('"users"');
  });

  it.each(SPELLINGS)('refuse creating an admin (path with %s), and none is created', async (_what, spell) => {
    const email = `made-by-editor-${Math.random().toString(36).slice(2)}@example.test`;
    const body = JSON.stringify({ email, password: 'long enough password', role: 'admin' });
    const answer = await raw(stack.ports.gateway, 'POST', spell(''), editor.token, body);
    expect([403, 404]).toContain(statusOf(answer));
    const login = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'long enough password' }),
    });
    await expectProblem(login, 401);
  });

  it.each(SPELLINGS)(
    'refuse raising the editor’s own role (path with %s), and the role stays',
    async (_what, spell) => {
      const target = spell(`/${editor.id}`);
      const answer = await raw(stack.ports.gateway, 'PATCH', target, editor.token, '{"role":"admin"}');
      expect([403, 404]).toContain(statusOf(answer));
      const me = await fetch(`${stack.url}/api/v1/auth/me`, { headers: bearer(editor.token) });
      expect(((await me.json()) as { role: string }).role).toBe('editor');
    },
  );

  it('still answers an admin at the plain path', async () => {
    const answer = await fetch(`${stack.url}/api/v1/admin/users?limit=1`, { headers: bearer(adminToken) });
    expect(answer.status).toBe(200);
    stack.assertAlive();
  });
});
