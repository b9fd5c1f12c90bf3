import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { AwsClient } from 'aws4fetch';
import { eventually, spawnCommand } from './processes.ts';

/** s3rver's built-in account: a request must name this access key (s3rver does not verify the signature itself). */
export const S3_KEY = { id: 'S3RVER', secret: 'S3RVER' };

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** Every key in the bucket, read with a signed ListObjectsV2 of the test's own. */
  keys: () => Promise<string[]>;
  close: () => Promise<void>;
}

const s3rverCli = path.join(
  path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
  'bin',
  's3rver.js',
);

/**
 * A real S3 HTTP server (s3rver, objects in a scratch folder) in a process of
 * its own on a free loopback port, with one bucket. It signs its listings'
 * continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
 */
export async function startS3Server(bucket: string): Promise<TestS3Server> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-s3-'));
  const server = spawnCommand(
    process.execPath,
    [
      '--openssl-legacy-provider',
      s3rverCli,
      '--silent',
      '-d',
      directory,
      '-a',
      '127.0.0.1',
      '-p',
      '0',
      '--configure-bucket',
      bucket,
    ],
    {},
  );
  const close = async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await rm(directory, { recursive: true, force: true });
  };
  let endpoint: string;
  try {
    const port = await eventually('s3rver to listen', async () => {
      if (server.child.exitCode !== null) throw new Error(`s3rver exited:\n${server.output()}`);
      return /S3rver listening on [\d.]+:(\d+)/.exec(server.output())?.[1];
    });
    endpoint = `http://127.0.0.1:${port}`;
  } catch (error) {
    await close();
    throw error;
  }
  const client = new AwsClient({
    accessKeyId: S3_KEY.id,
    secretAccessKey: S3_KEY.secret,
    service: 's3',
    region: 'us-east-1',
  });
  return {
    endpoint,
    bucket,
    keys: async () => {
      const response = await client.fetch(`${endpoint}/${bucket}/?list-type=2&max-keys=1000`);
      if (!response.ok) throw new Error(`listing failed: ${response.status} ${await response.text()}`);
      return [...(await response.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]!);
    },
    close,
  };
}
