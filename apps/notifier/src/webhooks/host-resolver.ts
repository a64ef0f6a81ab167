import { Injectable } from '@nestjs/common';
import { lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a webhook's host name to every address it has, as the system
 * resolver does for connections (dns.lookup: hosts file, search domains).
 * A provider of its own so tests can stand in a resolver that answers what
 * they need (a name on a private address, a rebinding name).
 */
@Injectable()
export class HostResolver {
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const found = await lookup(hostname, { all: true, verbatim: true });
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  }
}
