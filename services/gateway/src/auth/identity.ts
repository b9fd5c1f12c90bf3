import type { KeySet } from '@datalab/platform';
import type { GatewayDeps } from '../app.ts';
import { createApiKeysRepository } from '../api-keys/api-keys.repository.ts';
import { createApiKeysService } from '../api-keys/api-keys.service.ts';
import { createSessionsRepository } from '../sessions/sessions.repository.ts';
import { createSessionsService } from '../sessions/sessions.service.ts';
import { createUsersRepository } from '../users/users.repository.ts';
import { createUsersService } from '../users/users.service.ts';
import { createAuthenticator } from './authenticate.ts';
import { createPasswordAttempts } from './password-attempts.ts';
import type { RecordSecurityEvent } from './security-events.ts';

/** Users, sessions, API keys and the authenticator, wired to one another. */
export function createIdentity(deps: GatewayDeps, keys: KeySet, recordEvent: RecordSecurityEvent) {
  const { config, db, adapters, logger } = deps;
  const usersRepository = createUsersRepository(db.pool);
  const apiKeys = createApiKeysService(
    createApiKeysRepository(db.pool),
    adapters.events,
    recordEvent,
    logger,
    { maxPerUser: config.apiKeysPerUserMax },
  );
  const authenticator = createAuthenticator({
    keys,
    issuer: config.issuer,
    apiKeys,
    users: usersRepository,
    events: adapters.events,
    logger,
  });
  const sessions = createSessionsService(
    usersRepository,
    createSessionsRepository(db.pool),
    createPasswordAttempts(usersRepository, recordEvent, config),
    recordEvent,
    {
      keys,
      issuer: config.issuer,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      refreshTokenTtlDays: config.refreshTokenTtlDays,
    },
    authenticator.forget,
  );
  const users = createUsersService(usersRepository, recordEvent, async (userId, disabled) => {
    await authenticator.forget(userId);
    if (disabled) await sessions.revokeAllOfUser(userId);
  });
  return {
    users,
    sessions,
    apiKeys,
    authenticator,
    close: async () => {
      await apiKeys.close();
      await authenticator.close();
    },
  };
}

export type Identity = ReturnType<typeof createIdentity>;
