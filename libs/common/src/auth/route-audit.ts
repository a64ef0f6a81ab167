import { Injectable, type OnModuleInit } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { AuthGuard } from './auth.guard.js';
import { PUBLIC_KEY } from './authorize.decorator.js';

/** Thrown at start-up when an HTTP route is neither authenticated nor declared public. */
export class UnguardedRouteError extends Error {}

/**
 * Start-up check of every HTTP route of the app: each one sits under AuthGuard (@SecuredApi) or is
 * declared @Public. A controller added without either stops the service from starting, listing it,
 * instead of serving an open route.
 */
@Injectable()
export class RouteAudit implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const open: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!type || !wrapper.instance) continue;
      const guarded = ((Reflect.getMetadata(GUARDS_METADATA, type) ?? []) as unknown[]).includes(AuthGuard);
      const classPublic = Reflect.getMetadata(PUBLIC_KEY, type) === true;
      const proto = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const handler = proto[name] as object;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const methodGuarded = ((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[]).includes(AuthGuard);
        if (guarded || methodGuarded || classPublic || Reflect.getMetadata(PUBLIC_KEY, handler) === true) continue;
        open.push(`${type.name}.${name}`);
      }
    }
    if (open.length > 0) {
      throw new UnguardedRouteError(`HTTP routes without @SecuredApi or @Public (refusing to serve them open): ${open.join(', ')}`);
    }
  }
}
