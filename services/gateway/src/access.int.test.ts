import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type Platform, type RunningService } from '@datalab/platform';
import { vizService } from '@datalab/viz-service';
import { call, callWithTarget, startTestGateway, type TestGateway } from '../../../test/gateway.ts';
import { queryOnce } from '../../../test/processes.ts';
import { testEnv, testPlatform } from '../../../test/helpers.ts';

describe('roles and ownership end to end: gateway → viz-service', () => {
  let platform: Platform;
  let viz: RunningService;
  let gw: TestGateway;
  const tokens: Record<'editorA' | 'editorB' | 'viewer' | 'admin', string> = {
    editorA: '',
    editorB: '',
    viewer: '',
    admin: '',
  };
  /** Every request id this test sends, with the status it got. */
  const sent = new Map<string, number>();

  beforeAll(async () => {
    platform = await testPlatform();
    viz = await startService(vizService, platform, { env: testEnv(), port: 0 });
    gw = await startTestGateway({ VIZ_SERVICE_URL: viz.url }, platform);
    tokens.editorA = await gw.login(await gw.createUser('editor'));
    tokens.editorB = await gw.login(await gw.createUser('editor'));
    tokens.viewer = await gw.login(await gw.createUser('viewer'));
    tokens.admin = await gw.login(await gw.createUser('admin'));
  });
  afterAll(async () => {
    await gw.close();
    await viz.close();
    await platform.close();
  });

  async function as(who: keyof typeof tokens | 'anonymous', method: string, path: string, body?: unknown) {
    const requestId = `access-test-${randomUUID()}`;
    const answer = await call(`${gw.url}${path}`, {
      method,
      ...(who === 'anonymous' ? {} : { token: tokens[who] }),
      body,
      headers: { 'x-request-id': requestId },
    });
    sent.set(requestId, answer.status);
    return answer;
  }
  const chart = (title: string, visibility = 'private') => ({ title, visibility, spec: { mark: 'bar' } });

  it('lets an editor create and manage their own chart', async () => {
    const created = await as('editorA', 'POST', '/api/v1/viz/charts', chart('mine'));
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    expect(
      (await as('editorA', 'PATCH', `/api/v1/viz/charts/${id}`, { title: 'still mine' })).body.title,
    ).toBe('still mine');
    expect((await as('editorA', 'DELETE', `/api/v1/viz/charts/${id}`)).status).toBe(204);
  });

  it("hides another editor's private chart: no read, no change, no delete (BOLA)", async () => {
    const id = String((await as('editorA', 'POST', '/api/v1/viz/charts', chart('private to A'))).body.id);

    expect((await as('editorB', 'GET', `/api/v1/viz/charts/${id}`)).status).toBe(404);
    expect((await as('editorB', 'PATCH', `/api/v1/viz/charts/${id}`, { title: 'taken' })).status).toBe(404);
    expect((await as('editorB', 'DELETE', `/api/v1/viz/charts/${id}`)).status).toBe(404);
    const listed = await as('editorB', 'GET', '/api/v1/viz/charts?limit=500');
    expect((listed.body.charts as { id: string }[]).map((c) => c.id)).not.toContain(id);
    expect((await as('editorA', 'GET', `/api/v1/viz/charts/${id}`)).body.title).toBe('private to A');
  });

  it('lets others read a shared chart but only its owner change it', async () => {
    const id = String(
      (await as('editorA', 'POST', '/api/v1/viz/charts', chart('shared by A', 'shared'))).body.id,
    );
    expect((await as('editorB', 'GET', `/api/v1/viz/charts/${id}`)).status).toBe(200);
    expect((await as('viewer', 'GET', `/api/v1/viz/charts/${id}`)).status).toBe(200);
    expect((await as('editorB', 'PATCH', `/api/v1/viz/charts/${id}`, { title: 'nope' })).status).toBe(403);
  });

  it('stops a viewer from creating or deleting, at the gateway', async () => {
    const id = String(
      (await as('editorA', 'POST', '/api/v1/viz/charts', chart('for the viewer', 'shared'))).body.id,
    );
    const create = await as('viewer', 'POST', '/api/v1/viz/charts', chart('viewer'));
    const remove = await as('viewer', 'DELETE', `/api/v1/viz/charts/${id}`);
    expect([create.status, remove.status]).toEqual([403, 403]);
  });

  it("lets an admin read and delete anyone's private chart", async () => {
    const id = String((await as('editorB', 'POST', '/api/v1/viz/charts', chart('private to B'))).body.id);
    expect((await as('admin', 'GET', `/api/v1/viz/charts/${id}`)).status).toBe(200);
    expect((await as('admin', 'DELETE', `/api/v1/viz/charts/${id}`)).status).toBe(204);
  });

  it('refuses anonymous callers at the gateway, and direct calls without an internal token at the service', async () => {
    expect((await as('anonymous', 'GET', '/api/v1/viz/charts')).status).toBe(401);
    const direct = await call(`${viz.url}/api/v1/viz/charts`);
    expect(direct.status).toBe(401);
    const withUserToken = await call(`${viz.url}/api/v1/viz/charts`, { token: tokens.admin });
    expect(withUserToken.status).toBe(401);
  });

  async function asTarget(
    who: keyof typeof tokens | 'anonymous',
    method: string,
    target: string,
    body?: unknown,
  ) {
    const requestId = `access-test-${randomUUID()}`;
    const status = await callWithTarget(gw.url, {
      method,
      target,
      body,
      headers: {
        'x-request-id': requestId,
        ...(who === 'anonymous' ? {} : { authorization: `Bearer ${tokens[who]}` }),
      },
    });
    sent.set(requestId, status);
    return status;
  }

  /** A valid body for creating an admin: only an admin's call may succeed with it. */
  const newAdmin = () => ({
    email: `${randomUUID()}@example.test`,
    password: 'a long enough password',
    role: 'admin',
  });

  it('applies the same rules to a request line naming a whole URL, which HTTP/1.1 allows', async () => {
    const answers = [
      await asTarget('editorA', 'GET', 'http://gateway.invalid/api/v1/admin/users'),
      await asTarget('editorA', 'POST', 'http://gateway.invalid/api/v1/admin/users', newAdmin()),
      await asTarget('viewer', 'POST', 'HTTPS://gateway.invalid:1/api/v1/viz/charts', chart('viewer')),
      await asTarget('anonymous', 'GET', 'http://gateway.invalid/api/v1/viz/charts?limit=1'),
      await asTarget('admin', 'GET', 'http://gateway.invalid/api/v1/admin/users'),
    ];
    expect(answers).toEqual([403, 403, 403, 401, 200]);
  });

  it('keeps the admin area to admins however its path is escaped', async () => {
    const answers = [
      await as('editorA', 'GET', '/api/v1/%61dmin/users'),
      await as('editorA', 'POST', '/api/v1/%61dmin/users', newAdmin()),
      await as('viewer', 'GET', '/api/v1/adm%69n/audit'),
      await as('admin', 'GET', '/api/v1/%61dmin/users'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([403, 403, 403, 200]);
  });

  it('has an audit row for every call above, refused ones included, with the status answered', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const ids = [...sent.keys()].map((id) => `'${id}'`).join(',');
    const rows = await queryOnce(
      platform.databaseUrl,
      `SELECT request_id, status FROM audit.events WHERE request_id IN (${ids})`,
    );
    const recorded = new Map(rows.map((row) => [row.request_id as string, row.status as number]));
    expect(recorded).toEqual(sent);
    expect([...sent.values()]).toEqual(expect.arrayContaining([401, 403, 404]));
  });
});
