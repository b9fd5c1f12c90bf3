/**
 * Just enough of the protobuf wire format to walk an ONNX file without decoding it whole:
 * fields are yielded one at a time, length-delimited ones as views into the input (nothing is
 * copied), so a 200 MB model costs no more memory to inspect than to upload.
 * https://protobuf.dev/programming-guides/encoding/
 */

export type WireValue = { wire: 'varint'; value: bigint } | { wire: 'bytes'; value: Uint8Array };

export interface WireField {
  number: number;
  field: WireValue;
}

/** The bytes end inside a field, or use a wire type protobuf 3 does not have. */
export class WireFormatError extends Error {}

function readVarint(bytes: Uint8Array, start: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let at = start; at < bytes.length && at < start + 10; at++) {
    const byte = bytes[at]!;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return { value: BigInt.asUintN(64, value), next: at + 1 };
    shift += 7n;
  }
  throw new WireFormatError(`a number at byte ${start} is cut off or longer than 10 bytes`);
}

/** The fields of one message, in file order; fixed-width ones are skipped (ONNX keeps nothing we check in them). */
export function* wireFields(bytes: Uint8Array): Generator<WireField> {
  let at = 0;
  while (at < bytes.length) {
    const key = readVarint(bytes, at);
    const number = Number(key.value >> 3n);
    const wireType = Number(key.value & 7n);
    at = key.next;
    if (number === 0) throw new WireFormatError(`field number 0 at byte ${at}`);
    switch (wireType) {
      case 0: {
        const varint = readVarint(bytes, at);
        at = varint.next;
        yield { number, field: { wire: 'varint', value: varint.value } };
        break;
      }
      case 2: {
        const length = readVarint(bytes, at);
        const end = length.next + Number(length.value);
        if (length.value > BigInt(bytes.length) || end > bytes.length)
          throw new WireFormatError(`a field at byte ${at} runs past the end of its message`);
        yield { number, field: { wire: 'bytes', value: bytes.subarray(length.next, end) } };
        at = end;
        break;
      }
      case 1:
      case 5:
        at += wireType === 1 ? 8 : 4;
        if (at > bytes.length) throw new WireFormatError(`a fixed-width field is cut off at byte ${at}`);
        break;
      default:
        throw new WireFormatError(`unknown wire type ${wireType} at byte ${at}`);
    }
  }
}

/** A repeated int64 field's values, whether written packed (one bytes field) or one varint each. */
export function int64Values(field: WireValue): bigint[] {
  if (field.wire === 'varint') return [BigInt.asIntN(64, field.value)];
  const values: bigint[] = [];
  let at = 0;
  while (at < field.value.length) {
    const varint = readVarint(field.value, at);
    values.push(BigInt.asIntN(64, varint.value));
    at = varint.next;
  }
  return values;
}

export function text(field: WireValue): string {
  return field.wire === 'bytes' ? Buffer.from(field.value).toString('utf8') : '';
}

export function integer(field: WireValue): bigint {
  return field.wire === 'varint' ? BigInt.asIntN(64, field.value) : 0n;
}
