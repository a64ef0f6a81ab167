import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { problems } from './problems.js';

/** Largest page any list endpoint returns; a larger `limit` is a 400 (problem+json), never silently clamped. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** `limit` and `cursor` of a keyset-paginated list (the `nextCursor` of the previous page). */
export class PageParams {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(600) @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

/** A keyset position: the sort values of the last item of a page (timestamps as ISO strings, ids). */
export type Keyset = string[];

export function encodeKeyset(values: Keyset): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeKeyset with `arity` values, the first a timestamp; 400 invalid-cursor otherwise. */
export function decodeTimeKeyset(cursor: string | undefined, arity = 2): { at: Date; rest: string[] } | null {
  if (cursor === undefined) return null;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(values) || values.length !== arity || !values.every((v) => typeof v === 'string' && v.length <= 200)) throw new Error('shape');
    const at = new Date(values[0] as string);
    if (Number.isNaN(at.getTime())) throw new Error('time');
    return { at, rest: values.slice(1) as string[] };
  } catch {
    throw problems.invalidCursor();
  }
}

export interface Paged<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  limit: number;
}

/** A page from `limit + 1` fetched rows: the extra row only says whether another page exists. */
export function pageOf<T>(rows: T[], limit: number, keyset: (last: T) => Keyset): Paged<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeKeyset(keyset(last)) : null, limit };
}
