import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import {
  connectDatabase,
  startService,
  type Env,
  type Platform,
  type Role,
  type RunningService,
} from '@datalab/platform';
import { gatewayService } from '@datalab/api-gateway';
import { hashPassword } from '../services/gateway/src/auth/passwords.ts';
import { createUsersRepository } from '../services/gateway/src/users/users.repository.ts';
import { silentLogger, testEnv, testPlatform, uniqueName } from './helpers.ts';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
}

export interface TestGateway {
  url: string;
  platform: Platform;
  gateway: RunningService;
  /** The access-token signing key, so tests can forge tokens the way an attacker would try. */
  signingKeyPem: string;
  /** A new user of this role, straight into the database (no admin call needed). */
  createUser: (role: Role) => Promise<TestUser>;
  /** Logs in and returns the access token. */
  login: (user: Pick<TestUser, 'email' | 'password'>) => Promise<string>;
  close: () => Promise<void>;
}

export function newPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Creates users straight in the database the gateway uses (no admin call needed). */
export async function userFactory(databaseUrl: string) {
  const db = await connectDatabase({
    url: databaseUrl,
    poolSize: 2,
    connectTimeoutMs: 5000,
    applicationName: 'datalab-test-users',
    logger: silentLogger,
  });
  const users = createUsersRepository(db.pool);
  return {
    create: async (role: Role): Promise<TestUser> => {
      const email = `${uniqueName(role)}@example.test`;
      const password = `pw-${uniqueName('secret')}`;
      const row = await users.insert(email, await hashPassword(password), role);
      return { id: row!.id, email, password, role };
    },
    close: () => db.close(),
  };
}

/** Logs in at a gateway and returns the access token. */
export async function loginAt(
  gatewayUrl: string,
  { email, password }: Pick<TestUser, 'email' | 'password'>,
): Promise<string> {
  const response = await fetch(`${gatewayUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** A real gateway on the test database; `env` adds settings (e.g. DATA_SERVICE_URL). */
export async function startTestGateway(env: Env = {}, platform?: Platform): Promise<TestGateway> {
  const signingKeyPem = newPem();
  const fullEnv = testEnv({ AUTH_SIGNING_KEY: signingKeyPem, ...env });
  const shared = platform ?? (await testPlatform(fullEnv));
  const gateway = await startService(gatewayService, shared, { env: fullEnv, port: 0 });
  const users = await userFactory(shared.databaseUrl);

  return {
    url: gateway.url,
    platform: shared,
    gateway,
    signingKeyPem,
    createUser: users.create,
    login: (user) => loginAt(gateway.url, user),
    close: async () => {
      await gateway.close();
      await users.close();
      if (!platform) await shared.close();
    },
  };
}

/** fetch with a bearer token and JSON body. */
export async function call(
  url: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : null,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/**
 * A call whose request line names a whole URL (`GET http://host/path HTTP/1.1`), which fetch
 * cannot send; answers the status.
 */
export function callWithTarget(
  serverUrl: string,
  options: { method?: string; target: string; headers?: Record<string, string>; body?: unknown },
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port: new URL(serverUrl).port,
        method: options.method ?? 'GET',
        path: options.target,
        headers: {
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}
