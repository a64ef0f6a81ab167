import { All, Controller, Req, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { ProblemJsonFilter } from '../../../../libs/common/src/http/problem-json.filter.js';
import { Public } from '../../../../libs/common/src/auth/index.js';
import { problems } from './problems.js';

/** Unknown paths under /api answer problem+json 404 (registered last so every real route wins). */
@Public()
@ApiExcludeController()
@UseFilters(ProblemJsonFilter)
@Controller('api')
export class ApiNotFoundController {
  @All(['', '*path'])
  notFound(@Req() req: Request): never {
    throw problems.notFound(`${req.method} ${req.path}`);
  }
}
