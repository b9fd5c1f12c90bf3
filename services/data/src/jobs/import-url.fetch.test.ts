import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressPolicy, isNonPublicAddress } from './import-url.fetch.ts';

describe('which addresses import-url may reach', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    'ff02::1',
  ])('refuses %s', (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
    expect(addressPolicy(false, new BlockList())(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888'])(
    'allows the public address %s',
    (address) => {
      expect(isNonPublicAddress(address)).toBe(false);
      expect(addressPolicy(false, new BlockList())(address)).toBe(true);
    },
  );

  it('opens every address with DATA_IMPORT_ALLOW_PRIVATE, or the listed networks only', () => {
    expect(addressPolicy(true, new BlockList())('127.0.0.1')).toBe(true);
    const networks = new BlockList();
    networks.addSubnet('10.1.2.0', 24, 'ipv4');
    const policy = addressPolicy(false, networks);
    expect(policy('10.1.2.77')).toBe(true);
    expect(policy('10.1.3.1')).toBe(false);
    expect(policy('127.0.0.1')).toBe(false);
  });

  it('treats what is not an address at all as refused', () => {
    expect(isNonPublicAddress('example.com')).toBe(true);
  });
});
