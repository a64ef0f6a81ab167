import { RequestMethod, SetMetadata } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';

export const AUDITED_KEY = 'metronome:audited';
export const NOT_AUDITED_KEY = 'metronome:not-audited';

/**
 * Declares the audit action a mutating route records (through AuditLog, in the change's transaction).
 * Every POST, PUT, PATCH and DELETE route carries @Audited or @NotAudited: start-up refuses one without
 * (AuditedRoutes), and test/integration/audit calls every declared route and finds its entry.
 */
export const Audited = (action: string) => SetMetadata(AUDITED_KEY, action);

/** A POST that changes nothing (a preview, a validation): why it writes no audit entry. */
export const NotAudited = (reason: string) => SetMetadata(NOT_AUDITED_KEY, reason);

const MUTATING = new Set<RequestMethod>([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH, RequestMethod.DELETE]);

export interface MutatingRoute {
  controller: string;
  handler: string;
  method: string;
  path: string;
  /** The declared action, or null when the route declares none. */
  action: string | null;
  /** Why it is not audited, when it says so. */
  notAudited: string | null;
}

/** Every POST/PUT/PATCH/DELETE route of these controllers with its declared audit action. */
export function mutatingRoutes(controllers: readonly (abstract new (...args: never[]) => unknown)[]): MutatingRoute[] {
  const out: MutatingRoute[] = [];
  for (const type of controllers) {
    const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
    let proto = type.prototype as Record<string, unknown> | null;
    const names = new Set<string>();
    while (proto && proto !== Object.prototype) {
      for (const n of Object.getOwnPropertyNames(proto)) if (n !== 'constructor') names.add(n);
      proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null;
    }
    for (const name of names) {
      const handler = (type.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined || !MUTATING.has(method)) continue;
      const path = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
      out.push({
        controller: type.name,
        handler: name,
        method: RequestMethod[method],
        path: `/${[base, path].map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`,
        action: (Reflect.getMetadata(AUDITED_KEY, handler) as string | undefined) ?? null,
        notAudited: (Reflect.getMetadata(NOT_AUDITED_KEY, handler) as string | undefined) ?? null,
      });
    }
  }
  return out;
}
