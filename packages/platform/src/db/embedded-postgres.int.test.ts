import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../test/helpers.ts';
import { freePort, postmasterPid, queryOnce, spawnTs } from '../../../../test/processes.ts';
import { ConfigError } from '../config/config.ts';
import { isProcessAlive, startEmbeddedPostgres } from './embedded-postgres.ts';

describe('embedded PostgreSQL', () => {
  const directories: string[] = [];
  afterEach(async () => {
    for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
  });
  async function emptyDir(): Promise<string> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-embedded-'));
    directories.push(directory);
    return directory;
  }

  it('starts from an empty directory, keeps data across a restart, and leaves no process behind', async () => {
    const dataDir = await emptyDir();
    const port = await freePort();

    const first = await startEmbeddedPostgres({ dataDir, port, logger: silentLogger });
    await queryOnce(
      first.url,
      "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from the first run')",
    );
    const firstPid = await postmasterPid(dataDir);
    await first.stop();
    expect(isProcessAlive(firstPid)).toBe(false);

    const second = await startEmbeddedPostgres({ dataDir, port, logger: silentLogger });
    try {
      expect(await queryOnce(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'from the first run' }]);
      // The query login sets each query's temp_file_limit; the reader role it switches to cannot.
      const limited = await queryOnce(
        second.queryUrl,
        "SELECT set_config('temp_file_limit', '1MB', false) AS t",
      );
      expect(limited).toEqual([{ t: '1MB' }]);
      await expect(
        queryOnce(second.queryUrl, "SET ROLE datalab_reader; SET temp_file_limit = '-1'"),
      ).rejects.toMatchObject({ code: '42501' });
    } finally {
      await second.stop();
    }
  });

  it('takes over a PostgreSQL left running by a DataLab that was killed', async () => {
    const dataDir = await emptyDir();
    const port = await freePort();
    const killed = spawnTs('test/fixtures/embedded-postgres.ts', [dataDir, String(port)], {});
    await new Promise<void>((resolve, reject) => {
      killed.child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      void killed.exited.then(() => reject(new Error(killed.output())));
    });
    const leftover = await postmasterPid(dataDir);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(isProcessAlive(leftover)).toBe(true);

    const next = await startEmbeddedPostgres({ dataDir, port, logger: silentLogger });
    try {
      expect(isProcessAlive(leftover)).toBe(false);
      expect(await queryOnce(next.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    } finally {
      await next.stop();
    }
  });

  it('names DATALAB_EMBEDDED_PG_PORT when its port is taken', async () => {
    const dataDir = await emptyDir();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const failure = await startEmbeddedPostgres({ dataDir, port, logger: silentLogger }).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).variable).toBe('DATALAB_EMBEDDED_PG_PORT');
    } finally {
      blocker.close();
    }
  });
});
