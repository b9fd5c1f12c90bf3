import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack.ts';

/**
 * API8:2023 Security Misconfiguration — trusted proxies. The gateway believes X-Forwarded-For
 * only from the proxies TRUST_PROXY names (the ingress; nginx in compose). Here the "ingress" is
 * 127.0.0.2 and the attacker is another peer inside the network, 127.0.0.1. (The deployment files
 * themselves are checked in infrastructure/test: they must name only the ingress.)
 */

const INGRESS = '127.0.0.2';
const ANONYMOUS_LIMIT = 3;

/** An anonymous GET of a limited route from `localAddress`, claiming `forwardedFor`; answers status and remaining. */
function anonymousCall(
  stack: Stack,
  localAddress: string,
  forwardedFor: string,
): Promise<{ status: number; remaining: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: stack.ports.gateway,
        localAddress,
        method: 'GET',
        path: '/api/v1/auth/me',
        headers: { 'x-forwarded-for': forwardedFor },
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            remaining: response.headers['ratelimit-remaining'] as string | undefined,
            body,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

const someAddress = (i: number) => `203.0.113.${(i % 250) + 1}`;

describe('X-Forwarded-For and whose rate budget is spent', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ TRUST_PROXY: INGRESS, RATE_LIMIT_ANONYMOUS: String(ANONYMOUS_LIMIT) });
  });
  afterAll(() => stack?.close());

  it('charges a peer that is not the ingress for its own calls, whatever address it claims to forward', async () => {
    const answers = [];
    for (let i = 0; i < ANONYMOUS_LIMIT + 1; i++)
      answers.push(await anonymousCall(stack, '127.0.0.1', `${someAddress(i)}, ${someAddress(i + 100)}`));
    expect(answers.map((answer) => answer.remaining).slice(0, ANONYMOUS_LIMIT)).toEqual(['2', '1', '0']);
    const refused = answers.at(-1)!;
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 429, budget: 'default' });
  });

  it('charges each client the ingress forwards for, by the address the ingress saw', async () => {
    const first = await anonymousCall(stack, INGRESS, '198.51.100.7');
    const second = await anonymousCall(stack, INGRESS, '198.51.100.8');
    expect([first.status, second.status]).toEqual([401, 401]);
    expect([first.remaining, second.remaining]).toEqual(['2', '2']);
    // A client's own claim before the ingress's entry is not believed: the rightmost untrusted address counts.
    const spoofed = await anonymousCall(stack, INGRESS, '10.9.9.9, 198.51.100.7');
    expect(spoofed.remaining).toBe('1');
    stack.assertAlive();
  });
});
