import { describe, expect, it } from 'vitest';
import type { PrincipalStatus } from '@datalab/contracts';
import type { Principal, PrincipalsClient } from '@datalab/platform';
import { createOwnerRights, verdictOf } from './owner-rights.ts';

const USER = '0190a1b2-0000-7000-8000-000000000001';
const KEY = '0190a1b2-0000-7000-8000-0000000000aa';
const admin: Principal = { kind: 'user', userId: USER, email: 'ada@example.test', role: 'admin' };
const adminKey: Principal = { ...admin, kind: 'api_key', apiKeyId: KEY, role: 'editor' };
const now = (extra: Partial<PrincipalStatus> = {}): PrincipalStatus => ({
  id: USER,
  email: 'ada@example.test',
  role: 'admin',
  disabled: false,
  ...extra,
});

describe('the rights a job runs with', () => {
  it('are the captured ones while the owner is unchanged', () => {
    expect(verdictOf(admin, now())).toEqual({ allowed: true, principal: admin });
  });

  it('drop to the current role after a demotion, and never rise above the captured role', () => {
    expect(verdictOf(admin, now({ role: 'editor' }))).toEqual({
      allowed: true,
      principal: { ...admin, role: 'editor' },
    });
    const editor: Principal = { ...admin, role: 'editor' };
    expect(verdictOf(editor, now({ role: 'admin' }))).toEqual({ allowed: true, principal: editor });
  });

  it('are none for a disabled or unknown owner, or an owner who is a viewer now', () => {
    expect(verdictOf(admin, now({ disabled: true }))).toEqual({
      allowed: false,
      reason: 'its owner ada@example.test is disabled',
    });
    expect(verdictOf(admin, undefined)).toEqual({
      allowed: false,
      reason: 'its owner (ada@example.test) no longer exists',
    });
    expect(verdictOf(admin, now({ role: 'viewer' }))).toEqual({
      allowed: false,
      reason: 'its owner ada@example.test is now a viewer, and viewers cannot run jobs',
    });
  });

  it('are none for a job of an API key that was revoked, has expired or is gone; else the key’s role', () => {
    expect(verdictOf(adminKey, now({ api_key: { id: KEY, state: 'active' } }))).toEqual({
      allowed: true,
      principal: adminKey,
    });
    for (const state of ['revoked', 'expired'] as const)
      expect(verdictOf(adminKey, now({ api_key: { id: KEY, state } }))).toEqual({
        allowed: false,
        reason: `the API key it was submitted with is ${state}`,
      });
    expect(verdictOf(adminKey, now({ api_key: null }))).toMatchObject({ allowed: false });
  });
});

describe('asking the gateway', () => {
  function counting(answers: (PrincipalStatus | Error)[]) {
    const asked: (string | undefined)[] = [];
    const client: PrincipalsClient = {
      status: async (userId, apiKeyId) => {
        asked.push(apiKeyId);
        const answer = answers.shift() ?? now();
        if (answer instanceof Error) throw answer;
        return { ...answer, id: userId };
      },
      close: async () => undefined,
    };
    return { client, asked };
  }

  it('asks once for the jobs of one owner that start together, and again once the answer is older than allowed', async () => {
    const { client, asked } = counting([]);
    const rights = createOwnerRights(client, 50);
    await Promise.all([rights.check(admin), rights.check(admin), rights.check(admin)]);
    expect(asked).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await rights.check(admin);
    expect(asked).toHaveLength(2);
  });

  it('asks about the API key a job was submitted with, and anew when asked for a fresh answer', async () => {
    const { client, asked } = counting([]);
    const rights = createOwnerRights(client, 60_000);
    await rights.check(adminKey);
    await rights.check(adminKey, { fresh: true });
    expect(asked).toEqual([KEY, KEY]);
  });

  it('does not remember a failed question', async () => {
    const { client, asked } = counting([new Error('gateway away')]);
    const rights = createOwnerRights(client, 60_000);
    await expect(rights.check(admin)).rejects.toThrow('gateway away');
    expect(await rights.check(admin)).toMatchObject({ allowed: true });
    expect(asked).toHaveLength(2);
  });
});
