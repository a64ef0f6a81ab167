import { render } from './templates.js';

describe('render', () => {
  it('renders a known event type in the member\'s language', () => {
    const data = { title: 'Fire safety certificate', expiresAt: '2027-01-31T00:00:00Z', daysLeft: 30 };
    expect(render('document.expiring', 'en-GB', data).title).toBe('Document expiring: Fire safety certificate');
    expect(render('document.expiring', 'de-DE', data).title).toBe('Dokument läuft ab: Fire safety certificate');
  });

  it('falls back to the type and the data for an event type it has no template for, prototype names included', () => {
    for (const type of ['shipment.delayed', 'toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(render(type, 'en', { n: 1 })).toEqual({ title: type, body: '{"n":1}' });
    }
  });
});
