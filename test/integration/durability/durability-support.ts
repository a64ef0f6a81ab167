import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { pino } from 'pino';
import { ROOT_LOGGER, type Logger } from '../../../libs/common/src/index.js';
import { waitFor } from '../../support/wait.js';

export { waitFor };

/** A base64 AES-256 key. */
export function newKey(): string {
  return randomBytes(32).toString('base64');
}

/** Sends every line the app's root logger (and its children) writes to `lines` as well as dropping it from stdout. */
export function captureLogs(app: INestApplication): string[] {
  const lines: string[] = [];
  const logger = app.get<Logger>(ROOT_LOGGER);
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = sink;
  return lines;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
