import { createHmac } from 'node:crypto';
import { signature } from './webhook.sender.js';
import { optedOut } from './delivery.service.js';
import { render } from './templates.js';

describe('webhook signature', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const body = '{"a":1}';
    const expected = createHmac('sha256', 'secret-secret-secret').update(`1700000000.${body}`).digest('hex');
    expect(signature('secret-secret-secret', body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });
});

describe('opt-outs and templates', () => {
  const member = { companyId: 'c', userId: 'u', roles: [], email: 'u@x', locale: 'de', timezone: null, quietHours: null, optOut: [{ type: '*', channel: 'webhook' }, { type: 'task.assigned', channel: 'email' }] };
  it('matches type and channel, with * for either', () => {
    expect(optedOut(member, 'task.assigned', 'email')).toBe(true);
    expect(optedOut(member, 'document.expired', 'email')).toBe(false);
    expect(optedOut(member, 'document.expired', 'webhook')).toBe(true);
  });
  it('renders in the member\'s language, English by default', () => {
    expect(render('document.expired', 'de-AT', { title: 'X', expiresAt: '2030-01-01T00:00:00Z' }).title).toBe('Dokument abgelaufen: X');
    expect(render('document.expired', 'fr', { title: 'X' }).title).toBe('Document expired: X');
  });
});
