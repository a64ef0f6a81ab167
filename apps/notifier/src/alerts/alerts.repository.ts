import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** What to do with a job alert: tell people now (summing up `folded` earlier ones), or fold it into the open window. */
export type AlertDecision =
  | { decision: 'alert'; id: string; folded: number; windowEndsAt: Date; data: Record<string, unknown> }
  | { decision: 'folded' };

interface EventRow {
  event_id: string;
  decision: 'alert' | 'folded';
  folded: number;
  data: Record<string, unknown>;
}

const stored = (r: EventRow): AlertDecision =>
  r.decision === 'folded'
    ? { decision: 'folded' }
    : { decision: 'alert', id: r.event_id, folded: r.folded, windowEndsAt: new Date(String(r.data.windowEndsAt)), data: r.data };

/**
 * The rate limit of job alerts (notifier_alert_windows, notifier_alert_events),
 * per scope (tenant or platform) and alert key. Every decision is stored with
 * the event, so a redelivered event gets the decision it had (the
 * notification it caused is idempotent on its own).
 */
@Injectable()
export class AlertsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Locks the (scope, key) window row, creating a closed one; returns whether it is open at `now`. */
  private async lockWindow(tx: EntityManager, companyId: string, alertKey: string, now: Date): Promise<{ open: boolean; endsAt: Date }> {
    await tx.query(
      `INSERT INTO notifier_alert_windows (company_id, alert_key, window_ends_at) VALUES ($1, $2, to_timestamp(0)) ON CONFLICT DO NOTHING`,
      [companyId, alertKey],
    );
    const rows: { window_ends_at: Date; open: boolean }[] = await tx.query(
      `SELECT window_ends_at, window_ends_at > $3 AS open FROM notifier_alert_windows WHERE company_id = $1 AND alert_key = $2 FOR UPDATE`,
      [companyId, alertKey, now],
    );
    return { open: rows[0].open, endsAt: rows[0].window_ends_at };
  }

  private async find(tx: EntityManager, companyId: string, eventId: string): Promise<AlertDecision | null> {
    const rows: EventRow[] = await tx.query(`SELECT event_id, decision, folded, data FROM notifier_alert_events WHERE company_id = $1 AND event_id = $2`, [companyId, eventId]);
    return rows[0] ? stored(rows[0]) : null;
  }

  /** Marks the window's folded events as summed up by `by`; returns their data, oldest first. */
  private async takeFolded(tx: EntityManager, companyId: string, alertKey: string, by: string): Promise<{ data: Record<string, unknown>; occurred_at: Date }[]> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [list]: [{ data: Record<string, unknown>; occurred_at: Date }[], number] = await tx.query(
      `UPDATE notifier_alert_events SET summarized_by = $3
       WHERE company_id = $1 AND alert_key = $2 AND decision = 'folded' AND summarized_by IS NULL
       RETURNING data, occurred_at`,
      [companyId, alertKey, by],
    );
    return list.sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime());
  }

  private async openWindow(tx: EntityManager, companyId: string, alertKey: string, eventId: string, folded: number, data: Record<string, unknown>, now: Date, windowMs: number) {
    const windowEndsAt = new Date(now.getTime() + windowMs);
    await tx.query(`UPDATE notifier_alert_windows SET window_ends_at = $3 WHERE company_id = $1 AND alert_key = $2`, [companyId, alertKey, windowEndsAt]);
    const kept = { ...data, windowEndsAt: windowEndsAt.toISOString() };
    await tx.query(
      `INSERT INTO notifier_alert_events (company_id, event_id, alert_key, decision, folded, data, occurred_at) VALUES ($1, $2, $3, 'alert', $4, $5, $6)`,
      [companyId, eventId, alertKey, folded, JSON.stringify(kept), now],
    );
    return { decision: 'alert' as const, id: eventId, folded, windowEndsAt, data: kept };
  }

  /**
   * One alert event: folded while the window is open; otherwise it opens a new
   * window and sums up what was folded before and not yet told (a summary that
   * has not run yet).
   */
  admit(a: { companyId: string; alertKey: string; eventId: string; data: Record<string, unknown>; now: Date; windowMs: number }): Promise<AlertDecision> {
    return this.dataSource.transaction(async (tx) => {
      const window = await this.lockWindow(tx, a.companyId, a.alertKey, a.now);
      const seen = await this.find(tx, a.companyId, a.eventId);
      if (seen) return seen;
      if (window.open) {
        await tx.query(
          `INSERT INTO notifier_alert_events (company_id, event_id, alert_key, decision, data, occurred_at) VALUES ($1, $2, $3, 'folded', $4, $5)`,
          [a.companyId, a.eventId, a.alertKey, JSON.stringify(a.data), a.now],
        );
        return { decision: 'folded' as const };
      }
      const earlier = await this.takeFolded(tx, a.companyId, a.alertKey, a.eventId);
      return this.openWindow(tx, a.companyId, a.alertKey, a.eventId, earlier.length, a.data, a.now, a.windowMs);
    });
  }

  /**
   * The end of the window that ended at `windowEndsAt`: when events were folded
   * into it, a summary alert (id `summary:<key>:<end>`) that opens the next
   * window; null when nothing was folded or a later alert already summed them up.
   */
  closeWindow(a: { companyId: string; alertKey: string; windowEndsAt: Date; now: Date; windowMs: number }): Promise<Extract<AlertDecision, { decision: 'alert' }> | null> {
    const id = `summary:${a.alertKey}:${a.windowEndsAt.toISOString()}`;
    return this.dataSource.transaction(async (tx) => {
      const window = await this.lockWindow(tx, a.companyId, a.alertKey, a.now);
      const seen = await this.find(tx, a.companyId, id);
      if (seen) return seen.decision === 'alert' ? seen : null;
      if (window.endsAt.getTime() !== a.windowEndsAt.getTime()) return null;
      const folded = await this.takeFolded(tx, a.companyId, a.alertKey, id);
      if (folded.length === 0) return null;
      const last = folded[folded.length - 1];
      const data = { ...last.data, summary: true, firstAt: folded[0].occurred_at.toISOString(), lastAt: last.occurred_at.toISOString() };
      return this.openWindow(tx, a.companyId, a.alertKey, id, folded.length, data, a.now, a.windowMs);
    });
  }
}
