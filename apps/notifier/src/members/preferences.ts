import type { Member } from './members.types.js';

/** Whether the member opted out of this type (or * ) on this channel (or *). */
export function optedOut(m: Pick<Member, 'optOut'>, type: string, channel: string): boolean {
  return m.optOut.some((o) => (o.type === type || o.type === '*') && (o.channel === channel || o.channel === '*'));
}
