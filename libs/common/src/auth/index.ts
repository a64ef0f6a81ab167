export * from './principal.js';
export * from './credential-verifier.js';
export * from './auth.guard.js';
export * from './authorize.decorator.js';
export * from './route-audit.js';
