import type { INestApplication } from '@nestjs/common';
import { EVENT_TYPES } from '../../../libs/common/src/index.js';
import { NotificationsService } from '../../../apps/notifier/src/notifications/notifications.service.js';
import { tenantAuth } from '../../support/auth.js';
import { sleep, waitFor } from '../../support/wait.js';
import { NotifierHarness } from './harness.js';

/** An open SSE stream: everything it received so far. */
class LiveStream {
  text = '';
  private readonly controller = new AbortController();
  private constructor() {}

  static async open(baseUrl: string, companyId: string, userId: string): Promise<LiveStream> {
    const s = new LiveStream();
    const res = await fetch(`${baseUrl}/api/v1/notifications/stream`, { headers: await tenantAuth(companyId, userId), signal: s.controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          s.text += Buffer.from(value).toString('utf8');
        }
      } catch {
        // aborted
      }
    })();
    return s;
  }

  /** The notifications received (`event: notification`), parsed. */
  notifications(): { id: string; title: string }[] {
    return this.text
      .split('\n\n')
      .filter((block) => block.includes('event: notification'))
      .map((block) => JSON.parse(block.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { id: string; title: string });
  }

  count(title: string): number {
    return this.notifications().filter((n) => n.title === title).length;
  }

  close(): void {
    this.controller.abort();
  }
}

/** Two notifier replicas on one NATS and one database: the live streams follow the notifications, not the process. */
describe('notifier: in-app SSE across replicas', () => {
  const h = new NotifierHarness();
  let b: { app: INestApplication; baseUrl: string };

  beforeAll(async () => {
    await h.start();
    b = await h.replica();
    await h.member('acme', { userId: 'alice', roles: ['safety'] });
    await h.member('acme', { userId: 'bob', roles: ['safety'] });
    await h.member('globex', { userId: 'alice', roles: ['safety'] });
  }, 60_000);
  afterAll(async () => {
    await h.stop();
  }, 60_000);

  it('a notification stored by replica A reaches the user\'s stream open on replica B', async () => {
    const onB = await LiveStream.open(b.baseUrl, 'acme', 'alice');
    await sleep(200);
    // Replica A stores it (what its consumer does for every event); B's process never saw it.
    const stored = await h.app.get(NotificationsService).notify({
      id: 'direct-on-a', type: EVENT_TYPES.notificationRequested, companyId: 'acme', time: new Date(), data: { title: 'Stored by A' }, audience: { userIds: ['alice'] }, critical: false,
    });
    expect(stored).toHaveLength(1);
    await waitFor(() => onB.count('Stored by A') === 1, { what: 'A\'s notification on B\'s stream' });
    expect(onB.notifications().map((n) => n.id)).toEqual([stored[0].id]);
    // And the other way round.
    const onA = await LiveStream.open(h.baseUrl, 'acme', 'alice');
    await sleep(200);
    await b.app.get(NotificationsService).notify({
      id: 'direct-on-b', type: EVENT_TYPES.notificationRequested, companyId: 'acme', time: new Date(), data: { title: 'Stored by B' }, audience: { userIds: ['alice'] }, critical: false,
    });
    await waitFor(() => onA.count('Stored by B') === 1 && onB.count('Stored by B') === 1, { what: 'B\'s notification on both streams' });
    onA.close();
    onB.close();
  });

  it('events handled by either replica all reach the stream once, and only the stream of their recipient', async () => {
    const alice = await LiveStream.open(b.baseUrl, 'acme', 'alice');
    const otherAlice = await LiveStream.open(h.baseUrl, 'globex', 'alice');
    await sleep(200);
    const titles = Array.from({ length: 8 }, (_, i) => `Live ${i + 1}`);
    await Promise.all(titles.map((title, i) => h.event(EVENT_TYPES.notificationRequested, 'acme', { title, userIds: ['alice'] }, `evt-live-${i}`)));
    await h.event(EVENT_TYPES.notificationRequested, 'acme', { title: 'For bob', userIds: ['bob'] }, 'evt-live-bob');
    await h.event(EVENT_TYPES.notificationRequested, 'globex', { title: 'For globex', userIds: ['alice'] }, 'evt-live-globex');
    await waitFor(() => titles.every((t) => alice.count(t) === 1), { what: 'every event on the stream' });
    await waitFor(() => otherAlice.count('For globex') === 1, { what: 'the other tenant\'s stream' });
    await h.settle();
    await sleep(300);
    expect(titles.map((t) => alice.count(t))).toEqual(titles.map(() => 1));
    expect(alice.text).not.toContain('For bob');
    expect(alice.text).not.toContain('For globex');
    expect(otherAlice.text).not.toContain('Live 1');
    alice.close();
    otherAlice.close();
  });
});
