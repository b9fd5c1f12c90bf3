import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSpool } from './spool.ts';

describe('the answer spool', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'datalab-spool-test-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  const options = (memoryBytes: number, maxBytes = 1000) => ({
    memoryBytes,
    maxBytes,
    directory,
    tooLarge: () => new Error(`more than ${maxBytes} bytes`),
  });

  it('keeps a small answer in memory and gives it back whole, as a buffer and as a stream', async () => {
    const spool = createSpool(options(100));
    await spool.write(Buffer.from('hello '));
    await spool.write(Buffer.from('world'));
    const spooled = spool.finish();
    expect(spooled.size).toBe(11);
    expect((await spooled.toBuffer()).toString()).toBe('hello world');
    expect(await text(spooled.stream())).toBe('hello world');
  });

  it('spills past its memory share to a file nobody else can see, and reads it back in order', async () => {
    const spool = createSpool(options(4));
    for (const part of ['abc', 'defg', 'hij', 'klmnop']) await spool.write(Buffer.from(part));
    // The file is unlinked as soon as it is opened: nothing is left behind, whatever happens next.
    expect(await readdir(directory)).toEqual([]);
    const spooled = spool.finish();
    expect((await spooled.toBuffer()).toString()).toBe('abcdefghijklmnop');
    expect(await text(spooled.stream())).toBe('abcdefghijklmnop');
  });

  it('refuses the write that would pass its limit', async () => {
    const spool = createSpool(options(4, 10));
    await spool.write(Buffer.from('0123456789'));
    await expect(spool.write(Buffer.from('!'))).rejects.toThrow('more than 10 bytes');
    await spool.discard();
  });

  it.runIf(process.platform === 'linux')('closes its file when the reader goes away early', async () => {
    const openFiles = async () => (await readdir('/proc/self/fd')).length;
    const before = await openFiles();
    const spool = createSpool(options(1));
    await spool.write(Buffer.alloc(500, 1));
    expect(await openFiles()).toBe(before + 1);
    const stream = spool.finish().stream();
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    await expect.poll(openFiles).toBe(before);
  });
});
