import { createHmac, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInternalToken, signingKeyFromPem } from '@datalab/platform';
import { call, newPem, startTestGateway, type TestGateway, type TestUser } from '../../../../test/gateway.ts';

const b64 = (value: object | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('access tokens refused as RFC 8725 says they must be', () => {
  let gw: TestGateway;
  let user: TestUser;
  let valid: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    user = await gw.createUser('editor');
    valid = await gw.login(user);
  });
  afterAll(() => gw.close());

  const me = (token: string) => call(`${gw.url}/api/v1/auth/me`, { token });
  const claims = () => ({ sub: user.id, email: user.email, role: 'admin', kind: 'user' });

  async function signed(pem: string, mutate: (jwt: SignJWT) => SignJWT, typ = 'at+jwt'): Promise<string> {
    const key = await signingKeyFromPem(pem, 'test');
    const jwt = new SignJWT(claims())
      .setProtectedHeader({ alg: 'EdDSA', typ, kid: key.kid })
      .setIssuedAt()
      .setIssuer('datalab')
      .setAudience('datalab-api')
      .setSubject(user.id)
      .setExpirationTime('5m');
    return mutate(jwt).sign(key.privateKey);
  }

  it('accepts the token it issued', async () => {
    expect((await me(valid)).status).toBe(200);
  });

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims(), iss: 'datalab', aud: 'datalab-api', exp: 9_999_999_999 })}.`;
    expect((await me(token)).status).toBe(401);
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const publicPem = createPublicKey(createPrivateKey(gw.signingKeyPem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const { kid } = await signingKeyFromPem(gw.signingKeyPem, 'test');
    const head = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64({ ...claims(), iss: 'datalab', aud: 'datalab-api', exp: 9_999_999_999, iat: 1 })}`;
    const signature = createHmac('sha256', publicPem).update(head).digest('base64url');
    expect((await me(`${head}.${signature}`)).status).toBe(401);
  });

  it('refuses an expired token', async () => {
    const token = await signed(gw.signingKeyPem, (jwt) =>
      jwt
        .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60),
    );
    const answer = await me(token);
    expect(answer.status).toBe(401);
    expect(answer.body.detail).toBe('Token expired');
  });

  it('refuses a wrong audience', async () => {
    expect((await me(await signed(gw.signingKeyPem, (jwt) => jwt.setAudience('another-api')))).status).toBe(
      401,
    );
  });

  it('refuses a wrong issuer', async () => {
    expect((await me(await signed(gw.signingKeyPem, (jwt) => jwt.setIssuer('evil')))).status).toBe(401);
  });

  it('refuses a tampered payload', async () => {
    const [header, payload, signature] = valid.split('.');
    const raised = {
      ...(JSON.parse(Buffer.from(payload!, 'base64url').toString()) as object),
      role: 'admin',
    };
    expect((await me(`${header}.${b64(raised)}.${signature}`)).status).toBe(401);
  });

  it('refuses a key id it does not know', async () => {
    expect((await me(await signed(newPem(), (jwt) => jwt))).status).toBe(401);
  });

  it('refuses a token of another type signed with its own key', async () => {
    expect((await me(await signed(gw.signingKeyPem, (jwt) => jwt, 'JWT'))).status).toBe(401);
  });

  it('refuses an internal token replayed against the public API', async () => {
    const internal = await signInternalToken(
      gw.platform.internalKeys.active,
      { kind: 'user', userId: user.id, email: user.email, role: 'admin' },
      'api-gateway',
      'data-service',
    );
    expect((await me(internal)).status).toBe(401);
  });

  it('answers every refusal as problem+json without saying more than "invalid"', async () => {
    const answer = await me('not.a.token');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body.detail).toBe('Invalid token');
  });
});

describe('signing key rotation', () => {
  it('keeps accepting tokens of a retired key listed in AUTH_PREVIOUS_KEY_FILES, and publishes both keys', async () => {
    const first = await startTestGateway();
    const user = await first.createUser('viewer');
    const oldToken = await first.login(user);
    const directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-keys-'));
    const retired = path.join(directory, 'retired.pem');
    await writeFile(retired, first.signingKeyPem);
    await first.close();

    const rotated = await startTestGateway({ AUTH_PREVIOUS_KEY_FILES: retired });
    try {
      expect((await call(`${rotated.url}/api/v1/auth/me`, { token: oldToken })).status).toBe(200);
      const jwks = (await call(`${rotated.url}/.well-known/jwks.json`)).body as { keys: { kid: string }[] };
      const oldKid = (await signingKeyFromPem(first.signingKeyPem, 'x')).kid;
      const newKid = (await signingKeyFromPem(rotated.signingKeyPem, 'x')).kid;
      expect(jwks.keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
      const fresh = await rotated.login(user);
      expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString())).toMatchObject({
        kid: newKid,
      });
    } finally {
      await rotated.close();
    }
  });
});
