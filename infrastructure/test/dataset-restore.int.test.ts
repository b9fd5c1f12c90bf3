import { mkdtemp, rename, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureQueryRole,
  loadCommonConfig,
  startPlatform,
  startService,
  type Platform,
  type RunningService,
} from '@datalab/platform';
import { dataService } from '../../services/data/src/definition.ts';
import { silentLogger, testEnv } from '../../test/helpers.ts';
import { callAs, callJson, person, uploadForm } from '../../test/internal.ts';
import { freePort, spawnTs } from '../../test/processes.ts';
import {
  archiveAll,
  archiveSettings,
  clusterNow,
  hasPostgresAndPgBackRest,
  nextSecond,
  pgbackrest,
  pgbackrestConfig,
  restoreToTime,
} from './lib/pgbackrest.ts';
import {
  initPrimary,
  node,
  postgresTempDir,
  query,
  removeTempDir,
  type Node,
} from './lib/postgres-cluster.ts';

/**
 * docs/operations.md's promise, for real: the catalog restored to a moment T
 * by pgBackRest's point-in-time recovery, beside the dataset storage as it is
 * later (files are never rewritten, and a dropped one waits out
 * DATA_SWEEP_GRACE_SECONDS), gives back every dataset as it was at T. Each is
 * read through the data-service's API and, straight from its Parquet files,
 * by DuckDB.
 */

type Row = (number | string)[];
interface Content {
  columns: string[];
  rows: Row[];
}

const csvOf = ({ columns, rows }: Content): string =>
  [columns.join(','), ...rows.map((row) => row.join(','))].join('\n') + '\n';

const range = (from: number, to: number, label: (id: number) => string): Row[] =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, label(from + i)]);

const SALES_COLUMNS = ['id', 'region'];
const region = (id: number) => ['north', 'south', 'east'][id % 3]!;

/** A whole-number cell in a DuckDB row: BIGINT comes back as a bigint. */
const plain = (value: unknown): number | string =>
  typeof value === 'bigint' ? Number(value) : (value as number | string);

async function readWithDuckDB(files: string[], columns: string[]): Promise<Row[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = files.map((file) => `'${file.replace(/'/g, "''")}'`).join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM read_parquet([${list}]) ORDER BY id`,
    );
    return reader.getRowsJS().map((row) => row.map(plain));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe.skipIf(!hasPostgresAndPgBackRest)(
  'a restore of the catalog to a point in time finds every dataset of that moment, files included',
  () => {
    let dir: string;
    let storageDir: string;
    let dataDir: string;
    let config: string;
    let primary: Node;
    let restored: Node | undefined;
    let platform: Platform | undefined;
    let data: RunningService | undefined;
    const owner = person('editor');

    const envFor = (cluster: Node) =>
      testEnv({
        DATABASE_URL: cluster.url,
        QUERY_DATABASE_URL: cluster.url.replace('//postgres@', '//datalab_query@'),
        DATALAB_DATA_DIR: dataDir,
        DATA_STORAGE: 'dir',
        DATA_STORAGE_DIR: storageDir,
        // The rule docs/operations.md gives: no dropped file is swept within the recovery window.
        DATA_SWEEP_GRACE_SECONDS: String(7 * 24 * 3600),
      });

    async function startDataService(cluster: Node): Promise<RunningService> {
      const env = envFor(cluster);
      platform = await startPlatform(loadCommonConfig(env), silentLogger);
      data = await startService(dataService, platform, { env, port: 0 });
      return data;
    }

    async function stopDataService(): Promise<void> {
      await data?.close();
      await platform?.close();
      data = undefined;
      platform = undefined;
    }

    async function upload(content: Content, name: string): Promise<string> {
      const response = await callAs(platform!, data!, owner, '/api/v1/data/datasets', {
        method: 'POST',
        body: uploadForm(csvOf(content), `${name}.csv`, { name }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
      return ((await response.json()) as { dataset: { id: string } }).dataset.id;
    }

    async function addVersion(id: string, mode: 'append' | 'replace', content: Content): Promise<void> {
      const response = await callAs(platform!, data!, owner, `/api/v1/data/datasets/${id}/versions`, {
        method: 'POST',
        body: uploadForm(csvOf(content), 'more.csv', { mode }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
    }

    beforeAll(async () => {
      dir = await postgresTempDir('datalab-restore-');
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'datalab-restore-data-'));
      storageDir = path.join(dataDir, 'dataset-files');
      primary = node(path.join(dir, 'primary'), await freePort(), dir);
      config = await pgbackrestConfig(dir, primary);
      await initPrimary(primary.dataDir, { wal_level: 'replica', ...archiveSettings(config), fsync: 'off' });
      await primary.start();
      await pgbackrest(config)('stanza-create');
      await ensureQueryRole(primary.url);
    });

    afterAll(async () => {
      await stopDataService();
      for (const each of [restored, primary]) await each?.stop();
      if (dir) await removeTempDir(dir);
      if (dataDir) await removeTempDir(dataDir);
    });

    it('reads each dataset of moment T as it was, through the API and from its files, after a PITR of the catalog', async () => {
      await startDataService(primary);
      const sales: Content = { columns: SALES_COLUMNS, rows: range(1, 3, region) };
      const salesId = await upload(sales, 'sales');
      const regionsId = await upload(
        { columns: ['id', 'name'], rows: range(1, 2, (id) => `r${id}`) },
        'regions',
      );
      const kept: Content = { columns: ['id', 'note'], rows: range(1, 4, (id) => `kept ${id}`) };
      const keptId = await upload(kept, 'kept');

      await pgbackrest(config)('backup', '--type=full');
      await nextSecond();

      // After the base backup, before T: only the archived WAL holds these.
      await addVersion(salesId, 'append', { columns: SALES_COLUMNS, rows: range(4, 5, region) });
      const regions: Content = {
        columns: ['id', 'code', 'size'],
        rows: [
          [1, 'n', 10],
          [2, 's', 20],
          [3, 'e', 30],
        ],
      };
      await addVersion(regionsId, 'replace', regions);
      const late: Content = { columns: ['id', 'city'], rows: range(1, 2, (id) => `city ${id}`) };
      const lateId = await upload(late, 'late');
      const atT: Record<string, { content: Content; version: number }> = {
        sales: { content: { columns: SALES_COLUMNS, rows: range(1, 5, region) }, version: 2 },
        regions: { content: regions, version: 2 },
        kept: { content: kept, version: 1 },
        late: { content: late, version: 1 },
      };

      const target = await clusterNow(primary);
      await nextSecond();

      // After T: every one of these drops a file that T's catalog names, or adds one it does not.
      await callJson(platform!, data!, owner, 'DELETE', `/api/v1/data/datasets/${keptId}`);
      await addVersion(lateId, 'replace', { columns: ['id', 'city'], rows: [[9, 'elsewhere']] });
      await addVersion(salesId, 'append', { columns: SALES_COLUMNS, rows: range(6, 6, region) });
      await upload({ columns: ['id', 'what'], rows: [[1, 'too late']] }, 'gone');
      await archiveAll(config, primary);
      // The old deployment stops before the restored catalog takes over.
      await stopDataService();

      restored = node(path.join(dir, 'restored'), await freePort(), dir);
      await restoreToTime(config, restored, target);
      const service = await startDataService(restored);
      // The start ran the data migration, which looks for every dataset's files: none is missing.
      expect(service.notices).toEqual([]);

      const catalog = await query<{ id: string; name: string; files: string[] }>(
        restored.url,
        'SELECT id, name, files FROM data.datasets ORDER BY name',
      );
      expect(catalog.map((entry) => entry.name)).toEqual(Object.keys(atT).sort());
      for (const { id, name, files } of catalog) {
        const { content, version } = atT[name]!;
        const paths = files.map((key) => path.join(storageDir, ...key.split('/')));
        for (const file of paths) expect((await stat(file)).isFile(), file).toBe(true);
        expect(await readWithDuckDB(paths, content.columns), `${name} read by DuckDB`).toEqual(content.rows);

        const described = await callJson<{ row_count: number; version: number }>(
          platform!,
          service,
          owner,
          'GET',
          `/api/v1/data/datasets/${id}`,
        );
        expect(described.status).toBe(200);
        expect({ rows: described.body.row_count, version: described.body.version }, name).toEqual({
          rows: content.rows.length,
          version,
        });
        const answer = await callJson<{ rows: Row[] }>(
          platform!,
          service,
          owner,
          'POST',
          '/api/v1/data/query',
          {
            sql: `SELECT ${content.columns.join(', ')} FROM ${name} ORDER BY id`,
          },
        );
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        expect(answer.body.rows, `${name} through the API`).toEqual(content.rows);
      }

      // The restored catalog takes new versions; their files never reuse a key of the lost timeline.
      await addVersion(salesId, 'append', { columns: SALES_COLUMNS, rows: range(6, 7, region) });
      const [after] = await query<{ files: string[]; version: number }>(
        restored.url,
        `SELECT files, version FROM data.datasets WHERE id = '${salesId}'`,
      );
      expect(after!.version).toBe(3);
      const appended = after!.files.map((key) => path.join(storageDir, ...key.split('/')));
      expect(await readWithDuckDB(appended, SALES_COLUMNS)).toEqual(range(1, 7, region));
    }, 240_000);

    it('`datalab migrate` names a dataset whose file the storage lost, and the key to restore', async () => {
      await stopDataService();
      const [kept] = await query<{ id: string; files: string[] }>(
        restored!.url,
        `SELECT id, files FROM data.datasets WHERE name = 'kept'`,
      );
      const key = kept!.files[0]!;
      const file = path.join(storageDir, ...key.split('/'));
      await rename(file, `${file}.aside`);
      try {
        const run = spawnTs('packages/cli/src/main.ts', ['migrate', 'data-service'], {
          ...envFor(restored!),
          LOG_LEVEL: 'silent',
        });
        expect((await run.exited).code, run.output()).toBe(0);
        expect(run.output()).toContain(
          `data-service: dataset kept (${kept!.id}) cannot be read, files missing from the storage: ${key}`,
        );
        expect(run.output()).not.toMatch(/dataset (sales|regions|late) /);
      } finally {
        await rename(`${file}.aside`, file);
      }
    }, 120_000);
  },
);
