import { hash, verify } from '@node-rs/argon2';
import { AppError } from '@datalab/platform';

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
// algorithm 2 is Argon2id (the package's const enum cannot be imported under verbatimModuleSyntax).
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const MIN_LENGTH = 12;
const MAX_LENGTH = 256;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
}

/** A hash of nothing anyone knows: verifying against it makes unknown emails cost as much as known ones. */
export const DECOY_HASH = hash('decoy password that matches nothing', OPTIONS);

export function assertStrongPassword(password: string, field: string): void {
  if (password.length < MIN_LENGTH || password.length > MAX_LENGTH) {
    throw new AppError('invalid', `The password must be ${MIN_LENGTH} to ${MAX_LENGTH} characters long`, {
      errors: [{ field, message: `must be ${MIN_LENGTH} to ${MAX_LENGTH} characters long` }],
    });
  }
}
