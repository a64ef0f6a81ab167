import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Controller, Get, Param, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ProblemJsonFilter } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Public } from '../../../../libs/common/src/auth/index.js';
import { problems } from '../http/problems.js';

/** Built next to this file by scripts/copy-assets.mjs (dist) or read from src in tests. */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

/** Libraries the dashboard uses, served from their installed package (a runtime dependency; no CDN). */
const require = createRequire(import.meta.url);
const VENDOR = new Map<string, string>([
  ['uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js')],
  ['uplot.css', require.resolve('uplot/dist/uPlot.min.css')],
]);

/** The files served and their types: Maps, so a name such as `toString` is not found on a prototype. */
const TYPES = new Map<string, string>([
  ['index.html', 'text/html; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['app.css', 'text/css; charset=utf-8'],
  ['favicon.svg', 'image/svg+xml'],
  ['uplot.js', 'text/javascript; charset=utf-8'],
  ['uplot.css', 'text/css; charset=utf-8'],
]);

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** The dashboard: static HTML/CSS/vanilla JS at `/`, talking to /api/v1 with the token the user pastes. */
@Public()
@ApiExcludeController()
@UseFilters(ProblemJsonFilter)
@Controller()
export class DashboardController {
  @Get()
  index(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get('dashboard/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (!TYPES.has(file)) throw problems.notFound(`File "${file.slice(0, 100)}"`);
    this.send(res, file);
  }

  private send(res: Response, file: string): void {
    const path = VENDOR.get(file) ?? join(PUBLIC_DIR, file);
    if (!existsSync(path)) throw problems.notFound(`File "${file}"`);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader('Content-Type', TYPES.get(file)!);
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path);
  }
}
