import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AwsClient } from 'aws4fetch';
import S3rver from 's3rver';

/** s3rver's built-in account: a request must name this access key (s3rver does not verify the signature itself). */
export const S3_KEY = { id: 'S3RVER', secret: 'S3RVER' };

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** Every key in the bucket, read with a signed ListObjectsV2 of the test's own. */
  keys: () => Promise<string[]>;
  close: () => Promise<void>;
}

/** A real S3 HTTP server (s3rver, objects in a scratch folder) on a free loopback port, with one bucket. */
export async function startS3Server(bucket: string): Promise<TestS3Server> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
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
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
