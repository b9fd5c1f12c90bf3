import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Hostile files built as an attacker would build them: python3's zipfile, DuckDB. */

const work = mkdtempSync(path.join(os.tmpdir(), 'hostile-files-'));

/** Runs a python3 script that writes the file at argv[1]; returns its bytes. */
export async function python(script: string, name: string): Promise<Buffer> {
  const out = path.join(work, name);
  execFileSync('python3', ['-c', script, out], { stdio: 'pipe' });
  return readFile(out);
}

/** A minimal workbook: one sheet whose cells are shared strings, plus `extra` entries. */
export const WORKBOOK = `
import sys, zipfile
def workbook(path, shared, extra=(), compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, 'w', compression) as z:
        z.writestr('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        z.writestr('_rels/.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr('xl/workbook.xml', '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr('xl/_rels/workbook.xml.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr('xl/worksheets/sheet1.xml', '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>')
        z.writestr('xl/sharedStrings.xml', shared)
        for name, data in extra:
            z.writestr(name, data)
SST = '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>word</t></si><si><t>%s</t></si></sst>'
`;

/** Sets an entry's declared unpacked size in both its local header and the directory. */
export const LIE = `
import struct
def lie(path, entry, size):
    data = bytearray(open(path, 'rb').read())
    name = entry.encode()
    at = 0
    while True:
        at = data.find(name, at + 1)
        if at == -1: break
        if data[at - 30:at - 26] == b'PK\\x03\\x04': struct.pack_into('<I', data, at - 30 + 22, size)
        if data[at - 46:at - 42] == b'PK\\x01\\x02': struct.pack_into('<I', data, at - 46 + 24, size)
    open(path, 'wb').write(data)
`;

/** The rows of `sql` as a Parquet file, in row groups of `groupRows` (default: all in one). */
export async function parquet(sql: string, name: string, groupRows = 100_000_000): Promise<Buffer> {
  const out = path.join(work, name);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (${sql}) TO '${out}' (FORMAT parquet, ROW_GROUP_SIZE ${groupRows})`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return readFile(out);
}

/** Deletes every file built here. */
export const removeFiles = () => rm(work, { recursive: true, force: true });
