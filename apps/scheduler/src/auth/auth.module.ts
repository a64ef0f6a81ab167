import { Module } from '@nestjs/common';
import { RateLimiter } from '../http/rate-limiter.js';
import { AuthGuard } from './auth.guard.js';
import { CredentialVerifier } from './credential-verifier.js';
import { DemoToken } from './demo-token.js';

@Module({
  providers: [CredentialVerifier, RateLimiter, AuthGuard, DemoToken],
  exports: [CredentialVerifier, RateLimiter, AuthGuard],
})
export class AuthModule {}
