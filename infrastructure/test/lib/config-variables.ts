import { commonConfigSchema, type ConfigSchema } from '@datalab/platform';
import { allServices } from '@datalab/cli';

/** Every environment variable a DataLab process reads, from the config schemas themselves. */
export function configVariables(): Set<string> {
  const schemas: ConfigSchema[] = [commonConfigSchema, ...allServices.map((service) => service.configSchema)];
  return new Set(schemas.flatMap((schema) => Object.values(schema).map((field) => field.env)));
}

/** The variables one service reads: the common ones and its own. */
export function serviceVariables(serviceName: string): Set<string> {
  const service = allServices.find((candidate) => candidate.name === serviceName);
  if (!service) throw new Error(`unknown service ${serviceName}`);
  return new Set(
    [commonConfigSchema, service.configSchema].flatMap((schema) =>
      Object.values(schema).map((field) => field.env),
    ),
  );
}

/** Names that hold a credential: they must come from a secret, never be written out. */
export const CREDENTIAL_NAME = /PASSWORD|SECRET|TOKEN|(^|_)KEY$|_KEY_|DATABASE_URL|REDIS_URL/;

/** A value that is itself a credential: a URL with a password, or a private key. */
export const CREDENTIAL_VALUE =
  /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@$]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----/i;
