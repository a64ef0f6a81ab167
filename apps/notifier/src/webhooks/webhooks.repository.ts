import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';

export interface Webhook {
  id: string;
  companyId: string;
  url: string;
  secret: string;
  types: string[];
  enabled: boolean;
  updatedAt: Date;
}

interface Row { id: string; company_id: string; url: string; secret: string; types: string[]; enabled: boolean; updated_at: Date }
const toWebhook = (r: Row): Webhook => ({ id: r.id, companyId: r.company_id, url: r.url, secret: r.secret, types: r.types, enabled: r.enabled, updatedAt: r.updated_at });

/** notifier_webhooks: one endpoint per tenant. `secret` holds the field-cipher envelope as JSON text (plain only without a key). */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  async put(companyId: string, w: { url: string; secret: string; types: string[]; enabled: boolean }): Promise<Webhook> {
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO notifier_webhooks (id, company_id, url, secret, types, enabled) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (company_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, types = EXCLUDED.types, enabled = EXCLUDED.enabled, updated_at = now()
       RETURNING *`,
      [randomUUID(), companyId, w.url, w.secret, w.types, w.enabled],
    );
    return toWebhook(rows[0]);
  }

  async ofTenant(companyId: string): Promise<Webhook | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM notifier_webhooks WHERE company_id = $1`, [companyId]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async find(companyId: string, id: string): Promise<Webhook | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM notifier_webhooks WHERE company_id = $1 AND id = $2`, [companyId, id]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  /** Every webhook's stored secret (encrypted or plain), for the start-up encryption pass. */
  async secrets(): Promise<{ id: string; secret: string }[]> {
    return this.dataSource.query(`SELECT id, secret FROM notifier_webhooks ORDER BY id`);
  }

  /** Replaces a stored secret if it is still `current`; false when it changed meanwhile. */
  async replaceSecret(id: string, current: string, next: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `UPDATE notifier_webhooks SET secret = $3 WHERE id = $1 AND secret = $2 RETURNING id`,
      [id, current, next],
    );
    return affected > 0;
  }

  async delete(companyId: string): Promise<boolean> {
    // TypeORM answers a DELETE with [rows, affected].
    const [, affected]: [unknown[], number] = await this.dataSource.query(`DELETE FROM notifier_webhooks WHERE company_id = $1 RETURNING id`, [companyId]);
    return affected > 0;
  }
}
