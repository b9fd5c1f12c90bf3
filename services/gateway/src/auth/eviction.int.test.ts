import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { call, newPem, startTestGateway, type TestGateway } from '../../../../test/gateway.ts';
import { uniqueName } from '../../../../test/helpers.ts';

/**
 * Two gateway instances on one Redis, as in a distributed deployment: what one instance changes
 * about a user (disabled, demoted, sessions ended) takes effect on the other at once, although the
 * other had the user's API key and status cached.
 */
describe.skipIf(!inject('redisUrl'))('a change made on one gateway instance, seen by another', () => {
  let one: TestGateway;
  let other: TestGateway;
  let adminToken: string;

  beforeAll(async () => {
    // One Redis prefix (one events channel) and one signing key, as the instances of one deployment share.
    const shared = { REDIS_PREFIX: `${uniqueName('eviction')}:`, AUTH_SIGNING_KEY: newPem() };
    one = await startTestGateway(shared);
    other = await startTestGateway(shared);
    adminToken = await one.login(await one.createUser('admin'));
  });
  afterAll(async () => {
    await one?.close();
    await other?.close();
  });

  const meAt = (gw: TestGateway, headers: Record<string, string>) =>
    call(`${gw.url}/api/v1/auth/me`, { headers });
  const change = (id: string, body: unknown) =>
    call(`${one.url}/api/v1/admin/users/${id}`, { method: 'PATCH', token: adminToken, body });
  const keyOf = async (token: string) =>
    (await call(`${one.url}/api/v1/auth/api-keys`, { method: 'POST', token, body: { name: 'k' } })).body
      .key as string;
  // Pub/sub takes a moment; the old 30 s key cache and 10 s status cache would take far longer.
  const soon = { timeout: 2000, interval: 50 };

  it('stops a disabled user’s API key on the other instance', async () => {
    const user = await one.createUser('editor');
    const key = await keyOf(await one.login(user));
    expect((await meAt(other, { 'x-api-key': key })).status).toBe(200);
    expect((await change(user.id, { disabled: true })).status).toBe(200);
    await vi.waitFor(async () => expect((await meAt(other, { 'x-api-key': key })).status).toBe(401), soon);
  });

  it('lowers a demoted user’s API key on the other instance', async () => {
    const user = await one.createUser('editor');
    const key = await keyOf(await one.login(user));
    expect((await meAt(other, { 'x-api-key': key })).body.role).toBe('editor');
    expect((await change(user.id, { role: 'viewer' })).status).toBe(200);
    await vi.waitFor(
      async () => expect((await meAt(other, { 'x-api-key': key })).body.role).toBe('viewer'),
      soon,
    );
  });

  it('refuses on the other instance an access token whose sessions a password change ended', async () => {
    const user = await one.createUser('editor');
    const token = await one.login(user);
    expect((await meAt(other, { authorization: `Bearer ${token}` })).status).toBe(200);
    const changed = await call(`${one.url}/api/v1/auth/password`, {
      method: 'POST',
      token,
      body: { current_password: user.password, new_password: 'another long password' },
    });
    expect(changed.status).toBe(204);
    await vi.waitFor(
      async () => expect((await meAt(other, { authorization: `Bearer ${token}` })).status).toBe(401),
      soon,
    );
  });
});
