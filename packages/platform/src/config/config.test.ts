import { describe, expect, it } from 'vitest';
import { commonConfigSchema } from './common.config.ts';
import { ConfigError, f, loadConfig, type ConfigSchema, type Env } from './config.ts';

function configError(schema: ConfigSchema, env: Env): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  const schema = {
    host: f.string('HOST', 'Interface.', '127.0.0.1'),
    port: f.port('PORT', 'Port.', 8001),
    poolSize: f.integer('POOL_SIZE', 'Pool size.', 10, 1, 500),
  };

  it('uses each default when the variable is unset', () => {
    expect(loadConfig(schema, {})).toEqual({ host: '127.0.0.1', port: 8001, poolSize: 10 });
  });

  it('uses each default when the variable is empty or blank', () => {
    expect(loadConfig(schema, { HOST: '', PORT: '', POOL_SIZE: '  ' })).toEqual({
      host: '127.0.0.1',
      port: 8001,
      poolSize: 10,
    });
  });

  it('parses set variables, ignoring surrounding spaces', () => {
    expect(loadConfig(schema, { HOST: '0.0.0.0', PORT: ' 9000 ', POOL_SIZE: '25' })).toEqual({
      host: '0.0.0.0',
      port: 9000,
      poolSize: 25,
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig(schema, {}))).toBe(true);
  });

  it('refuses PORT=abc naming the variable, the problem and the raw value', () => {
    const error = configError(schema, { PORT: 'abc' });
    expect(error.name).toBe('ConfigError');
    expect(error.variable).toBe('PORT');
    expect(error.message).toBe('PORT must be a whole number between 0 and 65535 (got "abc")');
  });

  it('refuses integers outside their range', () => {
    expect(configError(schema, { PORT: '70000' }).message).toContain('between 0 and 65535');
    expect(configError(schema, { POOL_SIZE: '0' }).message).toMatch(
      /^POOL_SIZE must be .* between 1 and 500/,
    );
    expect(configError(schema, { POOL_SIZE: '1.5' }).variable).toBe('POOL_SIZE');
  });

  it('shortens a very long raw value in the message', () => {
    const error = configError(schema, { PORT: 'x'.repeat(500) });
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain('...');
  });
});

describe('URL fields', () => {
  const schema = {
    databaseUrl: f.optionalUrl('DATABASE_URL', 'PostgreSQL.', ['postgres', 'postgresql']),
    upstreams: f.urlList('UPSTREAMS', 'Upstreams.', ['http://a:1'], ['http', 'https']),
  };

  it('accepts a URL with an allowed scheme and leaves an optional one unset', () => {
    expect(loadConfig(schema, { DATABASE_URL: 'postgres://root@db:5432/app' }).databaseUrl).toBe(
      'postgres://root@db:5432/app',
    );
    expect(loadConfig(schema, {}).databaseUrl).toBeUndefined();
  });

  it('refuses a URL with another scheme, listing the allowed ones', () => {
    const error = configError(schema, { DATABASE_URL: 'mysql://db/app' });
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).toContain('must use one of the schemes postgres, postgresql');
    expect(error.message).toContain('"mysql://db/app"');
  });

  it('refuses something that is not a URL at all', () => {
    expect(configError(schema, { DATABASE_URL: 'db:5432' }).message).toContain('DATABASE_URL must');
    expect(configError(schema, { DATABASE_URL: 'not a url' }).message).toContain('must be a URL');
  });

  it('does not echo the password of a refused URL', () => {
    const password = 's3cret-Pa55';
    const error = configError(schema, { DATABASE_URL: `mysql://app:${password}@db/app` });
    expect(error.message).not.toContain(password);
    expect(error.message).toContain('mysql://app:***@db/app');
  });

  it('parses a comma-separated URL list and checks every entry', () => {
    expect(loadConfig(schema, { UPSTREAMS: 'http://a:1, https://b:2,' }).upstreams).toEqual([
      'http://a:1',
      'https://b:2',
    ]);
    expect(loadConfig(schema, {}).upstreams).toEqual(['http://a:1']);
    expect(configError(schema, { UPSTREAMS: 'http://a:1,ftp://b' }).variable).toBe('UPSTREAMS');
  });
});

describe('hostPortList', () => {
  const schema = { sentinels: f.hostPortList('SENTINELS', 'Sentinels.') };

  it('parses host:port pairs', () => {
    expect(loadConfig(schema, { SENTINELS: 'a:1,b:2' }).sentinels).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect(loadConfig(schema, { SENTINELS: ' a:26379 , b:26380, ' }).sentinels).toEqual([
      { host: 'a', port: 26379 },
      { host: 'b', port: 26380 },
    ]);
  });

  it('is an empty list when unset', () => {
    expect(loadConfig(schema, {}).sentinels).toEqual([]);
  });

  it('refuses an entry without a port or with a port out of range', () => {
    expect(configError(schema, { SENTINELS: 'a:1,b' }).message).toContain(
      'SENTINELS must be a comma-separated list of host:port',
    );
    expect(configError(schema, { SENTINELS: 'a:0' }).message).toContain('between 1 and 65535');
  });
});

describe('boolean', () => {
  const schema = { tracing: f.boolean('TRACING', 'Tracing.', false) };

  it.each(['1', 'true', 'TRUE', 'yes', 'on'])('reads %s as true', (raw) => {
    expect(loadConfig(schema, { TRACING: raw }).tracing).toBe(true);
  });

  it.each(['0', 'false', 'False', 'no', 'off'])('reads %s as false', (raw) => {
    expect(loadConfig(schema, { TRACING: raw }).tracing).toBe(false);
  });

  it('refuses anything else', () => {
    expect(configError(schema, { TRACING: 'maybe' }).message).toBe(
      'TRACING must be true or false (got "maybe")',
    );
  });
});

describe('oneOf', () => {
  const schema = { level: f.oneOf('LOG_LEVEL', 'Level.', 'info', ['error', 'info', 'debug']) };

  it('accepts one of the choices', () => {
    expect(loadConfig(schema, { LOG_LEVEL: 'debug' }).level).toBe('debug');
  });

  it('refuses another value, listing the choices', () => {
    expect(configError(schema, { LOG_LEVEL: 'loud' }).message).toBe(
      'LOG_LEVEL must be one of error, info, debug (got "loud")',
    );
  });
});

describe('commonConfigSchema', () => {
  it('loads with an empty environment', () => {
    const config = loadConfig(commonConfigSchema, {});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      logLevel: 'info',
      databasePoolSize: 10,
      redisSentinels: [],
      redisSentinelName: 'mymaster',
      bodyLimitBytes: 1048576,
    });
    expect(config.port).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
  });

  it('documents every field with its variable and default text', () => {
    for (const field of Object.values(commonConfigSchema)) {
      expect(field.env).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(field.doc.length).toBeGreaterThan(0);
      expect(field.defaultText.length).toBeGreaterThan(0);
    }
  });

  it('refuses a Redis URL with another scheme', () => {
    expect(configError(commonConfigSchema, { REDIS_URL: 'http://127.0.0.1:6379' }).variable).toBe(
      'REDIS_URL',
    );
  });
});
