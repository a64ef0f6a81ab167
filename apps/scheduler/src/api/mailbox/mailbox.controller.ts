import { Controller, Get, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { Authorize, SecuredApi } from '../../../../../libs/common/src/auth/index.js';
import { DemoMailbox } from '../../demo/mailbox/demo-mailbox.js';
import { problems } from '../../http/problems.js';

export class MailboxQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

/** The demo's caught email (DEMO=true without SMTP_URL): every tenant's mail, so platform administrators only. */
@ApiTags('mailbox')
@SecuredApi()
@Controller('api/v1/mailbox')
export class MailboxController {
  constructor(private readonly mailbox: DemoMailbox) {}

  @Get()
  @Authorize('platform')
  @ApiOperation({ summary: 'Email the demo sent (recipient, subject, body, time), newest first; DEMO=true without SMTP_URL only' })
  @ApiNotFoundResponse({ description: 'The demo mailbox is not running (production, no DEMO, or SMTP_URL set)' })
  list(@Query() q: MailboxQuery) {
    if (!this.mailbox.enabled) throw problems.notFound('The demo mailbox (it runs with DEMO=true when SMTP_URL is not set)');
    return this.mailbox.list(q.limit ?? 100);
  }
}
