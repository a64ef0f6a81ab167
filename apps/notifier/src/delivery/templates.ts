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
    en: (d) => ({ title: `Job failed: ${s(d.job)}`, body: `Run ${s(d.runId)} of ${s(d.job)} was dead-lettered: ${s(d.error, 'no error recorded')}.` }),
    de: (d) => ({ title: `Job fehlgeschlagen: ${s(d.job)}`, body: `Lauf ${s(d.runId)} von ${s(d.job)} liegt in der Dead-Letter-Queue: ${s(d.error, 'kein Fehler erfasst')}.` }),
  },
};

export function render(type: string, locale: string | null | undefined, data: Data): { title: string; body: string } {
  const t = TEMPLATES[type];
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
