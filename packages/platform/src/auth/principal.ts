import { AppError } from '../errors/errors.ts';

export type Role = 'admin' | 'editor' | 'viewer';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin'];

/** Who is calling, as established by the gateway and carried to the services in the internal token. */
export interface Principal {
  /** `user`: a password login; `api_key`: a key acting for its owner with the key's role. */
  kind: 'user' | 'api_key';
  /** The user (the key's owner for API keys). */
  userId: string;
  email: string;
  role: Role;
  apiKeyId?: string;
}

/** How much a role may do: viewer < editor < admin. */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export type Visibility = 'private' | 'shared';

/** Every resource (dataset, chart, dashboard, model, job) has an owner and a visibility. */
export interface OwnedResource {
  ownerId: string;
  visibility: Visibility;
}

/** Admins see everything; others see what they own and what is shared. */
export function canRead(principal: Principal, resource: OwnedResource): boolean {
  return (
    principal.role === 'admin' || resource.ownerId === principal.userId || resource.visibility === 'shared'
  );
}

/** Admins manage everything; editors manage what they own; viewers manage nothing. */
export function canManage(principal: Principal, resource: OwnedResource): boolean {
  if (principal.role === 'admin') return true;
  return principal.role === 'editor' && resource.ownerId === principal.userId;
}

export function canCreate(principal: Principal): boolean {
  return principal.role !== 'viewer';
}

/**
 * Throws `not_found` (not `forbidden`) for a resource the caller may not
 * read, so its existence is not revealed to whoever guesses its id.
 */
export function assertCanRead(principal: Principal, resource: OwnedResource | undefined, what: string): void {
  if (!resource || !canRead(principal, resource)) throw new AppError('not_found', `${what} not found`);
}

/** `not_found` when the caller cannot even read it; `forbidden` when it can read but not manage it. */
export function assertCanManage(
  principal: Principal,
  resource: OwnedResource | undefined,
  what: string,
): asserts resource is OwnedResource {
  assertCanRead(principal, resource, what);
  if (!canManage(principal, resource!)) throw new AppError('forbidden', `You may not change this ${what}`);
}

export function assertCanCreate(principal: Principal, what: string): void {
  if (!canCreate(principal)) throw new AppError('forbidden', `Viewers cannot create a ${what}`);
}
