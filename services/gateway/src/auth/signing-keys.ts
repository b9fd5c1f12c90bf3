import path from 'node:path';
import { loadSigningKey, readSigningKeyFile, type KeySet } from '@datalab/platform';
import type { GatewayDeps } from '../app.ts';

/** The access-token keys: the configured (or generated) active key, plus retired ones still accepted. */
export async function loadAccessTokenKeys(deps: GatewayDeps): Promise<KeySet> {
  const { config, common } = deps;
  const active = await loadSigningKey({
    pem: config.signingKey,
    pemVariable: 'AUTH_SIGNING_KEY',
    file: config.signingKeyFile,
    fileVariable: 'AUTH_SIGNING_KEY_FILE',
    generatedFile: path.join(common.dataDir, 'keys', 'auth-ed25519.pem'),
  });
  const files = config.previousKeyFiles
    .split(',')
    .map((file) => file.trim())
    .filter((file) => file !== '');
  const previous = await Promise.all(
    files.map((file) => readSigningKeyFile(file, 'AUTH_PREVIOUS_KEY_FILES')),
  );
  return { active, all: [active, ...previous.filter((key) => key.kid !== active.kid)] };
}
