import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { KeysetPage, PageRequest, TimeKeyset } from '../util/keyset-page.js';
import { problems } from './problems.js';

/** Largest page a list endpoint returns; a larger `limit` is refused with 400 problem+json, never clamped. */
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** `limit` and `cursor` (the previous page's `nextCursor`) of a keyset-paginated list. */
export class PageParams {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(600) @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

export function encodeCursor(k: TimeKeyset): string {
  return Buffer.from(JSON.stringify([k.at.toISOString(), k.id]), 'utf8').toString('base64url');
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads a cursor made by encodeCursor (its id matching `idPattern`); anything else is 400 invalid-cursor. */
export function decodeCursor(cursor: string | undefined, idPattern = /^[\s\S]{1,200}$/): TimeKeyset | null {
  if (cursor === undefined) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const when = new Date(String(at));
    if (typeof at !== 'string' || typeof id !== 'string' || !idPattern.test(id) || Number.isNaN(when.getTime())) throw new Error('shape');
    return { at: when, id };
  } catch {
    throw problems.invalidCursor();
  }
}

/** The page a request asks for. */
export function pageRequest(q: PageParams, idPattern?: RegExp): PageRequest {
  return { limit: q.limit ?? DEFAULT_PAGE_SIZE, after: decodeCursor(q.cursor, idPattern) };
}

/** The response body of a list: `{ items, nextCursor, limit }`. */
export function pageBody<T>(page: KeysetPage<T>, limit: number): { items: T[]; nextCursor: string | null; limit: number } {
  return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null, limit };
}
