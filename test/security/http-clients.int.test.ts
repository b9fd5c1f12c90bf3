import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, startStack, type Stack } from './stack.ts';

/**
 * Uploads as real clients send them, through the gateway: curl with its defaults (which adds
 * `Expect: 100-continue` to any body over 1 MB), python3 requests, and a chunked body of unknown
 * length. The README's own upload command must work as written.
 */

const run = promisify(execFile);

/** A CSV of about `megabytes` MB, written to `file`. */
async function writeCsv(file: string, megabytes: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,region,amount,note\n');
  const line = (i: number) => `${i},region-${i % 7},${(i * 37) % 1000}.25,some words to pad the row out\n`;
  const rows = Math.ceil((megabytes * 1024 * 1024) / line(100_000).length);
  for (let i = 0; i < rows; i++)
    if (!out.write(line(i))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** curl with its defaults; answers the status and body. */
async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

/** Sends only the head of an upload with `Expect: 100-continue`: the answer, and whether the gateway asked for the body. */
function announceUpload(
  stack: Stack,
  headers: Record<string, string>,
  length: number,
): Promise<{ status: number; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const request = http.request(`${stack.url}/api/v1/data/datasets`, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': String(length),
        expect: '100-continue',
      },
    });
    request.on('continue', () => {
      continued = true;
      request.destroy();
    });
    request.on('response', (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, continued });
    });
    request.on('error', (error) => (continued ? resolve({ status: 0, continued }) : reject(error)));
    request.flushHeaders();
  });
}

describe('uploads from real clients through the gateway', () => {
  let stack: Stack;
  let token: string;
  let dir: string;
  let csv: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'datalab-clients-'));
    csv = path.join(dir, 'sales.csv');
    [stack] = await Promise.all([startStack(), writeCsv(csv, 20)]);
    ({ token } = await stack.signedIn('editor'));
  });

  /** The README's upload command, as curl runs it by default, plus `extra` arguments. */
  const curlUpload = (name: string, extra: string[] = []) =>
    curl([
      ...['-X', 'POST', `${stack.url}/api/v1/data/datasets`, '-H', `authorization: Bearer ${token}`],
      ...[...extra, '-F', `name=${name}`, '-F', `file=@${csv}`],
    ]);
  afterAll(async () => {
    await stack?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a 20 MB CSV from `curl -F file=@…` with curl’s defaults (Expect: 100-continue)', async () => {
    const answer = await curlUpload('curl_sales');
    expect(answer.status, answer.body).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ dataset: { name: 'curl_sales' } });
    stack.assertAlive();
  });

  it('takes the same upload from python3 requests', async () => {
    const script = [
      'import sys, requests',
      'url, token, file = sys.argv[1:4]',
      'with open(file, "rb") as f:',
      '    r = requests.post(url, headers={"authorization": "Bearer " + token},',
      '                      data={"name": "python_sales"}, files={"file": ("sales.csv", f, "text/csv")})',
      'print(r.status_code)',
      'print(r.text)',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script, `${stack.url}/api/v1/data/datasets`, token, csv], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const [status, ...body] = stdout.split('\n');
    expect(Number(status), body.join('\n')).toBe(201);
  });

  it('takes a chunked upload of unknown length', async () => {
    const answer = await curlUpload('chunked_sales', ['-H', 'transfer-encoding: chunked']);
    expect(answer.status, answer.body).toBe(201);
  });

  it('refuses an unauthenticated upload before its body is sent (no 100 Continue)', async () => {
    expect(await announceUpload(stack, {}, 1024 * 1024)).toEqual({ status: 401, continued: false });
  });

  it('refuses an upload announced larger than the limit with 413 before its body is sent', async () => {
    expect(await announceUpload(stack, bearer(token), 4 * 1024 * 1024 * 1024)).toEqual({
      status: 413,
      continued: false,
    });
  });

  it('still answers afterwards', async () => {
    const response = await fetch(`${stack.url}/api/v1/data/datasets/curl_sales`, { headers: bearer(token) });
    expect(response.status).toBe(200);
    await expectProblem(
      await fetch(`${stack.url}/api/v1/data/datasets/nope_missing`, { headers: bearer(token) }),
      404,
    );
  });
});
