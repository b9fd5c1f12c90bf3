import { randomUUID } from 'node:crypto';
import {
  INTERNAL_TOKEN_HEADER,
  signInternalToken,
  type Platform,
  type Principal,
  type Role,
} from '@datalab/platform';
import type { ServiceName } from '@datalab/contracts';
import { uniqueName } from './helpers.ts';

/** A caller as the gateway would describe them, with a fresh user id. */
export function person(role: Role): Principal {
  return { kind: 'user', userId: randomUUID(), email: `${uniqueName(role)}@example.test`, role };
}

/**
 * Calls a service directly, as the gateway would: with an internal token for
 * that service carrying `principal`.
 */
export async function callAs(
  platform: Platform,
  service: { name: ServiceName; url: string },
  principal: Principal,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  const token = await signInternalToken(platform.internalKeys.active, principal, 'api-gateway', service.name);
  const headers = new Headers(init.headers);
  headers.set(INTERNAL_TOKEN_HEADER, token);
  return fetch(`${service.url}${path}`, { ...init, headers });
}

/** A multipart body with option fields first and the file last (the order the upload reads them in). */
export function uploadForm(
  file: Blob | string,
  filename: string,
  fields: Record<string, string> = {},
): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', typeof file === 'string' ? new Blob([file]) : file, filename);
  return form;
}

/** `callAs` with a JSON body (when given), answering the status, the headers and the parsed JSON body. */
export async function callJson<T>(
  platform: Platform,
  service: { name: ServiceName; url: string },
  principal: Principal,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await callAs(platform, service, principal, path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}
