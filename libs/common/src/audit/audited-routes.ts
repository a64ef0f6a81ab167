import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { mutatingRoutes } from './audited.decorator.js';

/** Thrown at start-up when a mutating HTTP route declares no audit action. */
export class UnauditedRouteError extends Error {}

/**
 * Start-up check of every HTTP route of the app: each POST, PUT, PATCH and DELETE declares the audit
 * action it records (@Audited) or why it changes nothing (@NotAudited). A mutating route added without
 * either stops the service from starting, listing it.
 */
@Injectable()
export class AuditedRoutes implements OnModuleInit {
  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const controllers = this.discovery
      .getControllers()
      .map((w) => w.metatype as (new (...args: never[]) => unknown) | undefined)
      .filter((t): t is new (...args: never[]) => unknown => typeof t === 'function');
    const missing = mutatingRoutes(controllers).filter((r) => !r.action && !r.notAudited);
    if (missing.length > 0) {
      throw new UnauditedRouteError(
        `Mutating HTTP routes without @Audited or @NotAudited (every change must be audited): ${missing.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`).join(', ')}`,
      );
    }
  }
}
