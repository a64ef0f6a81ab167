import { Module } from '@nestjs/common';
import { ApiNotFoundController } from './api-not-found.controller.js';

/** Import last: its catch-all route must come after every /api route. */
@Module({ controllers: [ApiNotFoundController] })
export class ApiNotFoundModule {}
