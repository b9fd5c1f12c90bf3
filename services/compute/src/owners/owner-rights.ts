import type { PrincipalStatus } from '@datalab/contracts';
import {
  canCreate,
  createPrincipalsClient,
  locateService,
  roleRank,
  type ConfigOf,
  type KeySet,
  type Logger,
  type Principal,
  type PrincipalsClient,
  type ServiceRegistry,
} from '@datalab/platform';
import type { computeConfigSchema } from '../config.ts';

/** What work started on an owner's behalf may run as now, or why it may not run. */
export type OwnerVerdict = { allowed: true; principal: Principal } | { allowed: false; reason: string };

/**
 * The rights of a job's or a schedule's owner at the moment its work starts: jobs and ticks keep
 * the principal of their submission, but run with what that user (and API key) may do now.
 */
export interface OwnerRights {
  /**
   * Throws `unavailable` when the owner's current status cannot be learnt now. `fresh`: ask
   * anew, for a person's action that must see a change they just made (resuming a schedule).
   */
  check: (owner: Principal, options?: { fresh?: boolean }) => Promise<OwnerVerdict>;
}

const refuse = (reason: string): OwnerVerdict => ({ allowed: false, reason });

/**
 * The captured principal, held to the user's current status: a disabled or unknown user, or a
 * revoked or expired API key, runs nothing; the role is the lower of the captured and the
 * current one (a demotion applies, a promotion does not widen old work); a viewer runs no jobs.
 */
export function verdictOf(owner: Principal, status: PrincipalStatus | undefined): OwnerVerdict {
  if (!status) return refuse(`its owner (${owner.email}) no longer exists`);
  if (status.disabled) return refuse(`its owner ${status.email} is disabled`);
  if (owner.kind === 'api_key') {
    const key = status.api_key;
    if (!key) return refuse(`the API key it was submitted with is gone`);
    if (key.state !== 'active') return refuse(`the API key it was submitted with is ${key.state}`);
  }
  const role = roleRank(status.role) < roleRank(owner.role) ? status.role : owner.role;
  const principal: Principal = { ...owner, email: status.email, role };
  if (!canCreate(principal))
    return refuse(`its owner ${status.email} is now a viewer, and viewers cannot run jobs`);
  return { allowed: true, principal };
}

/**
 * Asks the gateway, remembering each answer for `cacheMs` from when it was asked (at most two
 * seconds by configuration), and sharing one question among the jobs of an owner that start together.
 */
export function createOwnerRights(
  client: PrincipalsClient,
  cacheMs: number,
  maxEntries = 10_000,
): OwnerRights {
  const asked = new Map<string, { at: number; answer: Promise<PrincipalStatus | undefined> }>();
  const statusOf = (owner: Principal, fresh: boolean): Promise<PrincipalStatus | undefined> => {
    const apiKeyId = owner.kind === 'api_key' ? owner.apiKeyId : undefined;
    const key = `${owner.userId}/${apiKeyId ?? ''}`;
    const now = Date.now();
    const known = asked.get(key);
    if (known && !fresh && now - known.at < cacheMs) return known.answer;
    if (asked.size >= maxEntries) asked.clear();
    const answer = client.status(owner.userId, apiKeyId);
    asked.set(key, { at: now, answer });
    // A failed question is not remembered: the next job asks again.
    answer.catch(() => {
      if (asked.get(key)?.answer === answer) asked.delete(key);
    });
    return answer;
  };
  return {
    check: async (owner, options) => verdictOf(owner, await statusOf(owner, options?.fresh ?? false)),
  };
}

/** `JOB_OWNER_CHECK=off`: work runs with the principal captured when it was submitted. */
export const submittedRights: OwnerRights = {
  check: async (owner) => ({ allowed: true, principal: owner }),
};

/** The owner check a compute process (service or worker) runs with, from its configuration. */
export function ownerRightsFromConfig(
  config: Pick<ConfigOf<typeof computeConfigSchema>, 'jobOwnerCheck' | 'jobOwnerCacheMs' | 'gatewayUrl'>,
  deps: { registry: ServiceRegistry; internalKeys: KeySet; logger: Logger },
): { rights: OwnerRights; close: () => Promise<void> } {
  if (config.jobOwnerCheck === 'off') {
    deps.logger.warn('JOB_OWNER_CHECK=off: jobs run with their submitter’s rights of submission time');
    return { rights: submittedRights, close: async () => undefined };
  }
  const client = createPrincipalsClient({
    caller: 'compute-service',
    internalKeys: deps.internalKeys,
    gatewayUrl: () => locateService(deps.registry, 'api-gateway', config.gatewayUrl),
  });
  return { rights: createOwnerRights(client, config.jobOwnerCacheMs), close: client.close };
}
