import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { spoolUpload } from './upload-spool.ts';

const limits = { maxBytes: 1000, minBytesPerSecond: 100, rateWindowMs: 200 };

/** The AppError a refused upload rejects with. */
const refusal = (upload: Promise<unknown>) =>
  upload.then(
    () => expect.fail('the upload was kept'),
    (error: unknown) => error as { kind: string; message: string },
  );

describe('spoolUpload', () => {
  it('keeps a whole upload that arrives fast enough, to read again', async () => {
    const file = new PassThrough();
    file.end('a,b\n1,2\n');
    const spooled = await spoolUpload(file, limits);
    expect(spooled.bytes).toBe(8);
    expect(await text(spooled.open())).toBe('a,b\n1,2\n');
    await spooled.remove();
  });

  it('refuses an upload that busboy marked truncated at the size limit', async () => {
    const file = Object.assign(new PassThrough(), { truncated: true });
    file.end('x'.repeat(1000));
    const refused = await refusal(spoolUpload(file, limits));
    expect(refused.kind).toBe('too_large');
    expect(refused.message).toContain('(DATA_MAX_UPLOAD_BYTES)');
  });

  it('ends an upload that trickles slower than the minimum rate once a window is over', async () => {
    const file = new PassThrough();
    file.write('a,b\n');
    const timer = setInterval(() => file.write('1'), 100);
    const started = Date.now();
    const refused = await refusal(spoolUpload(file, limits));
    expect(refused.kind).toBe('too_slow');
    expect(refused.message).toContain('at least 100 are required (DATA_UPLOAD_MIN_BYTES_PER_SECOND)');
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('measures each window on its own: a fast start does not pay for a stall', async () => {
    const file = new PassThrough();
    file.write('x'.repeat(900));
    expect((await refusal(spoolUpload(file, limits))).kind).toBe('too_slow');
  });
});
