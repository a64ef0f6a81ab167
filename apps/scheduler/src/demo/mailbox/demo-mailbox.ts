import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { SMTPServer } from 'smtp-server';
import { APP_CONFIG, ROOT_LOGGER, errorText, type AppConfig, type Logger } from '../../../../../libs/common/src/index.js';
import { parseMail } from './mail-message.js';

export interface CaughtMail {
  id: string;
  receivedAt: Date;
  /** SMTP envelope sender and recipients (what the mailer addressed, Bcc included). */
  envelopeFrom: string | null;
  to: string[];
  from: string;
  subject: string;
  text: string;
  messageId: string | null;
}

/** Mails kept, newest first; older ones drop off. */
const KEEP = 500;
/** Larger messages are refused (552); the demo's are a few hundred bytes. */
const MAX_BYTES = 1024 * 1024;

/**
 * The demo's mail server (config.mail.demoMailbox: DEMO=true, no SMTP_URL, not
 * production): an SMTP catcher on 127.0.0.1 that the notifier's SMTP_URL points
 * at, so the demo's emails are delivered and the dashboard's Mailbox tab can
 * show them. Kept in memory only. When the port is taken (say MailHog already
 * listens on 1025) it stays off and the mail goes there instead.
 */
@Injectable()
export class DemoMailbox implements OnModuleInit, OnModuleDestroy {
  private server?: SMTPServer;
  private readonly mails: CaughtMail[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.server !== undefined;
  }

  async onModuleInit(): Promise<void> {
    const settings = this.config.mail.demoMailbox;
    if (!settings) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: MAX_BYTES,
      banner: 'Metronome demo mailbox',
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (stream.sizeExceeded) return callback(Object.assign(new Error('Message too large for the demo mailbox'), { responseCode: 552 }));
          this.keep(Buffer.concat(chunks), session.envelope);
          callback();
        });
      },
    });
    server.on('error', (e) => this.logger.warn({ error: errorText(e) }, 'demo mailbox: SMTP error'));
    try {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(settings.port, '127.0.0.1', () => {
          server.server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      this.logger.warn(
        { port: settings.port, error: errorText(e) },
        'demo mailbox not started: the port is taken (a mail catcher such as MailHog?); the notifier mails there. Set DEMO_MAILBOX_PORT to use the built-in one',
      );
      return;
    }
    this.server = server;
    this.logger.info({ listening: `smtp://127.0.0.1:${settings.port}` }, 'demo mailbox: catching the notifier\'s email (dashboard: Mailbox tab)');
  }

  private keep(raw: Buffer, envelope: { mailFrom: { address: string } | false; rcptTo: { address: string }[] }): void {
    const parsed = parseMail(raw);
    this.mails.unshift({
      id: randomUUID(),
      receivedAt: new Date(),
      envelopeFrom: envelope.mailFrom ? envelope.mailFrom.address : null,
      to: envelope.rcptTo.map((r) => r.address),
      from: parsed.from,
      subject: parsed.subject,
      text: parsed.text,
      messageId: parsed.messageId,
    });
    if (this.mails.length > KEEP) this.mails.length = KEEP;
  }

  /** Newest first. */
  list(limit: number): { items: CaughtMail[]; total: number } {
    return { items: this.mails.slice(0, limit), total: this.mails.length };
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
