import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';

describe('API keys', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  const keys = () => `${gw.url}/api/v1/auth/api-keys`;
  const me = (headers: Record<string, string>) => call(`${gw.url}/api/v1/auth/me`, { headers });

  it('are shown once, stored hashed, and work as a Bearer token or in X-API-Key', async () => {
    const user = await gw.createUser('editor');
    const token = await gw.login(user);
    const created = await call(keys(), { method: 'POST', token, body: { name: 'ci' } });
    expect(created.status).toBe(201);
    const secret = created.body.key as string;
    expect(secret).toMatch(/^dlk_/);
    expect(created.body.role).toBe('editor');

    const listed = await call(keys(), { token });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.api_keys).toEqual([
      expect.objectContaining({ id: created.body.id, prefix: secret.slice(0, 10) }),
    ]);

    expect((await me({ authorization: `Bearer ${secret}` })).body).toMatchObject({
      via: 'api_key',
      api_key_id: created.body.id,
      role: 'editor',
    });
    expect((await me({ 'x-api-key': secret })).status).toBe(200);
  });

  it('cannot have a higher role than their owner', async () => {
    const token = await gw.login(await gw.createUser('viewer'));
    const answer = await call(keys(), { method: 'POST', token, body: { name: 'escalate', role: 'admin' } });
    expect(answer.status).toBe(403);
    expect(answer.body.errors).toEqual([{ field: '/body/role', message: 'must be at most viewer' }]);
  });

  it('can act with a lower role than their owner', async () => {
    const token = await gw.login(await gw.createUser('admin'));
    const secret = (
      await call(keys(), { method: 'POST', token, body: { name: 'read-only', role: 'viewer' } })
    ).body.key as string;
    expect((await me({ 'x-api-key': secret })).body.role).toBe('viewer');
    expect((await call(`${gw.url}/api/v1/admin/users`, { headers: { 'x-api-key': secret } })).status).toBe(
      403,
    );
  });

  it('stop working when revoked, and only their owner (or an admin) can revoke them', async () => {
    const owner = await gw.login(await gw.createUser('editor'));
    const stranger = await gw.login(await gw.createUser('editor'));
    const created = (await call(keys(), { method: 'POST', token: owner, body: { name: 'temp' } })).body;
    const secret = created.key as string;
    expect((await me({ 'x-api-key': secret })).status).toBe(200);

    expect(
      (await call(`${keys()}/${String(created.id)}`, { method: 'DELETE', token: stranger })).status,
    ).toBe(404);
    const revoked = await call(`${keys()}/${String(created.id)}`, { method: 'DELETE', token: owner });
    expect(revoked.body.revoked_at).not.toBeNull();
    expect((await me({ 'x-api-key': secret })).status).toBe(401);
  });

  it('stop working once expired', async () => {
    const token = await gw.login(await gw.createUser('editor'));
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const secret = (
      await call(keys(), { method: 'POST', token, body: { name: 'short', expires_at: expiresAt } })
    ).body.key as string;
    expect((await me({ 'x-api-key': secret })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect((await me({ 'x-api-key': secret })).status).toBe(401);
  });

  it('refuse an expiry in the past, a made-up key, and key management with a key', async () => {
    const token = await gw.login(await gw.createUser('editor'));
    const past = await call(keys(), {
      method: 'POST',
      token,
      body: { name: 'x', expires_at: '2001-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
    expect((await me({ 'x-api-key': 'dlk_madeup' })).status).toBe(401);
    const secret = (await call(keys(), { method: 'POST', token, body: { name: 'y' } })).body.key as string;
    expect(
      (await call(keys(), { method: 'POST', headers: { 'x-api-key': secret }, body: { name: 'z' } })).status,
    ).toBe(403);
  });
});
