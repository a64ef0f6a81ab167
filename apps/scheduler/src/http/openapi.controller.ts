import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Controller, Get, Header, Param, Res, UseFilters } from '@nestjs/common';
import { ProblemJsonFilter } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Public } from '../../../../libs/common/src/auth/index.js';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { problems } from './problems.js';

/** The UI's files and their types: a Map, so a name such as `toString` or `__proto__` is not found on a prototype. */
const UI_FILES = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
]);

const UI_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Metronome admin API</title><link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;

const UI_INIT = `window.ui = SwaggerUIBundle({ url: '/api/docs-json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout', persistAuthorization: false });`;

/**
 * OpenAPI document (built by @nestjs/swagger from the controllers and DTOs on
 * first request) at /api/docs-json, and Swagger UI (swagger-ui-dist files) at /api/docs.
 */
@Public()
@ApiExcludeController()
@UseFilters(ProblemJsonFilter)
@Controller('api')
export class OpenApiController {
  private document?: OpenAPIObject;
  private readonly uiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

  constructor(private readonly moduleRef: ModuleRef) {}

  @Get('docs-json')
  @Header('Cache-Control', 'no-store')
  json(): OpenAPIObject {
    if (!this.document) {
      const container = (this.moduleRef as unknown as { container: { applicationConfig: unknown; getHttpAdapterRef(): unknown } }).container;
      // SwaggerModule scans the app's module container; the app object is not injectable, so hand it the same parts.
      const app = { container, config: container.applicationConfig, getHttpAdapter: () => container.getHttpAdapterRef() };
      const config = new DocumentBuilder()
        .setTitle('Metronome admin API')
        .setDescription(
          'Control plane of Metronome: jobs, runs, dead letters, schedules, metrics and the audit log. ' +
            'Authenticate with `Authorization: Bearer <JWT>` (roles system-admin, service, tenant-admin, viewer) or `X-Api-Key`; ' +
            'a system-admin or unbound service credential may act for one tenant with `X-Act-For-Company`. ' +
            'Errors are RFC 9457 application/problem+json. See docs/control-plane.md.',
        )
        .setVersion('1')
        .setOpenAPIVersion('3.1.0')
        .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
        .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'apiKey')
        .build();
      this.document = SwaggerModule.createDocument(app as never, config);
    }
    return this.document;
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  ui(): string {
    return UI_HTML;
  }

  @Get('docs/init.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  init(): string {
    return UI_INIT;
  }

  @Get('docs/assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const type = UI_FILES.get(file);
    if (!type) throw problems.notFound(`Asset "${file.slice(0, 100)}"`);
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', 'public, max-age=86400');
    createReadStream(join(this.uiDir, file)).pipe(res);
  }
}

