import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import { IngestError } from './errors.ts';
import { readAt, type TempFile } from './temp-file.ts';

export interface ZipLimits {
  /** DATA_MAX_ZIP_ENTRIES */
  maxZipEntries: number;
  /** DATA_MAX_UNZIPPED_BYTES: all entries together, inflated. */
  maxUnzippedBytes: number;
  /** DATA_MAX_ZIP_RATIO: inflated / compressed, for entries over RATIO_FLOOR_BYTES. */
  maxZipRatio: number;
  /** DATA_MAX_SHARED_STRINGS_BYTES: xl/sharedStrings.xml, which exceljs keeps in memory whole. */
  maxSharedStringsBytes: number;
}

interface Entry {
  name: string;
  /** Where its packed bytes lie in the file, once `withData` found them. */
  data?: [number, number];
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** Unix file type and mode in the upper 16 bits, when the zip was made on Unix. */
  externalAttributes: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
/** The end record (22 bytes) and the longest comment it may carry. */
const END_SEARCH_BYTES = 22 + 0xffff;
/** Small entries compress well without being bombs: the ratio is judged above this size only. */
const RATIO_FLOOR_BYTES = 1024 * 1024;
const SHARED_STRINGS = 'xl/sharedStrings.xml';

const broken = (detail: string): IngestError =>
  new IngestError('unsupported', `This is not a readable .xlsx workbook: ${detail}`);

const tooLarge = (entry: string, detail: string): IngestError =>
  new IngestError('too_large', `The workbook's entry "${entry}" ${detail}`, [
    { line: 1, column: entry, message: detail },
  ]);

async function directory(file: TempFile, limits: ZipLimits): Promise<{ entries: Entry[]; offset: number }> {
  const tailStart = Math.max(0, file.size - END_SEARCH_BYTES);
  const tail = await readAt(file.handle, tailStart, file.size - tailStart);
  let end = -1;
  for (let at = tail.length - 22; at >= 0 && end === -1; at--) {
    if (tail.readUInt32LE(at) === END_OF_DIRECTORY) end = at;
  }
  if (end === -1) throw broken('no zip directory at its end');
  const count = tail.readUInt16LE(end + 10);
  if (count > limits.maxZipEntries) {
    throw new IngestError(
      'too_large',
      `The workbook holds ${count} zip entries; at most ${limits.maxZipEntries} are allowed (DATA_MAX_ZIP_ENTRIES)`,
    );
  }
  const length = tail.readUInt32LE(end + 12);
  const offset = tail.readUInt32LE(end + 16);
  if (offset === 0xffffffff || offset + length > tailStart + end)
    throw broken('its zip directory is out of place');
  return { entries: await entriesAt(file, offset, length, count), offset };
}

async function entriesAt(file: TempFile, offset: number, length: number, count: number): Promise<Entry[]> {
  const bytes = await readAt(file.handle, offset, length);
  const entries: Entry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== DIRECTORY_ENTRY)
      throw broken('its zip directory is cut short');
    const nameLength = bytes.readUInt16LE(at + 28);
    entries.push({
      flags: bytes.readUInt16LE(at + 8),
      method: bytes.readUInt16LE(at + 10),
      compressedSize: bytes.readUInt32LE(at + 20),
      size: bytes.readUInt32LE(at + 24),
      localOffset: bytes.readUInt32LE(at + 42),
      externalAttributes: bytes.readUInt32LE(at + 38),
      name: bytes.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
  }
  return entries;
}

/** `/etc/x`, `C:x`, `a/../../x`, `a\\x`: names that would point outside wherever the zip were unpacked. */
const ESCAPING_NAME = /^[/\\]|^[a-z]:|(^|[/\\])\.\.([/\\]|$)|\\/i;
const UNIX_FILE_TYPE = 0o170000;
const UNIX_SYMLINK = 0o120000;

/**
 * DataLab never unpacks a workbook to disk, but an entry named to escape, or a link, has no place in
 * one: refusing it keeps any later tool that does unpack from following it.
 */
function checkNames(entries: Entry[]): void {
  for (const entry of entries) {
    const link = ((entry.externalAttributes >>> 16) & UNIX_FILE_TYPE) === UNIX_SYMLINK;
    if (link || ESCAPING_NAME.test(entry.name)) {
      const what = link ? 'is a symbolic link' : 'is named to point outside the workbook';
      throw new IngestError('invalid', `The workbook's entry "${entry.name}" ${what}`, [
        { line: 1, column: entry.name, message: what },
      ]);
    }
  }
}

function checkDeclared(entries: Entry[], limits: ZipLimits): void {
  let total = 0;
  for (const entry of entries) {
    total += entry.size;
    if (total > limits.maxUnzippedBytes)
      throw tooLarge(
        entry.name,
        `takes the workbook past ${limits.maxUnzippedBytes} bytes unpacked (DATA_MAX_UNZIPPED_BYTES)`,
      );
    if (entry.name === SHARED_STRINGS && entry.size > limits.maxSharedStringsBytes)
      throw tooLarge(
        entry.name,
        `is ${entry.size} bytes unpacked; at most ${limits.maxSharedStringsBytes} are allowed (DATA_MAX_SHARED_STRINGS_BYTES)`,
      );
    if (entry.size > RATIO_FLOOR_BYTES && entry.size > entry.compressedSize * limits.maxZipRatio)
      throw tooLarge(
        entry.name,
        `unpacks ${Math.floor(entry.size / Math.max(entry.compressedSize, 1))} times its packed size; at most ${limits.maxZipRatio} is allowed (DATA_MAX_ZIP_RATIO)`,
      );
  }
}

/**
 * Where each entry's data lies. The entries must follow one another from the start of the file to
 * its directory with nothing in between: exceljs reads the local headers in order, not the
 * directory, so an entry the directory does not list would otherwise go unchecked.
 */
async function withData(file: TempFile, entries: Entry[], directoryOffset: number): Promise<Entry[]> {
  const placed: Entry[] = [];
  let expected = 0;
  for (const entry of [...entries].sort((a, b) => a.localOffset - b.localOffset)) {
    const header = await readAt(file.handle, entry.localOffset, 30);
    if (entry.localOffset !== expected || header.length < 30 || header.readUInt32LE(0) !== LOCAL_HEADER)
      throw broken(`its entries do not follow one another (at byte ${expected})`);
    const start = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const end = start + entry.compressedSize;
    placed.push({ ...entry, data: [start, end] });
    expected = end;
    // Bit 3: sizes and checksum follow the data, with or without their own signature.
    if (entry.flags & 8)
      expected += (await readAt(file.handle, end, 4)).readUInt32LE(0) === DATA_DESCRIPTOR ? 16 : 12;
  }
  if (expected !== directoryOffset)
    throw broken(`its entries do not follow one another (at byte ${expected})`);
  return placed;
}

/** Inflates one entry into nowhere, refusing it as soon as it passes the size it declared. */
async function checkInflated(file: TempFile, entry: Entry): Promise<void> {
  const [start, end] = entry.data!;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size)
      throw broken(`the entry "${entry.name}" is not the size it declares`);
    return;
  }
  if (entry.method !== 8)
    throw broken(`the entry "${entry.name}" uses zip method ${entry.method}, not deflate`);
  let inflated = 0;
  const counter = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      callback(
        inflated > entry.size
          ? tooLarge(entry.name, `unpacks to more than the ${entry.size} bytes it declares`)
          : null,
      );
    },
  });
  try {
    const packed = end > start ? createReadStream(file.path, { start, end: end - 1 }) : [];
    await pipeline(packed, createInflateRaw(), counter);
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw broken(`the entry "${entry.name}" cannot be unpacked: ${(error as Error).message}`);
  }
  if (inflated !== entry.size) throw broken(`the entry "${entry.name}" is not the size it declares`);
}

/**
 * Bounds what unpacking a workbook may cost before exceljs sees it: the number of entries, their
 * total unpacked size, each entry's compression ratio, and the shared strings exceljs keeps whole —
 * first as declared, then by inflating each entry and stopping the moment it passes what it declared.
 */
export async function checkZip(file: TempFile, limits: ZipLimits): Promise<void> {
  const { entries, offset } = await directory(file, limits);
  checkNames(entries);
  checkDeclared(entries, limits);
  for (const entry of await withData(file, entries, offset)) await checkInflated(file, entry);
}
