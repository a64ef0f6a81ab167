import { Inject, Injectable } from '@nestjs/common';
import type { BlockList } from 'node:net';
import { isIP } from 'node:net';
import { APP_CONFIG, type AppConfig } from '../../../../libs/common/src/index.js';
import { HostResolver, type ResolvedAddress } from './host-resolver.js';
import { allowList, blockedAddress, blockedHostName, type BlockedReason } from './webhook-address.js';

/** Why a webhook URL cannot be used. `message` is safe to show the tenant (never an address it resolved to). */
export class WebhookTargetError extends Error {
  constructor(
    readonly code: 'invalid-url' | 'scheme' | 'blocked' | 'unresolvable',
    message: string,
    readonly reason?: BlockedReason,
  ) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

/** Where to connect for a webhook URL: a checked address, and the name for Host and TLS SNI. */
export interface WebhookTarget {
  url: URL;
  address: string;
  family: 4 | 6;
  /** The URL's host name (for SNI), or undefined when the URL names an IP address. */
  servername?: string;
}

const blockedMessage = (reason: BlockedReason, what: string) =>
  `${what} ${reason === 'internal name' ? 'is an internal host name' : `is a ${reason} address`}: webhooks may only reach public hosts`;

/**
 * The outbound rules of tenant webhooks: https only (plain http with
 * WEBHOOK_ALLOW_HTTP, the default in development), and never an address
 * inside the platform: loopback, private (RFC 1918), CGNAT, link-local, unique
 * local, multicast, unspecified, reserved or cloud metadata, in any spelling
 * (decimal, octal and hex IPv4 are normalised by the URL parser; IPv4-mapped,
 * NAT64 and 6to4 IPv6 are judged by the IPv4 address they carry), nor a host
 * name that leads inside (localhost., *.internal, single labels). Checked at
 * registration and again at every connection after resolving the name, whose
 * every address must pass; the connection then goes to that checked address
 * (DNS rebinding cannot swap it). WEBHOOK_ALLOWED_CIDRS exempts trusted
 * ranges (metadata addresses never).
 */
@Injectable()
export class WebhookTargets {
  private readonly allowed: BlockList;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly resolver: HostResolver,
  ) {
    this.allowed = allowList(config.webhooks.allowedCidrs);
  }

  /** Parses and checks a URL's form: scheme, and a host that is neither a blocked address nor an internal name. */
  parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WebhookTargetError('invalid-url', 'url: not a valid absolute URL');
    }
    const schemes = this.config.webhooks.allowHttp ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(url.protocol)) {
      throw new WebhookTargetError('scheme', `url: ${this.config.webhooks.allowHttp ? 'http or https' : 'https'} only (got ${url.protocol.replace(':', '')})`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const reason = blockedAddress(host, this.allowed);
      if (reason) throw new WebhookTargetError('blocked', `url: the host ${blockedMessage(reason, 'address')}`, reason);
    } else {
      const reason = blockedHostName(host);
      if (reason) throw new WebhookTargetError('blocked', `url: the host ${blockedMessage(reason, 'name')}`, reason);
    }
    return url;
  }

  /**
   * Resolves the URL's host now and checks every address it has; returns the
   * address to connect to. Throws WebhookTargetError ('blocked' when any
   * address is refused, 'unresolvable' when the name has none).
   */
  async resolve(raw: string | URL): Promise<WebhookTarget> {
    const url = typeof raw === 'string' ? this.parse(raw) : this.parse(raw.href);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    if (family) return { url, address: host, family: family === 6 ? 6 : 4 };
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolver.resolve(host);
    } catch {
      throw new WebhookTargetError('unresolvable', 'url: the host name does not resolve');
    }
    if (addresses.length === 0) throw new WebhookTargetError('unresolvable', 'url: the host name does not resolve');
    for (const a of addresses) {
      const reason = blockedAddress(a.address, this.allowed);
      if (reason) throw new WebhookTargetError('blocked', `url: the host name resolves to ${reason === 'cloud metadata' ? 'a cloud metadata' : `a ${reason}`} address: webhooks may only reach public hosts`, reason);
    }
    return { url, address: addresses[0].address, family: addresses[0].family, servername: host };
  }
}
