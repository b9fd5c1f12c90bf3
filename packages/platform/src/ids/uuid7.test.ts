import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uuid7.ts';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the time in its first 48 bits', () => {
    const at = Date.UTC(2026, 10, 30, 7, 55, 0, 123);
    const id = uuidv7(at);

    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts by time, and differs within one millisecond', () => {
    const earlier = uuidv7(1_000);
    const later = uuidv7(1_001);
    const same = new Set(Array.from({ length: 1000 }, () => uuidv7(5_000)));

    expect(earlier < later).toBe(true);
    expect(same.size).toBe(1000);
  });
});
