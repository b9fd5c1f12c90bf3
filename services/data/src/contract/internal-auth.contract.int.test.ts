import type { KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DATA,
  DATASETS,
  contractSuite,
  created,
  fresh,
  jsonOf,
  listedNames,
  refusal,
  rowsOf,
  uploadForm,
  type DatasetView,
} from './http.contract-fixtures.ts';
import {
  claimsFor,
  internalKey,
  signToken,
  strangerKey,
  thumbprint,
  unsignedToken,
} from './internal-token.contract-fixtures.ts';

const HEADER = 'x-datalab-internal-token';

describe('the data-service reached directly, without the gateway', () => {
  const { stack, owner, other } = contractSuite({ owner: 'editor', other: 'editor' });
  let realKey: KeyObject;
  let mine: DatasetView;
  let theirs: DatasetView;
  let direct: string;

  beforeAll(async () => {
    realKey = await internalKey(stack.dataDir);
    mine = (await created(owner, 'n\n1\n', 'n.csv', { name: fresh('mine') })).dataset;
    theirs = (await created(other, 'n\n2\n', 'n.csv', { name: fresh('theirs') })).dataset;
    direct = `http://127.0.0.1:${stack.ports.data}`;
  });

  /** Every kind of call a caller could try with `token` (or none): reads and writes. */
  function attempts(token: string | undefined) {
    const headers: Record<string, string> = token === undefined ? {} : { [HEADER]: token };
    const json = { ...headers, 'content-type': 'application/json' };
    const name = fresh('smuggled');
    return {
      name,
      calls: [
        () => fetch(`${direct}${DATASETS}`, { headers }),
        () => fetch(`${direct}${DATASETS}/${mine.id}/rows`, { headers }),
        () =>
          fetch(`${direct}${DATA}/query`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ sql: `SELECT n FROM ${mine.name}` }),
          }),
        () =>
          fetch(`${direct}${DATASETS}`, {
            method: 'POST',
            headers,
            body: uploadForm('n\n9\n', 'n.csv', { name }),
          }),
        () =>
          fetch(`${direct}${DATASETS}/${mine.id}`, {
            method: 'PATCH',
            headers: json,
            body: JSON.stringify({ description: 'changed behind the gateway' }),
          }),
        () => fetch(`${direct}${DATASETS}/${mine.id}`, { method: 'DELETE', headers }),
      ],
    };
  }

  /** Each attempt is a 401 problem matching `detail`, and nothing was written. */
  async function refusedEverywhere(token: string | undefined, detail: string | RegExp): Promise<void> {
    const { name, calls } = attempts(token);
    for (const call of calls) await refusal(await call(), 401, detail);
    expect(await jsonOf<DatasetView>(await owner.call(`${DATASETS}/${mine.id}`))).toEqual(mine);
    expect(await rowsOf(owner, `SELECT n FROM ${mine.name}`)).toEqual([[1]]);
    expect(await listedNames(owner, name)).toEqual([]);
  }

  it('refuses every call without an internal token, saying it is reached through the gateway', async () => {
    await refusedEverywhere(undefined, 'internal token missing');
  });

  it('refuses a token signed by a key it does not know', async () => {
    await refusedEverywhere(signToken(strangerKey(), claimsFor(owner)), /unknown key/);
  });

  it('refuses a token that names the real key but was signed by another', async () => {
    const forged = signToken(strangerKey(), claimsFor(owner), { kid: thumbprint(realKey) });
    await refusedEverywhere(forged, /Invalid token/);
  });

  it('refuses a token from the real key addressed to another service', async () => {
    await refusedEverywhere(signToken(realKey, claimsFor(owner, { aud: 'viz-service' })), /Invalid token/);
  });

  it('refuses an expired token from the real key', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    await refusedEverywhere(signToken(realKey, claimsFor(owner, { iat: past - 60, exp: past })), /expired/i);
  });

  it('refuses a token from the real key of another type, and an unsigned one', async () => {
    await refusedEverywhere(signToken(realKey, claimsFor(owner), { typ: 'at+jwt' }), /Invalid token/);
    await refusedEverywhere(unsignedToken(claimsFor(owner)), /token/i);
  });

  it('refuses the user’s own access token in place of an internal one', async () => {
    await refusedEverywhere((await stack.signedIn('editor')).token, /token/i);
  });

  it('accepts a token from the real key for the data-service, acting as the user it names', async () => {
    const token = signToken(realKey, claimsFor(owner));
    const headers = { [HEADER]: token };
    const got = await jsonOf<DatasetView>(await fetch(`${direct}${DATASETS}/${mine.id}`, { headers }));
    expect(got).toEqual(mine);
    const list = await jsonOf<{ datasets: DatasetView[] }>(
      await fetch(`${direct}${DATASETS}?owner=me&search=${mine.name}`, { headers }),
    );
    expect(list.datasets.map((d) => d.id)).toEqual([mine.id]);
    // The token carries who calls; the data-service still checks what that user may read.
    await refusal(await fetch(`${direct}${DATASETS}/${theirs.id}`, { headers }), 404, 'Dataset not found');
  });

  it('answers its health checks without a token', async () => {
    expect((await fetch(`${direct}/health/live`)).status).toBe(200);
    expect((await fetch(`${direct}/health/ready`)).status).toBe(200);
    stack.assertAlive();
  });
});
