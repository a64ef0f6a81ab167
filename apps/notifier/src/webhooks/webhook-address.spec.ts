import { allowList, blockedAddress, blockedHostName, embeddedIpv4, ipv6Bytes } from './webhook-address.js';

/** What the URL parser makes of a host: every IPv4 spelling becomes dotted decimal, IPv6 is compressed. */
const hostOf = (url: string) => new URL(url).hostname.replace(/^\[|\]$/g, '');

describe('webhook target addresses', () => {
  it.each([
    ['http://127.0.0.1/', 'loopback'],
    ['http://2130706433/', 'loopback'], // decimal
    ['http://0x7f000001/', 'loopback'], // hex
    ['http://0177.0.0.1/', 'loopback'], // octal
    ['http://0x7f.1/', 'loopback'], // short hex form
    ['http://127.1/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'], // IPv4-mapped
    ['http://[0:0:0:0:0:ffff:7f00:1]/', 'loopback'],
    ['http://10.1.2.3/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://172.31.255.255/', 'private'],
    ['http://192.168.0.10/', 'private'],
    ['http://[::ffff:192.168.0.10]/', 'private'],
    ['http://100.64.0.1/', 'shared (CGNAT)'],
    ['http://169.254.1.1/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[fc00::1]/', 'unique-local'],
    ['http://[fd12:3456::1]/', 'unique-local'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://[ff02::1]/', 'multicast'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://2852039166/', 'cloud metadata'], // 169.254.169.254 in decimal
    ['http://[::ffff:a9fe:a9fe]/', 'cloud metadata'],
    ['http://[64:ff9b::169.254.169.254]/', 'cloud metadata'], // NAT64
    ['http://[2002:a9fe:a9fe::1]/', 'cloud metadata'], // 6to4
    ['http://[fd00:ec2::254]/', 'cloud metadata'],
    ['http://100.100.100.200/', 'cloud metadata'],
    ['http://255.255.255.255/', 'reserved'],
    ['http://[2001:db8::1]/', 'reserved'],
  ])('%s is refused as %s', (url, reason) => {
    expect(blockedAddress(hostOf(url))).toBe(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1', '100.128.0.1', '2002:0808:0808::1'])('%s is public', (address) => {
    expect(blockedAddress(address)).toBeNull();
  });

  it('exempts WEBHOOK_ALLOWED_CIDRS, but never a metadata address', () => {
    const allowed = allowList(['10.0.0.0/8', '169.254.0.0/16', 'fd00::/8']);
    expect(blockedAddress('10.1.2.3', allowed)).toBeNull();
    expect(blockedAddress('::ffff:10.1.2.3', allowed)).toBeNull();
    expect(blockedAddress('169.254.169.254', allowed)).toBe('cloud metadata');
    expect(blockedAddress('fd00:ec2::254', allowed)).toBe('cloud metadata');
    expect(blockedAddress('192.168.1.1', allowed)).toBe('private');
  });

  it('reads IPv6 text into bytes and finds the IPv4 address it carries', () => {
    expect([...ipv6Bytes('::ffff:1.2.3.4')!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    expect(embeddedIpv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIpv4('64:ff9b::a00:1')).toBe('10.0.0.1');
    expect(embeddedIpv4('2002:c0a8:101::')).toBe('192.168.1.1');
    expect(embeddedIpv4('2606:4700::1')).toBeNull();
  });

  it.each([
    ['localhost', 'internal name'],
    ['localhost.', 'internal name'],
    ['LOCALHOST', 'internal name'],
    ['api.localhost', 'internal name'],
    ['metadata.google.internal', 'cloud metadata'],
    ['metadata.google.internal.', 'cloud metadata'],
    ['metadata', 'internal name'],
    ['redis', 'internal name'],
    ['postgres.default.svc.cluster.local', 'internal name'],
    ['printer.local', 'internal name'],
    ['router.home.arpa', 'internal name'],
  ])('host name %s is refused as %s', (name, reason) => {
    expect(blockedHostName(hostOf(`http://${name}/`))).toBe(reason);
  });

  it('lets ordinary public names through (they are checked again once resolved)', () => {
    expect(blockedHostName('hooks.example.com')).toBeNull();
    expect(blockedHostName('example.com.')).toBeNull();
  });
});
