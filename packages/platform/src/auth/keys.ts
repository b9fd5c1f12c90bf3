import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { ConfigError } from '../config/config.ts';

/** An Ed25519 key: signs with the private half, published (JWKS) by the public half. */
export interface SigningKey {
  /** RFC 7638 thumbprint of the public key: stable, so rotation needs no bookkeeping. */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

/** The active key signs; every key in `all` (active first) still verifies. */
export interface KeySet {
  active: SigningKey;
  all: readonly SigningKey[];
}

export async function signingKeyFromPem(pem: string, variable: string): Promise<SigningKey> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError(variable, 'is not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new ConfigError(variable, 'must be an Ed25519 key (EdDSA)');
  const publicKey = createPublicKey(privateKey);
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}

export async function readSigningKeyFile(file: string, variable: string): Promise<SigningKey> {
  const pem = await readFile(file, 'utf8').catch(() => {
    throw new ConfigError(variable, `names a file that cannot be read (${file})`);
  });
  return signingKeyFromPem(pem, variable);
}

/** A fresh key that lives only in memory (tests, tools). */
export function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'generated');
}

/** Reads the key at `file`, creating it (mode 600) the first time: embedded mode's default. */
export async function readOrCreateSigningKey(file: string): Promise<SigningKey> {
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined) return signingKeyFromPem(existing, file);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // 'wx': if another process created it meanwhile, keep theirs.
  await writeFile(file, pem, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
  await chmod(file, 0o600);
  return signingKeyFromPem(await readFile(file, 'utf8'), file);
}

export interface KeySource {
  /** PEM text, e.g. from a Kubernetes Secret in the environment. */
  pem?: string | undefined;
  pemVariable: string;
  /** A PEM file. */
  file?: string | undefined;
  fileVariable: string;
  /** Where the key is kept when neither is given. */
  generatedFile: string;
}

/** The key named by configuration (text, then file), or the generated one kept under the data directory. */
export function loadSigningKey(source: KeySource): Promise<SigningKey> {
  if (source.pem) return signingKeyFromPem(source.pem.replace(/\\n/g, '\n'), source.pemVariable);
  if (source.file) return readSigningKeyFile(source.file, source.fileVariable);
  return readOrCreateSigningKey(source.generatedFile);
}

export function jwksOf(keys: KeySet): { keys: JWK[] } {
  return { keys: keys.all.map((key) => key.publicJwk) };
}
