import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { problems } from '../../http/problems.js';

/** Opaque keyset cursor: base64url of `<created_at ISO>|<id>`. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const createdAt = new Date(text.slice(0, bar));
  if (bar < 0 || !Number.isFinite(createdAt.getTime()) || text.length - bar < 2) throw problems.unprocessable('cursor: not a cursor this API returned');
  return { createdAt, id: text.slice(bar + 1) };
}

export const TOKEN = /^[A-Za-z0-9_-]{1,100}$/;
export const JOB_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Keyset (`cursor`) or offset pagination, newest first. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page (keyset pagination)' })
  @IsOptional() @IsString() @MaxLength(400) @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 100000, description: 'Offset pagination (ignored with cursor)' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(100_000)
  offset?: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created at or after' })
  @IsOptional() @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created before' })
  @IsOptional() @IsISO8601({ strict: true })
  to?: string;
}

/** Cursor of lists sorted by a unique name (jobs, schedules): base64url of the last name of the page. */
export function encodeNameCursor(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

export function decodeNameCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (name.length === 0 || name.length > 200) throw problems.unprocessable('cursor: not a cursor this API returned');
  return name;
}

/** Lists sorted by name: every item fits one page by default (the dashboard reads them whole); `cursor` continues. */
export class NamePageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional() @IsString() @MaxLength(400) @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;
}

/** A page of a name-sorted list fetched with `limit + 1` rows. */
export function namePage<T>(rows: T[], limit: number, nameOf: (item: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeNameCursor(nameOf(last)) : null };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function page<T extends { createdAt: Date; id: string }>(items: T[], limit: number): Page<T> {
  const last = items[items.length - 1];
  return { items, nextCursor: items.length === limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

export const dateOrUndefined = (s?: string) => (s ? new Date(s) : undefined);
