import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../../../libs/common/src/index.js';
import { PROBLEM_CONTENT_TYPE } from '../../../../libs/common/src/http/problem-json.filter.js';

const TITLES: Record<number, string> = { 400: 'Bad Request', 413: 'Content Too Large', 415: 'Unsupported Media Type' };

/**
 * Installs the JSON body parser with API_BODY_LIMIT_BYTES before Nest adds its
 * default one (Nest skips a parser already present), and answers parser errors
 * (too large, malformed JSON, bad charset) as problem+json without internals.
 * Runs in the constructor: providers are created before the app registers its
 * parsers. In a testing module (no adapter yet) Nest's defaults stay.
 */
@Injectable()
export class BodyLimits {
  constructor(host: HttpAdapterHost, @Inject(APP_CONFIG) config: AppConfig) {
    const adapter = host?.httpAdapter as unknown as
      | { useBodyParser?: (type: string, raw: boolean, options: object) => unknown; use: (...args: unknown[]) => unknown }
      | undefined;
    if (!adapter?.useBodyParser) return;
    const limit = config.api.bodyLimitBytes;
    adapter.useBodyParser('json', false, { limit });
    adapter.use((err: { type?: string; status?: number } | undefined, req: Request, res: Response, next: NextFunction) => {
      if (!err || typeof err.type !== 'string' || !err.status || res.headersSent) return next(err);
      const status = err.type === 'entity.too.large' ? 413 : err.status === 415 ? 415 : 400;
      const detail =
        status === 413 ? `The request body exceeds ${limit} bytes` : status === 415 ? 'The body encoding or charset is not supported' : 'The request body is not valid JSON';
      res.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify({ type: 'about:blank', title: TITLES[status], status, detail, instance: req.originalUrl }));
    });
  }
}
