import { BlockList, isIP } from 'node:net';

/** Why a webhook may not reach an address or host. Shown to the tenant at registration, never with an IP. */
export type BlockedReason =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (CGNAT)'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'cloud metadata'
  | 'internal name';

/** Cloud instance-metadata endpoints: never reachable, whatever WEBHOOK_ALLOWED_CIDRS says. */
const METADATA_ADDRESSES = [
  '169.254.169.254', // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
  '169.254.169.123', // AWS time sync
  '169.254.170.2', // AWS ECS task metadata
  '169.254.170.23', // AWS EKS pod identity
  '100.100.100.200', // Alibaba Cloud
  'fd00:ec2::254', // AWS IMDS over IPv6
  'fd00:ec2::23', // AWS EKS pod identity over IPv6
  'fd20:ce::254', // GCP metadata over IPv6
];

/** Host names that lead inside the platform (RFC 6761/6762/8375 names, cloud metadata names). */
const INTERNAL_NAMES = ['localhost', 'metadata', 'metadata.goog', 'metadata.google.internal', 'instance-data', 'kubernetes', 'kubernetes.default'];
const INTERNAL_SUFFIXES = ['.localhost', '.local', '.localdomain', '.internal', '.home.arpa', '.intranet', '.lan', '.corp', '.svc', '.cluster.local'];

function list(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type);
  return b;
}

/** Checked in order; the first match gives the reason. */
const RANGES: [BlockList, BlockedReason][] = [
  [list([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]), 'unspecified'],
  [list([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]), 'loopback'],
  [list([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['fec0::', 10, 'ipv6']]), 'private'],
  [list([['100.64.0.0', 10, 'ipv4']]), 'shared (CGNAT)'],
  [list([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]), 'link-local'],
  [list([['fc00::', 7, 'ipv6']]), 'unique-local'],
  [list([['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']]), 'multicast'],
  [
    list([
      ['192.0.0.0', 24, 'ipv4'], // IETF protocol assignments
      ['192.0.2.0', 24, 'ipv4'], // documentation
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'], // benchmarking
      ['192.88.99.0', 24, 'ipv4'], // 6to4 relay anycast
      ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
      ['::', 96, 'ipv6'], // IPv4-compatible (deprecated)
      ['64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
      ['100::', 64, 'ipv6'], // discard
      ['2001::', 32, 'ipv6'], // Teredo (hides an IPv4 address)
      ['2001:db8::', 32, 'ipv6'], // documentation
    ]),
    'reserved',
  ],
];

const METADATA = new BlockList();
for (const a of METADATA_ADDRESSES) METADATA.addAddress(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');

/** The 16 bytes of an IPv6 address in text form (with `::` and a trailing dotted quad), or null. */
export function ipv6Bytes(text: string): Uint8Array | null {
  let address = text.split('%')[0];
  if (isIP(address) !== 6) return null;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    address = `${address.slice(0, -tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

/** The IPv4 address an IPv6 one carries and routes to (mapped, NAT64, 6to4), or null. */
export function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (!b) return null;
  const v4 = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12); // ::ffff:a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12); // 64:ff9b::a.b.c.d
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2); // 2002:aabb:ccdd::
  return null;
}

/**
 * Why `address` (an IP literal, v4 or v6) must not be reached by a webhook, or
 * null when it may. An IPv6 address that carries an IPv4 one is judged by that
 * one; `allowed` exempts addresses an operator trusts (WEBHOOK_ALLOWED_CIDRS),
 * never the metadata endpoints.
 */
export function blockedAddress(address: string, allowed?: BlockList): BlockedReason | null {
  const plain = address.replace(/^\[|\]$/g, '').split('%')[0];
  const family = isIP(plain);
  if (family === 0) return 'reserved';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (METADATA.check(plain, type)) return 'cloud metadata';
  if (family === 6) {
    const inner = embeddedIpv4(plain);
    if (inner) return blockedAddress(inner, allowed);
  }
  if (allowed?.check(plain, type)) return null;
  for (const [ranges, reason] of RANGES) if (ranges.check(plain, type)) return reason;
  return null;
}

/**
 * Why a host name must not be used for a webhook, or null. `localhost.` and
 * `LocalHost` are localhost; a name without a dot is resolved through the
 * platform's search domains (`redis`, `metadata`), so it is refused too.
 */
export function blockedHostName(hostname: string): BlockedReason | null {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === '' || !name.includes('.')) return 'internal name';
  if (INTERNAL_NAMES.includes(name) || INTERNAL_SUFFIXES.some((s) => name.endsWith(s))) return name.startsWith('metadata') || name.includes('.metadata') ? 'cloud metadata' : 'internal name';
  return null;
}

/** WEBHOOK_ALLOWED_CIDRS as a BlockList (entries validated by load-config). */
export function allowList(cidrs: readonly string[]): BlockList {
  const b = new BlockList();
  for (const c of cidrs) {
    const [net, prefix] = c.split('/');
    b.addSubnet(net, Number(prefix), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return b;
}
