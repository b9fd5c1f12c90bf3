import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { originForm } from './request-target.ts';

const target = (url: string) => originForm({ url } as IncomingMessage);

describe('originForm', () => {
  it('leaves an origin-form target as it is', () => {
    expect(target('/api/v1/viz/charts?limit=1')).toBe('/api/v1/viz/charts?limit=1');
    expect(target('//other.example/api')).toBe('//other.example/api');
  });

  it('keeps the path and query of an absolute-form target, whatever its scheme and host', () => {
    expect(target('http://other.example/api/v1/admin/users')).toBe('/api/v1/admin/users');
    expect(target('HTTPS://user@other.example:8443/a/b?c=d')).toBe('/a/b?c=d');
    expect(target('http://other.example?x=1')).toBe('/?x=1');
    expect(target('http://other.example')).toBe('/');
  });

  it('passes on what is neither form, for the router to refuse', () => {
    expect(target('*')).toBe('*');
    expect(target('api/v1')).toBe('api/v1');
  });
});
