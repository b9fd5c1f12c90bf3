import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestError } from './errors.ts';
import { tempFileOf, type TempFile } from './temp-file.ts';
import { LIMITS } from './testing.ts';
import { checkZip, type ZipLimits } from './zip-bounds.ts';

interface ZipEntry {
  name: string;
  data: Buffer;
  /** The unpacked size the zip claims (default: the true one). */
  declared?: number;
  /** Left out of the directory: only its local header shows it. */
  hidden?: boolean;
  /** Unix mode (file type and permissions), as a zip made on Unix records it. */
  mode?: number;
}

/** A deflated zip, written by hand so that it can lie. Checksums are left 0: the bounds do not read them. */
function zipOf(entries: ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const packed = deflateRawSync(entry.data);
    const name = Buffer.from(entry.name);
    const size = entry.declared ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, packed);
    if (!entry.hidden) {
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(20, 4);
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(8, 10);
      central.writeUInt32LE(packed.length, 20);
      central.writeUInt32LE(size, 24);
      central.writeUInt16LE(name.length, 28);
      central.writeUInt32LE(offset, 42);
      if (entry.mode !== undefined) {
        central.writeUInt16LE((3 << 8) | 20, 4);
        central.writeUInt32LE(entry.mode * 0x10000, 38);
      }
      directory.push(central, name);
    }
    offset += 30 + name.length + packed.length;
  }
  const listed = Buffer.concat(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = entries.filter((entry) => !entry.hidden).length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(listed.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, listed, end]);
}

const MIB = 1024 * 1024;
const limits: ZipLimits = {
  ...LIMITS,
  maxZipEntries: 50,
  maxUnzippedBytes: 8 * MIB,
  maxSharedStringsBytes: MIB,
};
const files: TempFile[] = [];
afterEach(async () => {
  await Promise.all(files.splice(0).map((file) => file.close()));
});

async function check(zip: Buffer, overrides: Partial<ZipLimits> = {}): Promise<IngestError | undefined> {
  const file = await tempFileOf(Readable.from([zip]), 'x.xlsx');
  files.push(file);
  return checkZip(file, { ...limits, ...overrides }).then(
    () => undefined,
    (error: unknown) => {
      expect(error).toBeInstanceOf(IngestError);
      return error as IngestError;
    },
  );
}

const text = (bytes: number): Buffer => Buffer.from('<t>x</t>'.repeat(Math.ceil(bytes / 8)).slice(0, bytes));
/** Bytes that hardly compress, so a large entry stays under the ratio limit. */
const noise = (bytes: number): Buffer => randomBytes(bytes);

describe('checkZip: what unpacking a workbook may cost', () => {
  it('lets a real workbook through', async () => {
    const book = new ExcelJS.Workbook();
    book.addWorksheet('Sheet').addRows([
      ['a', 'b'],
      ['x', 1],
    ]);
    expect(await check(Buffer.from(await book.xlsx.writeBuffer()))).toBeUndefined();
  });

  it('refuses more entries than DATA_MAX_ZIP_ENTRIES before unpacking any', async () => {
    const entries = Array.from({ length: 51 }, (_, i) => ({ name: `e${i}.xml`, data: text(10) }));
    const error = await check(zipOf(entries));
    expect(error?.kind).toBe('too_large');
    expect(error?.message).toMatch(/holds 51 zip entries; at most 50 .*\(DATA_MAX_ZIP_ENTRIES\)/);
  });

  it('refuses shared strings past DATA_MAX_SHARED_STRINGS_BYTES, naming the entry', async () => {
    const error = await check(zipOf([{ name: 'xl/sharedStrings.xml', data: noise(MIB + 1) }]));
    expect(error?.kind).toBe('too_large');
    expect(error?.message).toMatch(
      /"xl\/sharedStrings.xml" is 1048577 bytes .*\(DATA_MAX_SHARED_STRINGS_BYTES\)/,
    );
  });

  it('refuses an entry that unpacks more than DATA_MAX_ZIP_RATIO times its size', async () => {
    const error = await check(zipOf([{ name: 'xl/worksheets/sheet1.xml', data: Buffer.alloc(4 * MIB) }]));
    expect(error?.message).toMatch(/"xl\/worksheets\/sheet1.xml" unpacks \d+ times .*\(DATA_MAX_ZIP_RATIO\)/);
  });

  it('refuses entries that together pass DATA_MAX_UNZIPPED_BYTES', async () => {
    const entries = [0, 1, 2].map((i) => ({ name: `xl/worksheets/sheet${i}.xml`, data: noise(3 * MIB) }));
    const error = await check(zipOf(entries));
    expect(error?.message).toMatch(
      /"xl\/worksheets\/sheet2.xml" takes the workbook past 8388608 .*\(DATA_MAX_UNZIPPED_BYTES\)/,
    );
  });

  it('stops unpacking an entry the moment it passes the size it declares', async () => {
    const error = await check(
      zipOf([{ name: 'xl/sharedStrings.xml', data: Buffer.alloc(64 * MIB), declared: 1000 }]),
    );
    expect(error?.kind).toBe('too_large');
    expect(error?.message).toMatch(/"xl\/sharedStrings.xml" unpacks to more than the 1000 bytes it declares/);
  });

  it('refuses an entry its directory does not list, which a streaming reader would still unpack', async () => {
    const error = await check(
      zipOf([
        { name: 'a.xml', data: text(100) },
        { name: 'hidden.xml', data: text(100), hidden: true },
      ]),
    );
    expect(error?.kind).toBe('unsupported');
    expect(error?.message).toMatch(/entries do not follow one another/);
  });

  it.each(['../../etc/cron.d/x', '/etc/passwd', 'xl/../../x.xml', 'C:/Windows/x', 'xl\\..\\x'])(
    'refuses an entry named %s, which points outside the workbook',
    async (name) => {
      const error = await check(zipOf([{ name, data: text(10) }]));
      expect(error?.kind).toBe('invalid');
      expect(error?.message).toContain(`"${name}" is named to point outside the workbook`);
    },
  );

  it('refuses a symbolic link', async () => {
    const error = await check(
      zipOf([{ name: 'xl/link.xml', data: Buffer.from('/etc/passwd'), mode: 0o120777 }]),
    );
    expect(error?.message).toContain('"xl/link.xml" is a symbolic link');
  });

  it('refuses what is not a zip at all', async () => {
    expect((await check(Buffer.from('just text, no zip')))?.message).toMatch(/no zip directory/);
  });
});
