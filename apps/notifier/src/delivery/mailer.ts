import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import { APP_CONFIG, CircuitBreakers, RetryableError, SnoozeError, type AppConfig } from '../../../../libs/common/src/index.js';
import { NotifierOptions } from './notifier-options.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Message-ID derived from the delivery, so a duplicate can be recognised downstream. */
  messageId?: string;
}

/**
 * SMTP through nodemailer (SMTP_URL, MAIL_FROM) behind the `smtp` circuit
 * breaker: any failure to hand the mail over is retryable; while the circuit is
 * open the run is snoozed (CircuitOpenError) without spending an attempt.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly transport: Transporter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly breakers: CircuitBreakers,
    options: NotifierOptions,
  ) {
    breakers.register('smtp', options.smtpCircuit);
    this.transport = nodemailer.createTransport(config.mail.smtpUrl, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  }

  async send(mail: Mail): Promise<void> {
    try {
      await this.breakers.call('smtp', () =>
        this.transport.sendMail({ from: this.config.mail.from, to: mail.to, subject: mail.subject, text: mail.text, messageId: mail.messageId }),
      );
    } catch (e) {
      if (e instanceof SnoozeError) throw e;
      throw new RetryableError(`SMTP: ${(e as Error).message}`, undefined, { cause: e });
    }
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}
