import nodemailer from 'nodemailer';
import { decodeHeaderValue, parseMail } from './mail-message.js';

/** The bytes nodemailer (the notifier's mailer) puts on the wire. */
async function wire(mail: nodemailer.SendMailOptions): Promise<Buffer> {
  const info = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }).sendMail(mail);
  return info.message as Buffer;
}

describe('parseMail', () => {
  it('reads what the notifier sends: encoded subject, quoted-printable UTF-8 body, date and message id', async () => {
    const text = `Hallo Jürgen,\n\nDas Dokument „Feuerschutz-Zertifikat #12" läuft am 3. März ab. ${'Eine sehr lange Zeile, '.repeat(8)}Ende.\n`;
    const raw = await wire({ from: 'Metronome <notifications@metronome.local>', to: 'ana@example.test', subject: 'Dokument läuft ab: Feuerschutz ✓', text, messageId: '<n-1@metronome>', date: new Date('2026-03-01T08:00:00Z') });
    expect(parseMail(raw)).toEqual({
      subject: 'Dokument läuft ab: Feuerschutz ✓',
      from: 'Metronome <notifications@metronome.local>',
      date: new Date('2026-03-01T08:00:00Z'),
      messageId: '<n-1@metronome>',
      text: text.trimEnd(),
    });
  });

  it('takes the text/plain part of a multipart message and decodes base64', async () => {
    const raw = await wire({ from: 'a@x', to: 'b@x', subject: 'Both', text: 'plain ✓ text', html: '<p>html</p>', textEncoding: 'base64' } as nodemailer.SendMailOptions);
    expect(parseMail(raw)).toMatchObject({ subject: 'Both', text: 'plain ✓ text' });
  });

  it('falls back to the html part as text, and to the raw body for what it cannot read', async () => {
    expect(parseMail(await wire({ from: 'a@x', to: 'b@x', subject: 'Html', html: '<p>only <b>html</b></p>' })).text).toMatch(/only\s+html/);
    expect(parseMail(Buffer.from('Subject: odd\r\nContent-Type: application/octet-stream\r\n\r\nraw bytes\r\n')).text).toBe('raw bytes');
    expect(parseMail(Buffer.from('no headers at all'))).toMatchObject({ subject: '', from: '', date: null, messageId: null });
  });

  it('decodes RFC 2047 words in any charset and joins adjacent ones', () => {
    expect(decodeHeaderValue('=?UTF-8?B?w6TDtsO8?= =?utf-8?Q?_und_=C3=9F?=')).toBe('äöü und ß');
    expect(decodeHeaderValue('=?iso-8859-1?Q?Gr=FC=DFe?= aus Berlin')).toBe('Grüße aus Berlin');
  });
});
