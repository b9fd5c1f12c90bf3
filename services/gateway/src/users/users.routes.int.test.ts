import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createServer,
  createServiceMetrics,
  migrate,
  type App,
  type Database,
  type Role,
} from '@datalab/platform';
import { silentLogger, testDatabase, uniqueName } from '../../../../test/helpers.ts';
import { createUsersRepository } from './users.repository.ts';
import { usersRoutes } from './users.routes.ts';
import { createUsersService } from './users.service.ts';

const GATEWAY_MIGRATIONS = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * The admin routes alone, without the gateway's path rule for /api/v1/admin/*: what they refuse
 * here they refuse on their own, whatever path trick gets past that rule one day.
 */
describe('the admin user routes, with no path rule in front of them', () => {
  let db: Database;
  let app: App;

  beforeAll(async () => {
    db = await testDatabase();
    await migrate(db.pool, { schema: 'auth', directory: GATEWAY_MIGRATIONS, logger: silentLogger });
    app = await createServer({
      service: 'api-gateway',
      version: 'test',
      instanceId: uniqueName('users-routes-test'),
      description: 'users routes test',
      logger: silentLogger,
      metrics: createServiceMetrics('api-gateway'),
      dependencies: [],
      bodyLimit: 4096,
    });
    // Stands in for the gateway's authentication, and only that: the test names the caller.
    app.addHook('onRequest', async (request) => {
      const role = request.headers['x-test-role'];
      if (typeof role === 'string')
        request.principal = {
          kind: 'user',
          userId: randomUUID(),
          email: 'x@example.test',
          role: role as Role,
        };
    });
    usersRoutes(
      app,
      createUsersService(
        createUsersRepository(db.pool),
        async () => undefined,
        async () => undefined,
      ),
    );
  });
  afterAll(async () => {
    await app.close();
    await db.close();
  });

  const as = (role: Role) => ({ 'x-test-role': role });

  it.each(['editor', 'viewer'] as const)('refuse a %s listing users with 403 problem+json', async (role) => {
    const answer = await app.inject({ method: 'GET', url: '/api/v1/admin/users', headers: as(role) });
    expect(answer.statusCode).toBe(403);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json()).toMatchObject({ status: 403, detail: 'Only admins may list users' });
  });

  it('refuse an editor creating a user, and no user is written', async () => {
    const email = `${uniqueName('made-by-editor')}@example.test`;
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/users',
      headers: as('editor'),
      payload: { email, password: 'long enough password', role: 'admin' },
    });
    expect(answer.statusCode).toBe(403);
    expect(answer.json()).toMatchObject({ detail: 'Only admins may create users' });
    const rows = await db.pool.query('SELECT 1 FROM auth.users WHERE lower(email) = lower($1)', [email]);
    expect(rows.rowCount).toBe(0);
  });

  it('refuse an editor raising anyone’s role, and the role is unchanged', async () => {
    const created = await db.pool.query<{ id: string }>(
      `INSERT INTO auth.users (email, password_hash, role) VALUES ($1, 'x', 'viewer') RETURNING id`,
      [`${uniqueName('target')}@example.test`],
    );
    const id = created.rows[0]!.id;
    const answer = await app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/users/${id}`,
      headers: as('editor'),
      payload: { role: 'admin' },
    });
    expect(answer.statusCode).toBe(403);
    expect(answer.json()).toMatchObject({ detail: 'Only admins may change users' });
    const role = await db.pool.query<{ role: string }>('SELECT role FROM auth.users WHERE id = $1', [id]);
    expect(role.rows[0]?.role).toBe('viewer');
  });

  it('check the role before the body: an editor’s invalid body is still a 403', async () => {
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/users',
      headers: as('editor'),
      payload: { nonsense: true },
    });
    expect(answer.statusCode).toBe(403);
  });

  it('answer an admin', async () => {
    const answer = await app.inject({
      method: 'GET',
      url: '/api/v1/admin/users?limit=1',
      headers: as('admin'),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ total: expect.any(Number) as number });
  });
});
