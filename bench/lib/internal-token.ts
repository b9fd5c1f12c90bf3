import {
  generatedInternalKeyFile,
  readSigningKeyFile,
  signInternalToken,
  type Principal,
} from '@datalab/platform';

/**
 * Signs internal tokens as the gateway does, with the key the bench's services generated in
 * `dataDir`: for calls that go straight to a service, bypassing the gateway.
 */
export async function internalTokenSigner(dataDir: string) {
  const key = await readSigningKeyFile(generatedInternalKeyFile(dataDir), 'DATALAB_DATA_DIR');
  return (principal: Principal, service: string): Promise<string> =>
    signInternalToken(key, principal, 'api-gateway', service);
}
