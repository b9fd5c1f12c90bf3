import { PassThrough, Readable, Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { ingest } from './ingest.ts';
import { options } from './testing.ts';

const HEADER = 'id,name,price,day,active,note,qty,code,at,city\n';
const row = (i: number): string =>
  `${i},name ${i},${(i * 1.25).toFixed(2)},2024-01-${String((i % 28) + 1).padStart(2, '0')},${i % 2 === 0},` +
  `"note, with comma ${i}",${i % 1000},C${i % 97},2024-03-01T10:00:${String(i % 60).padStart(2, '0')}Z,Zürich\n`;

/** About `megabytes` MB of CSV made as it is read; nothing holds the whole file. */
function generatedCsv(megabytes: number): { stream: Readable; rows: () => number } {
  const target = megabytes * 1024 * 1024;
  let produced = 0;
  let rows = 0;
  const stream = new Readable({
    read() {
      let chunk = produced === 0 ? HEADER : '';
      while (chunk.length < 64 * 1024 && produced + chunk.length < target) chunk += row(++rows);
      produced += chunk.length;
      this.push(chunk);
      if (produced >= target) this.push(null);
    },
  });
  return { stream, rows: () => rows };
}

/** A COPY stand-in that takes its time: every write waits a little before it is done. */
function slowConsumer(): {
  stream: Writable;
  bytes: () => number;
  lines: () => number;
  peakBuffered: () => number;
} {
  let bytes = 0;
  let lines = 0;
  let peakBuffered = 0;
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, done) {
      peakBuffered = Math.max(peakBuffered, stream.writableLength);
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      setTimeout(done, 1);
    },
  });
  return { stream, bytes: () => bytes, lines: () => lines, peakBuffered: () => peakBuffered };
}

describe('streaming', () => {
  it(
    'streams a large generated CSV to a slow consumer with bounded memory, honouring backpressure',
    { timeout: 60_000 },
    async () => {
      const source = generatedCsv(64);
      const consumer = slowConsumer();
      const baseline = process.memoryUsage();
      let peakHeap = baseline.heapUsed;
      let peakRss = baseline.rss;
      const sampler = setInterval(() => {
        const now = process.memoryUsage();
        peakHeap = Math.max(peakHeap, now.heapUsed);
        peakRss = Math.max(peakRss, now.rss);
      }, 20);

      try {
        const result = await ingest(
          source.stream,
          options({ filename: 'big.csv' }),
          async () => consumer.stream,
        );
        expect(result.rowsWritten).toBe(source.rows());
        expect(consumer.lines()).toBe(source.rows());
        expect(result.columns.map((column) => column.type)).toEqual([
          'integer',
          'text',
          'float',
          'date',
          'boolean',
          'text',
          'integer',
          'text',
          'timestamp',
          'text',
        ]);
      } finally {
        clearInterval(sampler);
      }

      const megabyte = 1024 * 1024;
      expect(source.rows()).toBeGreaterThan(500_000);
      expect((peakHeap - baseline.heapUsed) / megabyte).toBeLessThan(100);
      expect((peakRss - baseline.rss) / megabyte).toBeLessThan(150);
      // The COPY side never held more than its buffer plus one batch: we waited for 'drain'.
      expect(consumer.peakBuffered()).toBeLessThan(16 * 1024 + 128 * 1024);
    },
  );

  it('rejects at once when the COPY stream fails while the upload is stalled, and leaves the upload to its owner', async () => {
    const upload = new PassThrough();
    // More than the 64 KiB read to detect the format, then nothing: the client has gone quiet.
    upload.write(`a,b\n${'1,2\n'.repeat(30_000)}`);
    const copy = new PassThrough().resume();
    const started = Date.now();
    const loading = ingest(upload, options({ limits: { sampleRows: 10 } }), async () => {
      setTimeout(() => copy.destroy(new Error('connection to the database lost')), 50);
      return copy;
    });

    await expect(loading).rejects.toThrow('connection to the database lost');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(upload.listenerCount('readable')).toBe(0);
    expect(upload.destroyed).toBe(false);
  });

  it('rejects with the COPY stream’s error when it fails mid-write, without reading the rest', async () => {
    const source = generatedCsv(32);
    let written = 0;
    const failing = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done(written > 1024 * 1024 ? new Error('COPY refused a row') : undefined);
      },
    });

    await expect(ingest(source.stream, options(), async () => failing)).rejects.toThrow('COPY refused a row');
    expect(source.rows()).toBeLessThan(200_000);
  });

  it('passes on the upload’s own error (a size limit, a dropped client) rather than a parser’s complaint about the cut', async () => {
    const book = new ExcelJS.Workbook();
    book.addWorksheet('Data').addRows(Array.from({ length: 40_000 }, (_, i) => [i, `row ${i}`]));
    const bytes = Buffer.from(await book.xlsx.writeBuffer());
    for (const [file, filename] of [
      [bytes, 'data.xlsx'],
      [Buffer.from(`a,b\n${'1,2\n'.repeat(50_000)}`), 'data.csv'],
    ] as const) {
      const upload = new PassThrough();
      const tooLarge = new Error('request file too large');
      // Cut past the 64 KiB read for detection, so the parser is at work when the upload fails.
      expect(file.length / 2).toBeGreaterThan(64 * 1024);
      upload.write(file.subarray(0, file.length / 2));
      // The client fails once everything it sent has been read and the parser waits for more.
      const watch = setInterval(() => {
        if (upload.readableLength > 0) return;
        clearInterval(watch);
        setTimeout(() => upload.destroy(tooLarge), 50);
      }, 5);
      await expect(
        ingest(upload, options({ filename }), async () => new PassThrough().resume()),
      ).rejects.toBe(tooLarge);
    }
  });
});
