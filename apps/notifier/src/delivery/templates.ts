/** Titles and bodies per event type, in English and German (by the member's locale). */
export type Lang = 'en' | 'de';

export function langOf(locale: string | null | undefined): Lang {
  return locale?.toLowerCase().startsWith('de') ? 'de' : 'en';
}

type Data = Record<string, unknown>;
const s = (v: unknown, fallback = '') => (v === undefined || v === null ? fallback : String(v));
const day = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : '');

const TEMPLATES: Record<string, Record<Lang, (d: Data) => { title: string; body: string }>> = {
  'document.expiring': {
    en: (d) => ({ title: `Document expiring: ${s(d.title, s(d.id))}`, body: `"${s(d.title, s(d.id))}" expires on ${day(d.expiresAt)} (${s(d.daysLeft, '?')} days left).` }),
    de: (d) => ({ title: `Dokument läuft ab: ${s(d.title, s(d.id))}`, body: `„${s(d.title, s(d.id))}“ läuft am ${day(d.expiresAt)} ab (noch ${s(d.daysLeft, '?')} Tage).` }),
  },
  'document.expired': {
    en: (d) => ({ title: `Document expired: ${s(d.title, s(d.id))}`, body: `"${s(d.title, s(d.id))}" expired on ${day(d.expiresAt)}.` }),
    de: (d) => ({ title: `Dokument abgelaufen: ${s(d.title, s(d.id))}`, body: `„${s(d.title, s(d.id))}“ ist am ${day(d.expiresAt)} abgelaufen.` }),
  },
  'document.escalated': {
    en: (d) => ({ title: `Escalation (level ${s(d.level)}): ${s(d.title, s(d.id))}`, body: `Nobody acknowledged the alert for "${s(d.title, s(d.id))}" (expires ${day(d.expiresAt)}); it was escalated to ${s(d.role)}.` }),
    de: (d) => ({ title: `Eskalation (Stufe ${s(d.level)}): ${s(d.title, s(d.id))}`, body: `Die Warnung zu „${s(d.title, s(d.id))}“ (Ablauf ${day(d.expiresAt)}) wurde nicht bestätigt und an ${s(d.role)} eskaliert.` }),
  },
  'task.assigned': {
    en: (d) => ({ title: `New task: ${s(d.title, s(d.taskId))}`, body: `You were assigned "${s(d.title, s(d.taskId))}"${d.dueAt ? `, due ${s(d.dueAt)}` : ''}.` }),
    de: (d) => ({ title: `Neue Aufgabe: ${s(d.title, s(d.taskId))}`, body: `Ihnen wurde „${s(d.title, s(d.taskId))}“ zugewiesen${d.dueAt ? `, fällig ${s(d.dueAt)}` : ''}.` }),
  },
  'task.status_changed': {
    en: (d) => ({ title: `Task ${s(d.status)}: ${s(d.title, s(d.taskId))}`, body: `"${s(d.title, s(d.taskId))}" is now ${s(d.status)}${d.changedBy ? ` (changed by ${s(d.changedBy)})` : ''}.` }),
    de: (d) => ({ title: `Aufgabe ${s(d.status)}: ${s(d.title, s(d.taskId))}`, body: `„${s(d.title, s(d.taskId))}“ ist jetzt ${s(d.status)}${d.changedBy ? ` (geändert von ${s(d.changedBy)})` : ''}.` }),
  },
  'calendar.reminder_due': {
    en: (d) => ({ title: `Reminder: ${s(d.title, 'event')}`, body: `"${s(d.title, 'event')}" starts at ${s(d.startsAt)}.` }),
    de: (d) => ({ title: `Erinnerung: ${s(d.title, 'Termin')}`, body: `„${s(d.title, 'Termin')}“ beginnt um ${s(d.startsAt)}.` }),
  },
  'task.reminder_due': {
    en: (d) => ({ title: `Reminder: ${s(d.title, s(d.taskId))}`, body: `"${s(d.title, s(d.taskId))}" is due at ${s(d.dueAt)}.` }),
    de: (d) => ({ title: `Erinnerung: ${s(d.title, s(d.taskId))}`, body: `„${s(d.title, s(d.taskId))}“ ist fällig um ${s(d.dueAt)}.` }),
  },
  'notification.requested': {
    en: (d) => ({ title: s(d.title), body: s(d.body) }),
    de: (d) => ({ title: s(d.title), body: s(d.body) }),
  },
  'job.dead': {
    en: (d) =>
      d.summary
        ? { title: `Job failed again: ${s(d.job)} (${s(d.folded)} more)`, body: `${s(d.folded)} more run(s) of ${s(d.job)} were dead-lettered since the last alert${since(d)}; the last: run ${s(d.runId)}: ${s(d.error, 'no error recorded')}.` }
        : { title: `Job failed: ${s(d.job)}`, body: `Run ${s(d.runId)} of ${s(d.job)} was dead-lettered: ${s(d.error, 'no error recorded')}.${folded(d, 'en')}` },
    de: (d) =>
      d.summary
        ? { title: `Job erneut fehlgeschlagen: ${s(d.job)} (${s(d.folded)} weitere)`, body: `${s(d.folded)} weitere(r) Lauf/Läufe von ${s(d.job)} liegen seit der letzten Warnung in der Dead-Letter-Queue${seit(d)}; zuletzt Lauf ${s(d.runId)}: ${s(d.error, 'kein Fehler erfasst')}.` }
        : { title: `Job fehlgeschlagen: ${s(d.job)}`, body: `Lauf ${s(d.runId)} von ${s(d.job)} liegt in der Dead-Letter-Queue: ${s(d.error, 'kein Fehler erfasst')}.${folded(d, 'de')}` },
  },
  'job.sla_breached': {
    en: (d) =>
      d.summary
        ? { title: `SLA breached again: ${s(d.job)} (${s(d.folded)} more)`, body: `${s(d.folded)} more run(s) of ${s(d.job)} breached their ${s(d.kind)} SLA since the last alert${since(d)}.` }
        : { title: `SLA breached: ${s(d.job)}`, body: `Run ${s(d.runId)} of ${s(d.job)} breached its ${s(d.kind)} SLA: ${secs(d.observedMs)} against a limit of ${secs(d.limitMs)}.${folded(d, 'en')}` },
    de: (d) =>
      d.summary
        ? { title: `SLA erneut verletzt: ${s(d.job)} (${s(d.folded)} weitere)`, body: `${s(d.folded)} weitere(r) Lauf/Läufe von ${s(d.job)} haben seit der letzten Warnung ihr ${s(d.kind)}-SLA verletzt${seit(d)}.` }
        : { title: `SLA verletzt: ${s(d.job)}`, body: `Lauf ${s(d.runId)} von ${s(d.job)} hat sein ${s(d.kind)}-SLA verletzt: ${secs(d.observedMs)} bei einem Limit von ${secs(d.limitMs)}.${folded(d, 'de')}` },
  },
  'job.timed_out': {
    en: (d) =>
      d.summary
        ? { title: `Job timed out again: ${s(d.job)} (${s(d.folded)} more)`, body: `${s(d.folded)} more attempt(s) of ${s(d.job)} timed out since the last alert${since(d)}.` }
        : {
            title: `Job timed out: ${s(d.job)}`,
            body: `Attempt ${s(d.attempt)} of ${s(d.maxAttempts)} of run ${s(d.runId)} (${s(d.job)}) ran past its ${secs(d.timeoutMs)} timeout and was aborted; ${d.final ? 'it was the last attempt.' : 'it is retried.'}${folded(d, 'en')}`,
          },
    de: (d) =>
      d.summary
        ? { title: `Job erneut zu lang: ${s(d.job)} (${s(d.folded)} weitere)`, body: `${s(d.folded)} weitere(r) Versuch(e) von ${s(d.job)} haben seit der letzten Warnung ihr Zeitlimit überschritten${seit(d)}.` }
        : {
            title: `Job-Zeitlimit überschritten: ${s(d.job)}`,
            body: `Versuch ${s(d.attempt)} von ${s(d.maxAttempts)} des Laufs ${s(d.runId)} (${s(d.job)}) lief länger als ${secs(d.timeoutMs)} und wurde abgebrochen; ${d.final ? 'es war der letzte Versuch.' : 'er wird wiederholt.'}${folded(d, 'de')}`,
          },
  },
};

/** Job alerts are rate-limited: the first alert of a window says how many were folded into it since the previous one. */
function folded(d: Data, lang: Lang): string {
  const n = Number(d.folded ?? 0);
  if (!n) return '';
  return lang === 'de' ? ` Dazu ${n} weitere seit der letzten Warnung.` : ` ${n} more since the last alert were folded into this one.`;
}
const secs = (ms: unknown) => `${Math.round(Number(ms ?? 0) / 100) / 10} s`;
const since = (d: Data) => (typeof d.firstAt === 'string' ? ` (${d.firstAt.slice(0, 16).replace('T', ' ')} UTC – ${s(d.lastAt).slice(0, 16).replace('T', ' ')} UTC)` : '');
const seit = since;

export function render(type: string, locale: string | null | undefined, data: Data): { title: string; body: string } {
  // Own keys only: an event type such as `toString` or `constructor` is not a template.
  const t = Object.hasOwn(TEMPLATES, type) ? TEMPLATES[type] : undefined;
  if (!t) return { title: type, body: JSON.stringify(data) };
  return t[langOf(locale)](data);
}

const FOOTER: Record<Lang, string> = {
  en: '\n\n— Metronome. Change what you receive in your notification preferences.',
  de: '\n\n— Metronome. Was Sie erhalten, ändern Sie in Ihren Benachrichtigungseinstellungen.',
};

export function emailOf(title: string, body: string, locale: string | null | undefined): { subject: string; text: string } {
  return { subject: title, text: `${body}${FOOTER[langOf(locale)]}` };
}

export interface DigestCounts {
  from: Date;
  to: Date;
  total: number;
  unread: number;
  byType: { type: string; count: number }[];
}

export function digestEmail(kind: 'weekly' | 'monthly', companyId: string, c: DigestCounts, locale: string | null | undefined): { subject: string; text: string } {
  const de = langOf(locale) === 'de';
  const period = `${c.from.toISOString().slice(0, 10)} – ${c.to.toISOString().slice(0, 10)}`;
  const subject = de
    ? `${kind === 'weekly' ? 'Wochenübersicht' : 'Monatlicher Compliance-Bericht'} ${companyId}: ${period}`
    : `${kind === 'weekly' ? 'Weekly digest' : 'Monthly compliance report'} for ${companyId}: ${period}`;
  const lines = c.byType.map((t) => `  ${t.type}: ${t.count}`);
  const text = de
    ? `Benachrichtigungen im Zeitraum: ${c.total} (ungelesen: ${c.unread})\n${lines.join('\n')}`
    : `Notifications in the period: ${c.total} (unread: ${c.unread})\n${lines.join('\n')}`;
  return { subject, text };
}
