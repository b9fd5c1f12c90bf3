import { f } from '@datalab/platform';

export const authConfigSchema = {
  adminEmail: f.string(
    'DATALAB_ADMIN_EMAIL',
    'Email of the admin created at first start.',
    'admin@datalab.local',
  ),
  adminPassword: f.optionalString(
    'DATALAB_ADMIN_PASSWORD',
    'Password of that admin. Unset: a random one is generated and printed once.',
  ),
  signingKey: f.optionalString('AUTH_SIGNING_KEY', 'Ed25519 private key (PEM) that signs access tokens.'),
  signingKeyFile: f.optionalString(
    'AUTH_SIGNING_KEY_FILE',
    'File holding that key. Neither set: generated once under DATALAB_DATA_DIR/keys.',
  ),
  previousKeyFiles: f.string(
    'AUTH_PREVIOUS_KEY_FILES',
    'Comma-separated PEM files of retired signing keys whose tokens are still accepted (rotation).',
    '',
  ),
  issuer: f.string('AUTH_ISSUER', 'The `iss` of access tokens.', 'datalab'),
  accessTokenTtlSeconds: f.integer(
    'ACCESS_TOKEN_TTL_SECONDS',
    'Lifetime of an access token.',
    900,
    30,
    86400,
  ),
  refreshTokenTtlDays: f.integer('REFRESH_TOKEN_TTL_DAYS', 'Lifetime of a refresh token family.', 30, 1, 365),
  lockoutThreshold: f.integer(
    'LOGIN_LOCKOUT_THRESHOLD',
    'Wrong passwords in a row (at login or password change) that lock an account for LOGIN_LOCKOUT_MINUTES.',
    10,
    1,
  ),
  lockoutMinutes: f.integer('LOGIN_LOCKOUT_MINUTES', 'How long a locked account stays locked.', 15, 1),
  apiKeysPerUserMax: f.integer(
    'API_KEYS_PER_USER_MAX',
    'API keys in use (neither revoked nor expired) one user may have; creating one more answers 409.',
    25,
    1,
  ),
};
