/* Metronome dashboard: vanilla JS, no build step. Talks to /api/v1 with the pasted token. */
(() => {
  'use strict';
  const REFRESH_MS = 4000;
  const API_TIMEOUT_MS = 30000;
  const KEY = 'metronome.token';
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

  /** h('td', {class: 'x', dataset: {label: 'Job'}}, 'text', node) — text is always inserted as text. */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  }

  /** Per-tab state beyond forms that the URL keeps: { get() → params, set(URLSearchParams) } (filled by components below). */
  const URL_EXTRAS = {};
  const state = { token: sessionStorage.getItem(KEY), principal: null, tab: 'jobs', cursor: null, editing: null, timer: null, metrics: null };

  // ---------- auth ----------
  function decodePrincipal(token) {
    const parts = token.split('.');
    if (parts.length === 3) {
      try {
        const json = JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
        const roles = Array.isArray(json.roles) ? json.roles : [json.role];
        const role = ['system-admin', 'tenant-admin', 'viewer'].find((r) => roles.includes(r)) || 'unknown';
        return { kind: 'jwt', id: json.sub, role, companyId: json.companyId || json.company_id || null };
      } catch { /* fall through */ }
    }
    return { kind: 'api-key', id: 'api key', role: 'service', companyId: null };
  }
  const canWrite = () => state.principal && ['system-admin', 'tenant-admin', 'service'].includes(state.principal.role);
  const isPlatform = () => state.principal && state.principal.role === 'system-admin';

  function authHeaders() {
    if (!state.token) return {};
    return state.principal && state.principal.kind === 'api-key' ? { 'X-Api-Key': state.token } : { Authorization: `Bearer ${state.token}` };
  }

  class ApiError extends Error {
    constructor(problem) { super(problem.detail || problem.title || 'Request failed'); this.problem = problem; this.status = problem.status; }
  }

  async function api(method, path, body) {
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers: { ...authHeaders(), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), Accept: 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      // A read that never answers must not hold the live refresh (one at a time) for good; changes may take long (retry all).
      signal: method === 'GET' ? AbortSignal.timeout(API_TIMEOUT_MS) : undefined,
    });
    if (res.status === 204) return null;
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      if (res.status === 401) { signOut(data && data.detail); }
      throw new ApiError(data || { status: res.status, title: res.statusText });
    }
    return data;
  }

  function toast(msg) {
    const t = $('#toast');
    t.textContent = msg;
    t.classList.add('show');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => t.classList.remove('show'), 3000);
  }

  async function signIn(token) {
    state.token = token.trim();
    state.principal = decodePrincipal(state.token);
    try {
      await api('GET', '/queues');
    } catch (e) {
      state.token = null;
      state.principal = null;
      $('#sign-in-error').textContent = e.message;
      return;
    }
    sessionStorage.setItem(KEY, state.token);
    showApp();
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY);
    state.token = null;
    state.principal = null;
    clearInterval(state.timer);
    $('#app').hidden = true;
    $('#who').hidden = true;
    $('#sign-in').hidden = false;
    $('#sign-in-error').textContent = reason || '';
  }

  function showApp() {
    $('#sign-in').hidden = true;
    $('#app').hidden = false;
    $('#who').hidden = false;
    const p = state.principal;
    $('#who-text').textContent = `${p.id} · ${p.role}${p.companyId ? ` · ${p.companyId}` : ''}`;
    document.body.dataset.role = p.role;
    selectTab(state.tab);
    clearInterval(state.timer);
    state.timer = setInterval(refresh, REFRESH_MS);
  }

  // ---------- formatting ----------
  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—');
  const fmtMs = (ms) => (ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  const badge = (s) => h('span', { class: `badge ${s}`, dataset: { state: s } }, s);
  const td = (label, ...c) => h('td', { dataset: { label } }, ...c);
  const short = (id) => (id ? String(id).slice(0, 8) : '—');
  /** Which row and column a <details> sits in, so a refresh keeps open what the user opened. */
  const detailsKey = (d) => `${JSON.stringify({ ...(d.closest('tr') || {}).dataset })}|${(d.closest('td') || { dataset: {} }).dataset.label}`;
  function fillBody(table, rows, cols) {
    const tbody = $(`${table} tbody`);
    const open = new Set($$('details[open]', tbody).map(detailsKey));
    tbody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: cols, class: 'empty' }, 'Nothing here yet'))]));
    if (open.size) for (const d of $$('details', tbody)) if (open.has(detailsKey(d))) d.open = true;
  }
  function pct(v) { return v === null || v === undefined ? '—' : `${Math.round(v * 100)}%`; }

  // ---------- summary ----------
  async function loadSummary() {
    const m = await api('GET', '/metrics/summary');
    state.metrics = m;
    const sum = (k) => m.jobs.reduce((a, j) => a + (j[k] || 0), 0);
    const succ = sum('succeeded');
    const fail = sum('failed');
    const lag = m.consumers ? m.consumers.reduce((a, c) => a + c.pending, 0) : null;
    const card = (k, v, id) => h('div', { class: 'metric', dataset: { metric: id } }, h('div', { class: 'v' }, v), h('div', { class: 'k' }, k));
    $('#summary').replaceChildren(
      card('waiting', sum('waiting'), 'waiting'),
      card('running', sum('running'), 'running'),
      card('per minute', sum('perMinute'), 'per-minute'),
      card('per hour', sum('perHour'), 'per-hour'),
      card('success (24 h)', succ + fail ? pct(succ / (succ + fail)) : '—', 'success'),
      ...(lag === null ? [] : [card('consumer lag', lag, 'lag')]),
    );
    $('#live').classList.remove('stale');
  }

  // ---------- jobs ----------
  async function loadJobs() {
    const { items } = await api('GET', '/jobs');
    const perJob = new Map(((state.metrics && state.metrics.jobs) || []).map((j) => [j.job, j]));
    setChartJobs(items.map((j) => j.job));
    fillBody('#jobs-table', items.map((j) => {
      const m = perJob.get(j.job) || {};
      const counts = j.counts || {};
      return h('tr', { dataset: { job: j.job } },
        td('Job', h('strong', {}, j.job)),
        td('Status', badge(j.status)),
        td('Last run', j.lastRun ? h('span', {}, badge(j.lastRun.state), ' ', runLink(j.lastRun.id, fmtTime(j.lastRun.createdAt), '')) : '—'),
        td('Next run', fmtTime(j.nextRunAt)),
        td('24 h', `${counts.succeeded || 0} ok · ${(counts.failed || 0) + (counts.dead || 0)} failed · ${(counts.queued || 0) + (counts.scheduled || 0) + (counts.retrying || 0)} waiting`),
        td('p50 / p95', `${fmtMs(m.p50Ms)} / ${fmtMs(m.p95Ms)}`),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'small ghost', dataset: { action: 'charts' }, onclick: () => { showCharts(charts.range, j.job); $('#charts').scrollIntoView({ block: 'start' }); } }, 'Charts'),
          canWrite() ? h('button', { type: 'button', class: 'small', dataset: { action: 'trigger' }, onclick: () => openTrigger(j.job) }, 'Trigger') : null,
          isPlatform() ? h('button', { type: 'button', class: 'small ghost', dataset: { action: j.status === 'paused' ? 'resume' : 'pause' }, onclick: () => togglePause('jobs', j.job, j.status !== 'paused') }, j.status === 'paused' ? 'Resume' : 'Pause') : null,
        ));
    }), 7);
  }

  function openTrigger(job) {
    const dlg = $('#trigger-dialog');
    dlg.dataset.job = job;
    $('#trigger-job').textContent = job;
    $('#trigger-error').textContent = '';
    const tenant = $('#trigger-form [name=companyId]');
    tenant.value = state.principal.companyId || '';
    tenant.disabled = !!state.principal.companyId;
    dlg.showModal();
  }

  async function submitTrigger(e) {
    e.preventDefault();
    const dlg = $('#trigger-dialog');
    const form = e.target;
    let payload;
    try {
      payload = JSON.parse(form.payload.value || '{}');
      if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new Error();
    } catch {
      $('#trigger-error').textContent = 'The payload must be a JSON object';
      return;
    }
    const body = { payload };
    if (form.companyId.value && !form.companyId.disabled) body.companyId = form.companyId.value;
    try {
      const run = await api('POST', `/jobs/${encodeURIComponent(dlg.dataset.job)}/trigger`, body);
      dlg.close();
      toast(`Run ${short(run.runId)} enqueued`);
      state.tab = 'runs';
      $('#runs-filter [name=job]').value = dlg.dataset.job;
      selectTab('runs');
    } catch (err) {
      $('#trigger-error').textContent = err.message;
    }
  }

  async function togglePause(kind, name, pause) {
    try {
      await api('POST', `/${kind}/${encodeURIComponent(name)}/${pause ? 'pause' : 'resume'}`, {});
      toast(`${name} ${pause ? 'paused' : 'resumed'}`);
    } catch (e) { toast(e.message); }
    refresh();
  }

  // ---------- runs ----------
  function runsQuery() {
    const f = new FormData($('#runs-filter'));
    const q = new URLSearchParams({ limit: '50' });
    for (const k of ['job', 'state', 'companyId']) if (f.get(k)) q.set(k, f.get(k));
    for (const k of ['from', 'to']) if (f.get(k)) q.set(k, new Date(f.get(k)).toISOString());
    return q;
  }

  async function loadRuns() {
    const q = runsQuery();
    if (state.cursor) q.set('cursor', state.cursor);
    const page = await api('GET', `/runs?${q}`);
    fillBody('#runs-table', page.items.map((r) => h('tr', { class: 'clickable', dataset: { run: r.id, state: r.state }, onclick: () => openRun(r.id) },
      td('Run', runLink(r.id, short(r.id))),
      td('Job', r.job),
      td('Tenant', r.companyId || '—'),
      td('State', badge(r.state), r.progress !== null && r.state === 'running' ? ` ${r.progress}%` : ''),
      td('Attempts', r.maxAttempts ? `${r.attempts}/${r.maxAttempts}` : String(r.attempts)),
      td('Scheduled for', fmtTime(r.scheduledFor)),
      td('Duration', fmtMs(r.durationMs)),
    )), 7);
    renderPager('runs', page.nextCursor);
  }

  // ---------- run detail page (?tab=run&id=<run id>) ----------
  const runView = { id: null, run: null };
  /** States a run can be cancelled in (POST /runs/{id}/cancel: waiting runs settle cancelled unrun, running ones are aborted). */
  const CANCELLABLE = ['scheduled', 'queued', 'running', 'retrying'];
  /** The admin API's rules (run-actions.service.ts): retry a failed or dead run, delete a finished one. */
  const RETRYABLE = ['failed', 'dead'];
  const DELETABLE = ['succeeded', 'failed', 'dead', 'cancelled', 'lost'];

  const runHref = (id) => `?tab=run&id=${encodeURIComponent(id)}`;
  /** A link to a run's page that navigates in place (a history entry; middle-click opens a tab). */
  function runLink(id, text, cls = 'mono') {
    return h('a', { href: runHref(id), class: cls, dataset: { runLink: id }, onclick: (e) => { if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey) { e.preventDefault(); e.stopPropagation(); openRun(id); } } }, text);
  }

  /** Shows one run's page: a new history entry, so Back returns to the list. */
  function openRun(id) {
    if (!id) return;
    showRunOf(id);
    state.cursor = null;
    selectTab('run');
  }

  /** Forgets the page drawn so far: the next load draws the run afresh. */
  function showRunOf(id) {
    runView.id = id;
    runView.run = null;
    runView.sig = null;
    $('#run-error').textContent = '';
    $('#run-detail').replaceChildren();
  }

  async function loadRun() {
    if (!runView.id) { $('#run-error').textContent = 'No run chosen'; return; }
    const id = runView.id;
    let r;
    try {
      r = await api('GET', `/runs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { $('#run-error').textContent = e.message; $('#run-detail').replaceChildren(); return; }
      throw e;
    }
    if (id !== runView.id) return; // the user moved on meanwhile
    $('#run-error').textContent = '';
    runView.run = r;
    // The page refreshes live; redraw only what changed (keeps a text selection and open details).
    const sig = JSON.stringify(r);
    if (sig === runView.sig) return;
    runView.sig = sig;
    renderRun(r);
  }

  const kv = (k, v, key) => [h('dt', {}, k), h('dd', { dataset: { field: key || k.toLowerCase() } }, v)];
  const json = (v) => h('pre', {}, JSON.stringify(v, null, 2));
  const waitedMs = (r) => {
    const from = r.publishedAt || r.scheduledFor;
    return r.startedAt && from ? Math.max(0, Date.parse(r.startedAt) - Date.parse(from)) : null;
  };

  function renderRun(r) {
    const detail = $('#run-detail');
    const open = new Set($$('details[open]', detail).map((d) => d.dataset.key));
    const attempts = r.attemptHistory || [];
    const steps = r.steps || [];
    detail.dataset.run = r.id;
    detail.dataset.state = r.state;
    detail.replaceChildren(
      h('div', { class: 'run-head' },
        h('h1', {}, `Run of ${r.job}`),
        badge(r.state),
        r.state === 'running' && r.progress !== null ? h('span', {}, h('progress', { class: 'run-progress', max: '100', value: String(Math.max(0, Math.min(100, r.progress))) }), ` ${r.progress}%${r.progressMessage ? ` · ${r.progressMessage}` : ''}`) : null,
      ),
      runActions(r),
      h('div', { class: 'run-grid' },
        h('section', { class: 'card', 'aria-label': 'Run' }, h('dl', { class: 'kv' },
          ...kv('Id', h('span', { class: 'mono' }, r.id), 'id'),
          ...kv('Job', h('a', { href: `?range=24h&job=${encodeURIComponent(r.job)}`, title: 'Charts of this job' }, r.job), 'job'),
          ...kv('Tenant', r.companyId || '— (platform)', 'tenant'),
          ...kv('Queue', r.queue || r.priority, 'queue'),
          ...kv('Attempts', `${r.attempts}${r.maxAttempts ? ` of ${r.maxAttempts}` : ''}`, 'attempts'),
          ...(r.worker ? kv('Worker', h('span', { class: 'mono' }, r.worker), 'worker') : []),
          ...(r.scheduleId ? kv('Schedule', h('a', { href: `?tab=schedules&schedule=${encodeURIComponent(r.scheduleId)}`, dataset: { scheduleLink: r.scheduleId } }, r.scheduleId), 'schedule') : []),
          ...(r.occurrenceAt ? kv('Occurrence', fmtTime(r.occurrenceAt), 'occurrence') : []),
          ...(r.parentRunId ? kv('Flow (parent run)', runLink(r.parentRunId, r.parentRunId), 'parent') : []),
          ...(r.retryOf ? kv('Retry of', runLink(r.retryOf, r.retryOf), 'retry-of') : []),
          ...(r.state === 'running' ? kv('Progress', r.progress === null ? 'not reported' : `${r.progress}%${r.progressMessage ? ` · ${r.progressMessage}` : ''}`, 'progress') : []),
        )),
        h('section', { class: 'card', 'aria-label': 'Timings' }, h('dl', { class: 'kv' },
          ...kv('Scheduled for', fmtTime(r.scheduledFor), 'scheduled'),
          ...kv('Enqueued', fmtTime(r.publishedAt), 'published'),
          ...kv('Started', fmtTime(r.startedAt), 'started'),
          ...kv('Waited', fmtMs(waitedMs(r)), 'waited'),
          ...kv('Finished', fmtTime(r.finishedAt), 'finished'),
          ...kv('Duration', fmtMs(r.durationMs), 'duration'),
        )),
      ),
      ...(r.error ? [h('h2', {}, 'Why it failed'), h('pre', { class: 'error-text', dataset: { testid: 'run-error-text' } }, r.error)] : []),
      h('h2', {}, `Attempts (${attempts.length})`),
      attempts.length
        ? h('ol', { class: 'attempts plain', dataset: { testid: 'run-attempts' } }, ...attempts.map((a) => h('li', { class: 'attempt', dataset: { attempt: String(a.attempt), outcome: a.outcome } },
          h('div', { class: 'attempt-head' }, h('strong', {}, `#${a.attempt}${a.maxAttempts ? ` of ${a.maxAttempts}` : ''}`), badge(a.outcome), h('span', { class: 'muted' }, `${fmtTime(a.startedAt)} · ${fmtMs(a.durationMs)}`), a.worker ? h('span', { class: 'muted mono' }, a.worker) : null),
          a.error ? h('pre', { class: 'error-text' }, a.error) : null,
          // Stack frames come only to roles that may act on the run (the API leaves them out for viewers).
          a.stack ? h('details', { class: 'stack', dataset: { key: `stack-${a.attempt}`, testid: 'attempt-stack' } }, h('summary', {}, 'Stack trace'), h('pre', { class: 'stack-text mono' }, a.stack)) : null,
        )))
        : h('p', { class: 'muted' }, r.state === 'running' ? 'The first attempt is running.' : 'No attempt has finished yet.'),
      ...(steps.length ? [
        h('h2', {}, `Durable steps (${steps.length})`),
        h('table', { class: 'grid', id: 'run-steps' },
          h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Step'), h('th', {}, 'Attempt'), h('th', {}, 'Duration'), h('th', {}, 'Completed'), h('th', {}, 'Result'))),
          h('tbody', {}, ...steps.map((s) => h('tr', { dataset: { step: s.name } },
            td('#', s.seq), td('Step', h('strong', { class: 'wrap' }, s.name)), td('Attempt', s.attempt), td('Duration', fmtMs(s.durationMs)), td('Completed', fmtTime(s.completedAt)),
            td('Result', h('details', { dataset: { key: `step-${s.seq}` } }, h('summary', {}, 'result'), json(s.result))),
          )))),
      ] : []),
      ...(r.result !== null && r.result !== undefined ? [h('h2', {}, 'Result'), json(r.result)] : []),
      h('h2', {}, 'Payload'),
      r.payload === null || r.payload === undefined
        ? h('p', { class: 'muted' }, r.state === 'running' ? 'With the worker while it runs; kept in the history if an attempt fails.' : 'Not kept: a succeeded attempt keeps no payload.')
        : json(r.payload),
      h('p', { class: 'muted' }, 'Fields the job declares sensitive show as "[redacted]".'),
    );
    if (open.size) for (const d of $$('details', detail)) if (open.has(d.dataset.key)) d.open = true;
  }

  /** Only what the viewer's role may do, and only what the run's state allows. */
  function runActions(r) {
    if (!canWrite()) return null;
    const buttons = [
      RETRYABLE.includes(r.state) ? h('button', { type: 'button', class: 'warn', dataset: { action: 'retry' }, onclick: () => retryRun(r) }, 'Retry') : null,
      CANCELLABLE.includes(r.state) ? h('button', { type: 'button', class: 'danger', dataset: { action: 'cancel' }, onclick: () => cancelRun(r.id) }, 'Cancel') : null,
      DELETABLE.includes(r.state) ? h('button', { type: 'button', class: 'ghost danger', dataset: { action: 'delete' }, onclick: () => deleteRun(r) }, 'Delete') : null,
    ].filter(Boolean);
    return buttons.length ? h('div', { class: 'run-actions', dataset: { testid: 'run-actions' } }, ...buttons) : null;
  }

  async function retryRun(r) {
    try {
      const out = await api('POST', `/runs/${encodeURIComponent(r.id)}/retry`, {});
      toast(`Retried as run ${short(out.newRunId)}`);
      openRun(out.newRunId);
    } catch (e) { $('#run-error').textContent = problemText(e); }
  }

  async function cancelRun(id) {
    if (!confirm('Cancel this run?')) return;
    try {
      const r = await api('POST', `/runs/${encodeURIComponent(id)}/cancel`, {});
      toast(`Run ${short(id)} cancelled (was ${r.previousState})`);
    } catch (e) { $('#run-error').textContent = problemText(e); }
    loadRun();
  }

  async function deleteRun(r) {
    if (!confirm(`Delete this ${r.state} run of ${r.job} and its attempts?`)) return;
    try {
      await api('DELETE', `/runs/${encodeURIComponent(r.id)}`);
      toast(`Run ${short(r.id)} deleted`);
      runView.id = null;
      selectTab('runs');
    } catch (e) { $('#run-error').textContent = problemText(e); }
  }

  URL_EXTRAS.run = {
    get: () => ({ id: runView.id || '' }),
    set: (q) => showRunOf(q.get('id')),
  };

  // ---------- dead letters ----------
  function dlqFilter() {
    const f = new FormData($('#dlq-filter'));
    const out = {};
    for (const k of ['job', 'companyId', 'error']) if (f.get(k)) out[k] = f.get(k);
    return { filter: out, status: f.get('status') || 'pending' };
  }

  async function loadDlq() {
    const { filter, status } = dlqFilter();
    const q = new URLSearchParams({ ...filter, status, limit: '50' });
    if (state.cursor) q.set('cursor', state.cursor);
    const page = await api('GET', `/dlq?${q}`);
    fillBody('#dlq-table', page.items.map((d) => h('tr', { dataset: { dlq: d.id } },
      td('Message', h('span', { class: 'mono' }, short(d.id))),
      td('Type', d.messageType || d.subject),
      td('Tenant', d.companyId || '—'),
      td('Reason', d.reason),
      td('Error', expandable(d.error, 'error')),
      td('Attempts', d.attempts),
      td('Failed', fmtTime(d.lastFailedAt)),
      h('td', { class: 'actions' },
        d.runId ? runLink(d.runId, 'Run', 'small') : null,
        canWrite() && !d.retriedAt ? h('button', { type: 'button', class: 'small', dataset: { action: 'retry' }, onclick: () => retryDlq(d.id) }, 'Retry') : null,
        canWrite() ? h('button', { type: 'button', class: 'small danger', dataset: { action: 'purge' }, onclick: () => purgeDlq([d.id]) }, 'Purge') : null,
        d.retriedAt ? badge('retried') : null,
      ))), 8);
    renderPager('dlq', page.nextCursor);
  }

  async function retryDlq(id) {
    try {
      const r = await api('POST', `/dlq/${encodeURIComponent(id)}/retry`, {});
      toast(r.newRunId ? `Retried as run ${short(r.newRunId)}` : 'Re-published');
    } catch (e) { toast(e.message); }
    loadDlq();
  }

  async function purgeDlq(ids) {
    if (!confirm(ids ? 'Purge this dead letter?' : 'Purge every dead letter matching the filter?')) return;
    try {
      const { filter, status } = dlqFilter();
      const r = await api('POST', '/dlq/purge', ids ? { ids } : { ...filter, status, confirm: true });
      toast(`${r.deleted} purged`);
    } catch (e) { toast(e.message); }
    loadDlq();
  }

  async function retryAll() {
    try {
      const r = await api('POST', '/dlq/retry', { ...dlqFilter().filter, max: 1000 });
      toast(`${r.retried.length} of ${r.matched} retried`);
    } catch (e) { toast(e.message); }
    loadDlq();
  }

  // ---------- schedules ----------
  function describe(s) {
    if (s.kind === 'cron') return `${s.cron} (${s.timezone})`;
    if (s.kind === 'interval') return `every ${fmtMs(s.intervalMs)}`;
    if (s.kind === 'once') return `once at ${fmtTime(s.runAt)}`;
    if (s.kind === 'event') return `on ${s.eventType}`;
    return 'manual';
  }

  /** A schedule to open in the editor once listed (?tab=schedules&schedule=<id or name>, the run page links here). */
  const schedulesView = { pick: null };
  URL_EXTRAS.schedules = { get: () => ({}), set: (q) => { schedulesView.pick = q.get('schedule'); } };

  async function loadSchedules() {
    const { items } = await api('GET', '/schedules');
    if (schedulesView.pick) {
      const s = items.find((x) => x.id === schedulesView.pick || x.name === schedulesView.pick);
      schedulesView.pick = null;
      if (s) editSchedule(s);
    }
    fillBody('#schedules-table', items.map((s) => h('tr', { class: 'clickable', dataset: { schedule: s.name }, onclick: (e) => { if (e.target.tagName !== 'BUTTON') editSchedule(s); } },
      td('Name', h('strong', {}, s.name)),
      td('Job', s.job),
      td('When', describe(s)),
      td('Scope', s.scope === 'tenant' ? `tenant ${s.companyId}` : s.scope),
      td('Next', fmtTime(s.nextFireAt)),
      td('State', badge(!s.enabled ? 'disabled' : s.paused ? 'paused' : 'active')),
      h('td', { class: 'actions' }, canWrite() ? h('button', { type: 'button', class: 'small ghost', onclick: () => togglePause('schedules', s.id, !s.paused) }, s.paused ? 'Resume' : 'Pause') : null),
    )), 7);
  }

  function editSchedule(s) {
    const f = $('#schedule-form');
    state.editing = s;
    $('#schedule-form-title').textContent = s ? `Edit ${s.name}` : 'New schedule';
    f.name.value = s ? s.name : '';
    f.name.disabled = !!s;
    f.job.value = s ? s.job : '';
    f.kind.value = s ? s.kind : 'cron';
    f.cron.value = s && s.cron ? s.cron : '';
    f.every.value = s && s.intervalMs ? String(s.intervalMs) : '';
    f.runAt.value = s && s.runAt ? new Date(s.runAt).toISOString().slice(0, 16) : '';
    f.eventType.value = s && s.eventType ? s.eventType : '';
    f.timezone.value = s ? s.timezone : 'UTC';
    f.scope.value = s ? s.scope : state.principal.companyId ? 'tenant' : 'global';
    f.companyId.value = s && s.companyId ? s.companyId : state.principal.companyId || '';
    f.payload.value = JSON.stringify(s ? s.payload : {}, null, 2);
    $('#schedule-delete').hidden = !s;
    $('#schedule-error').textContent = '';
    kindChanged();
    previewSoon();
  }

  function kindChanged() {
    const kind = $('#schedule-form').kind.value;
    for (const el of $$('#schedule-form [data-kind]')) el.hidden = el.dataset.kind !== kind;
  }

  function previewSoon() {
    clearTimeout(previewSoon.timer);
    previewSoon.timer = setTimeout(renderPreview, 250);
  }

  /** "Sun 29 Mar 2026, 03:00" of a floating wall time "2026-03-29T03:00:00" (already local to the schedule's zone). */
  const fmtWall = (local) => new Date(`${local}Z`).toLocaleString('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  const hhmm = (local) => local.slice(11, 16);
  /** The wall time ("YYYY-MM-DDTHH:mm:ss") an instant reads at a UTC offset in minutes. */
  const wallAt = (iso, offsetMinutes) => new Date(Date.parse(iso) + offsetMinutes * 60_000).toISOString().slice(0, 19);

  /** One firing of a preview, with what DST did to it (ARCHITECTURE.md invariant 6). */
  function firingItem(f) {
    const d = f.dst;
    let note = null;
    if (d && d.kind === 'shifted') note = h('span', { class: 'dst-note' }, badge('shifted'), ` ${d.scheduledLocal.map(hhmm).join(', ')} does not exist (clocks jump forward): fires at ${hhmm(f.local)}`);
    else if (d && d.kind === 'folded') note = h('span', { class: 'dst-note' }, badge('once'), ` ${hhmm(f.local)} occurs twice (clocks go back): fires at the first, not again at ${new Date(d.repeatSkippedAt).toISOString().slice(11, 16)} UTC`);
    else if (d && d.kind === 'repeated') note = h('span', { class: 'dst-note' }, badge(`pass ${d.pass}`), ` repeated hour: fires on both passes`);
    return h('li', { dataset: { fire: f.at, dst: d ? d.kind : '' }, title: `${f.at} (UTC) · ${fmtTime(f.at)} your time` },
      h('span', { class: 'wall' }, `${fmtWall(f.local)} `, h('span', { class: 'muted' }, f.offset)), note);
  }

  function skippedItem(x) {
    return h('li', { class: 'skipped', dataset: { dst: 'skipped', fire: '' } }, h('span', { class: 'wall' }, fmtWall(x.local)), h('span', { class: 'dst-note' }, badge('skipped'), ' does not exist (clocks jump forward): no firing'));
  }

  /** Firings and skipped wall times in time order. */
  function previewList(r) {
    const items = r.firings.map((f) => ({ t: Date.parse(f.at), el: firingItem(f) }));
    for (const x of r.skipped) items.push({ t: Date.parse(x.transitionAt) - 1, el: skippedItem(x) });
    items.sort((a, b) => a.t - b.t);
    return h('ol', {}, ...items.map((i) => i.el));
  }

  /** How far before a DST change to start so that a couple of firings precede it: 2.5 periods, from 90 min to 26 h. */
  function leadBefore(r) {
    const t = r.firings.map((f) => Date.parse(f.at));
    const gaps = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b);
    const period = gaps.length ? gaps[Math.floor(gaps.length / 2)] : 86_400_000;
    return Math.min(26 * 3_600_000, Math.max(90 * 60_000, 2.5 * period));
  }

  function previewBody(f) {
    const kind = f.kind.value;
    const body = { kind, timezone: f.timezone.value || 'UTC', count: Number(f.previewCount.value) || 5 };
    if (kind === 'cron') body.cron = f.cron.value;
    else body.every = f.every.value;
    if (f.previewFrom.value) body.from = new Date(f.previewFrom.value).toISOString();
    return body;
  }

  async function renderPreview() {
    const f = $('#schedule-form');
    const box = $('#schedule-preview');
    const dstBox = $('#schedule-preview-dst');
    const kind = f.kind.value;
    const seq = (renderPreview.seq = (renderPreview.seq || 0) + 1);
    dstBox.hidden = true;
    if (kind !== 'cron' && kind !== 'interval') { box.replaceChildren('No preview for this kind'); box.classList.remove('bad'); return; }
    if (kind === 'cron' && !f.cron.value) { box.replaceChildren('Type a cron expression to preview it'); return; }
    if (kind === 'interval' && !f.every.value) { box.replaceChildren('Type an interval to preview it'); return; }
    const body = previewBody(f);
    try {
      const r = await api('POST', '/schedules/preview', body);
      if (seq !== renderPreview.seq) return; // a newer edit is being previewed
      box.classList.remove('bad');
      const policy = r.policy === 'fixed-time' ? 'fixed time of day: a time the clocks skip fires when they resume, a repeated time fires once'
        : r.policy === 'clock-following' ? 'follows the clock: skipped hours do not fire, repeated hours fire twice' : 'fixed interval: DST does not move it';
      box.replaceChildren(h('div', {}, `Next firings from ${body.from ? fmtTime(body.from) : 'now'} (${r.timezone}):`), previewList(r), h('div', { class: 'muted' }, policy));
      const tr = r.nextTransition;
      if (!tr || r.policy === 'absolute') return;
      const from = new Date(Date.parse(tr.at) - leadBefore(r)).toISOString();
      const around = await api('POST', '/schedules/preview', { ...body, from, count: 8 });
      if (seq !== renderPreview.seq) return;
      const fmtOff = (m) => `${m < 0 ? '-' : '+'}${String(Math.floor(Math.abs(m) / 60)).padStart(2, '0')}:${String(Math.abs(m) % 60).padStart(2, '0')}`;
      const affected = around.firings.some((x) => x.dst) || around.skipped.length > 0;
      dstBox.replaceChildren(
        h('div', { dataset: { transition: tr.at } },
          h('strong', {}, `Around the next DST change: ${fmtWall(wallAt(tr.at, tr.offsetMinutesBefore))} → ${hhmm(wallAt(tr.at, tr.offsetMinutesAfter))} `),
          `(${tr.kind === 'spring_forward' ? 'clocks jump forward' : 'clocks go back'}, UTC${fmtOff(tr.offsetMinutesBefore)} → UTC${fmtOff(tr.offsetMinutesAfter)})`),
        previewList(around),
        h('div', { class: 'muted' }, affected ? 'Marked firings are moved by the change.' : 'No firing shown is moved by this change.'),
      );
      dstBox.hidden = false;
    } catch (e) {
      if (seq !== renderPreview.seq) return;
      box.classList.add('bad');
      const errors = (e.problem && e.problem.errors) || [];
      box.replaceChildren(h('div', {}, e.message), ...errors.map((x) => h('div', {}, typeof x === 'string' ? x : `${x.field}: ${x.messages.join(', ')}`)));
    }
  }

  async function saveSchedule(e) {
    e.preventDefault();
    const f = e.target;
    const kind = f.kind.value;
    let payload;
    try { payload = JSON.parse(f.payload.value || '{}'); } catch { $('#schedule-error').textContent = 'Payload: not valid JSON'; return; }
    const body = { job: f.job.value, kind, timezone: f.timezone.value || 'UTC', scope: f.scope.value, payload };
    if (f.scope.value === 'tenant') body.companyId = f.companyId.value;
    if (kind === 'cron') body.cron = f.cron.value;
    if (kind === 'interval') body.every = f.every.value;
    if (kind === 'once' && f.runAt.value) body.runAt = new Date(f.runAt.value).toISOString();
    if (kind === 'event') body.eventType = f.eventType.value;
    try {
      if (state.editing) {
        await api('PATCH', `/schedules/${encodeURIComponent(state.editing.id)}`, body);
        toast('Schedule saved');
      } else {
        await api('POST', '/schedules', { name: f.name.value, ...body });
        toast('Schedule created');
      }
      editSchedule(null);
      loadSchedules();
    } catch (err) {
      const errors = (err.problem && err.problem.errors) || [];
      $('#schedule-error').textContent = [err.message, ...errors.map((x) => (typeof x === 'string' ? x : `${x.field}: ${x.messages.join(', ')}`))].join(' — ');
    }
  }

  async function deleteSchedule() {
    if (!state.editing || !confirm(`Delete schedule ${state.editing.name}?`)) return;
    try {
      await api('DELETE', `/schedules/${encodeURIComponent(state.editing.id)}`);
      toast('Schedule deleted');
      editSchedule(null);
      loadSchedules();
    } catch (e) { $('#schedule-error').textContent = e.message; }
  }

  // ---------- queues ----------
  async function loadQueues() {
    const { items } = await api('GET', '/queues');
    const depth = new Map(((state.metrics && state.metrics.queues) || []).map((q) => [q.queue, q]));
    fillBody('#queues-table', items.map((q) => h('tr', { dataset: { queue: q.name } },
      td('Queue', h('strong', { title: `Every service's ${q.name}-priority jobs` }, q.name)),
      td('Status', badge(q.status)),
      td('Waiting', (depth.get(q.name) || {}).waiting || 0),
      td('Running', (depth.get(q.name) || {}).running || 0),
      h('td', { class: 'actions' }, isPlatform() ? [
        h('button', { type: 'button', class: 'small ghost', dataset: { action: q.status === 'paused' ? 'resume' : 'pause' }, onclick: () => togglePause('queues', q.name, q.status !== 'paused') }, q.status === 'paused' ? 'Resume' : 'Pause'),
        h('button', { type: 'button', class: 'small danger', dataset: { action: 'empty' }, onclick: () => openEmpty(q.name) }, 'Empty'),
      ] : null),
    )), 5);
    const consumers = (state.metrics && state.metrics.consumers) || [];
    fillBody('#consumers-table', consumers.map((c) => h('tr', {}, td('Consumer', c.consumer), td('Stream', c.stream), td('Lag (pending)', c.pending), td('Ack pending', c.ackPending), td('Redelivered', c.redelivered))), 5);
  }

  /** Emptying a queue removes its waiting jobs for good: a dialog where the admin types the queue's name (the API's {"confirm": name}). */
  function openEmpty(queue) {
    const dlg = $('#empty-dialog');
    dlg.dataset.queue = queue;
    $('#empty-queue').textContent = queue;
    $('#empty-name').textContent = queue;
    $('#empty-error').textContent = '';
    const f = $('#empty-form');
    f.confirm.value = '';
    $('[data-testid="empty-submit"]').disabled = true;
    dlg.showModal();
    f.confirm.focus();
  }

  async function submitEmpty(e) {
    e.preventDefault();
    const dlg = $('#empty-dialog');
    const queue = dlg.dataset.queue;
    const confirmed = e.target.confirm.value.trim();
    if (confirmed !== queue) return;
    try {
      const r = await api('POST', `/queues/${encodeURIComponent(queue)}/empty`, { confirm: confirmed });
      dlg.close();
      toast(`${queue}: ${r.removed} waiting removed, ${r.cancelledPlanned} planned cancelled`);
    } catch (err) {
      $('#empty-error').textContent = problemText(err);
    }
    refresh();
  }

  // ---------- workers (system admins; GET /api/v1/workers, from the heartbeats) ----------
  async function loadWorkers() {
    const { items } = await api('GET', '/workers');
    fillBody('#workers-table', items.map((w) => h('tr', { dataset: { worker: w.id, stale: String(w.stale) } },
      td('Worker', h('strong', { class: 'wrap' }, w.service), ' ', h('span', { class: 'mono' }, w.instance)),
      td('Host', h('span', { class: 'wrap' }, `${w.host} · pid ${w.pid}`)),
      td('Jobs', expandable(w.jobs.join(', '), 'job list')),
      td('Slots', `${w.inFlight} / ${w.concurrency}`),
      td('Waiting', `${w.waiting}${w.held ? ` · ${w.held} held` : ''}${w.settling ? ` · ${w.settling} settling` : ''}`),
      td('Heartbeat', w.stale ? badge('stale') : badge('active'), ` ${fmtMs(w.heartbeatAgeMs)} ago`),
      td('Running', w.running.length
        ? h('ul', { class: 'plain' }, ...w.running.map((r) => h('li', {}, runLink(r.runId, short(r.runId)), ` ${r.job}${r.companyId ? ` (${r.companyId})` : ''} #${r.attempt}${r.progress !== null ? ` ${r.progress}%` : ''}`)))
        : '—'),
    )), 7);
  }

  // ---------- audit ----------
  async function loadAudit() {
    const page = await api('GET', `/audit?limit=50${state.cursor ? `&cursor=${encodeURIComponent(state.cursor)}` : ''}`);
    const { items } = page;
    fillBody('#audit-table', items.map((a) => h('tr', { dataset: { audit: a.id } },
      td('When', fmtTime(a.at)),
      td('Who', `${a.actor} (${a.actorRole})`),
      td('Action', h('strong', {}, a.action)),
      td('Target', `${a.targetType} ${a.targetId || ''}`),
      td('Tenant', a.companyId || '—'),
      td('Change', h('details', {}, h('summary', {}, 'before / after'), h('pre', {}, JSON.stringify({ before: a.before, after: a.after }, null, 2)))),
    )), 6);
    renderPager('audit', page.nextCursor);
  }

  // ---------- charts (uPlot) ----------
  const RANGES = ['1h', '24h', '7d'];
  const RANGE_TEXT = { '1h': 'last hour', '24h': 'last 24 hours', '7d': 'last 7 days' };
  const charts = { range: '1h', job: '', plots: {}, key: '', fetchedAt: 0 };
  const OUTCOME_COLORS = { succeeded: '#15803d', failed: '#dc2626', retried: '#d97706', dead: '#7f1d1d', cancelled: '#6b7085' };

  /** Lines need two neighbours: a value between gaps (one sample, one busy minute) is drawn as a dot. */
  function isolatedPoints(u, seriesIdx) {
    const d = u.data[seriesIdx];
    const out = [];
    for (let i = 0; i < d.length; i++) if (d[i] !== null && (i === 0 || d[i - 1] === null) && (i === d.length - 1 || d[i + 1] === null)) out.push(i);
    return out;
  }

  function chartWidth(fig) { return Math.max(200, $('.plot', fig).clientWidth || fig.clientWidth - 24); }

  /** Draws into a figure, or updates the plot already there (live, no flicker). */
  function plot(id, series, axes, data, scales) {
    const fig = $(`#${id}`);
    const existing = charts.plots[id];
    const width = chartWidth(fig);
    if (existing && existing.series.length === series.length + 1) {
      existing.setData(data);
      return existing;
    }
    if (existing) existing.destroy();
    const u = new uPlot({
      width, height: 180,
      series: [{}, ...series.map((x) => ({ width: 1.5, spanGaps: false, points: { show: true, size: 5, filter: isolatedPoints }, ...x }))],
      axes: [{ stroke: '#6b7085', grid: { stroke: '#eef0f6' } }, ...axes],
      scales: { x: { time: true }, ...scales },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }, data, $('.plot', fig));
    charts.plots[id] = u;
    return u;
  }

  const yAxis = (x) => ({ stroke: '#6b7085', grid: { stroke: '#eef0f6' }, size: 64, ...x });
  const lastValue = (arr) => { for (let i = arr.length - 1; i >= 0; i--) if (arr[i] !== null && arr[i] !== undefined) return arr[i]; return null; };
  const sum = (arr) => arr.reduce((a, v) => a + (v || 0), 0);

  function drawCharts(s) {
    // Show or hide the queue chart first: the grid's columns (and so every chart's width) depend on it.
    const qFig = $('#chart-queue');
    qFig.hidden = !s.queue;
    const perMinute = 60 / s.bucketSeconds;
    const outcomes = Object.keys(OUTCOME_COLORS);
    plot('chart-runs', outcomes.map((o) => ({ label: o, stroke: OUTCOME_COLORS[o], value: (u, v) => (v === null ? '—' : +v.toFixed(2)) })), [yAxis({})],
      [s.t, ...outcomes.map((o) => s.runs[o].map((n) => n * perMinute))]);
    const runsSum = $('#chart-runs .chart-sum');
    runsSum.textContent = `· ${outcomes.map((o) => `${s.totals[o]} ${o}`).join(' · ')} in the ${RANGE_TEXT[s.range]}`;
    runsSum.dataset.totals = JSON.stringify(s.totals);

    plot('chart-duration', [
      { label: 'p50', stroke: '#4f46e5', value: (u, v) => fmtMs(v === null ? null : Math.round(v)) },
      { label: 'p95', stroke: '#db2777', value: (u, v) => fmtMs(v === null ? null : Math.round(v)) },
    ], [yAxis({ values: (u, vals) => vals.map((v) => fmtMs(Math.round(v))) })], [s.t, s.durationMs.p50, s.durationMs.p95]);
    const p50 = lastValue(s.durationMs.p50);
    const p95 = lastValue(s.durationMs.p95);
    $('#chart-duration .chart-sum').textContent = p50 === null ? '· no finished runs in range' : `· latest p50 ${fmtMs(Math.round(p50))}, p95 ${fmtMs(Math.round(p95))}`;

    if (s.queue) {
      plot('chart-queue', [
        { label: 'waiting', stroke: '#1d4ed8', scale: 'n', value: (u, v) => (v === null ? '—' : v) },
        { label: 'in progress', stroke: '#0891b2', scale: 'n', value: (u, v) => (v === null ? '—' : v) },
        { label: 'lag', stroke: '#b45309', scale: 's', dash: [4, 3], value: (u, v) => (v === null ? '—' : fmtMs(Math.round(v * 1000))) },
      ], [yAxis({ scale: 'n' }), yAxis({ scale: 's', side: 1, grid: { show: false }, values: (u, vals) => vals.map((v) => fmtMs(Math.round(v * 1000))) })],
      [s.t, s.queue.pending, s.queue.ackPending, s.queue.lagMs.map((v) => (v === null ? null : v / 1000))], { n: { auto: true }, s: { auto: true } });
      const pending = lastValue(s.queue.pending);
      const lag = lastValue(s.queue.lagMs);
      const qs = $('#chart-queue .chart-sum');
      qs.textContent = pending === null ? '· not sampled yet' : `· now ${pending} waiting, ${lastValue(s.queue.ackPending)} in progress, oldest ${fmtMs(lag)}${s.job ? ` (consumers ${s.queue.consumers.join(', ') || 'none'})` : ''}`;
      qs.dataset.pending = pending === null ? '' : String(pending);
    }
    fitCharts();
    $('#charts').dataset.range = s.range;
    $('#charts').dataset.job = s.job || '';
    $('#charts').dataset.points = String(s.t.length);
  }

  /** Fetches the series for the chosen range and job; 1 h refreshes with the page, longer ranges every 30 s. */
  async function loadCharts(force = false) {
    if (typeof uPlot === 'undefined') { $('#charts-error').textContent = 'Charts unavailable: uplot.js did not load'; return; }
    const key = `${charts.range}|${charts.job}`;
    if (!force && key === charts.key && Date.now() - charts.fetchedAt < (charts.range === '1h' ? 0 : 30_000)) return;
    const q = new URLSearchParams({ range: charts.range });
    if (charts.job) q.set('job', charts.job);
    try {
      const s = await api('GET', `/stats/timeseries?${q}`);
      if (`${charts.range}|${charts.job}` !== key) return; // the user moved on meanwhile
      charts.key = key;
      charts.fetchedAt = Date.now();
      $('#charts-error').textContent = '';
      setChartJobs(s.jobs);
      drawCharts(s);
    } catch (e) {
      $('#charts-error').textContent = `Charts: ${e.message}`;
    }
  }

  function chartsChanged() {
    for (const b of $$('#charts [data-range]')) b.setAttribute('aria-pressed', String(b.dataset.range === charts.range));
    const sel = $('#charts-job');
    if (charts.job && ![...sel.options].some((o) => o.value === charts.job)) sel.append(h('option', { value: charts.job }, charts.job));
    sel.value = charts.job;
  }

  function showCharts(range, job) {
    charts.range = range;
    charts.job = job;
    chartsChanged();
    writeUrl(true);
    loadCharts(true);
  }

  /** The job picker lists every job the jobs table shows. */
  function setChartJobs(names) {
    const sel = $('#charts-job');
    const have = new Set([...sel.options].map((o) => o.value));
    for (const n of names) if (!have.has(n)) sel.append(h('option', { value: n }, n));
    sel.value = charts.job;
  }

  URL_EXTRAS.jobs = {
    get: () => ({ range: charts.range === '1h' ? '' : charts.range, job: charts.job }),
    set: (q) => { charts.range = RANGES.includes(q.get('range')) ? q.get('range') : '1h'; charts.job = q.get('job') || ''; chartsChanged(); },
  };

  /** Every visible chart as wide as its grid cell. */
  function fitCharts() {
    for (const [id, u] of Object.entries(charts.plots)) {
      const fig = $(`#${id}`);
      if (fig.hidden || !fig.offsetParent) continue;
      const width = chartWidth(fig);
      if (Math.abs(u.width - width) > 2) u.setSize({ width, height: 180 });
    }
  }

  window.addEventListener('resize', () => {
    clearTimeout(fitCharts.timer);
    fitCharts.timer = setTimeout(fitCharts, 150);
  });

  // ---------- tenants (system admins; the tenant registry's /api/v1/tenants) ----------
  const tenantsView = { editing: null };

  /** "UTC+01:00 now" for a zone, from the browser's own tz database. */
  function zoneHint(zone) {
    try {
      const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName');
      return `${part ? part.value.replace('GMT', 'UTC') : 'UTC'} now · ${new Date().toLocaleTimeString('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' })} local`;
    } catch { return 'not a timezone this browser knows'; }
  }

  async function loadTenants() {
    const q = new URLSearchParams({ limit: '50' });
    if (state.cursor) q.set('cursor', state.cursor);
    const page = await api('GET', `/tenants?${q}`);
    fillBody('#tenants-table', page.items.map((t) => h('tr', { class: 'clickable', dataset: { tenant: t.companyId, state: !t.active ? 'inactive' : t.paused ? 'paused' : 'active' }, onclick: (e) => { if (e.target.tagName !== 'BUTTON') editTenant(t); } },
      td('Company', h('strong', { class: 'wrap' }, t.companyId)),
      td('Name', h('span', { class: 'wrap' }, t.name || '—')),
      td('Timezone', h('span', { title: zoneHint(t.timezone) }, t.timezone)),
      td('Locale', t.locale),
      td('State', badge(!t.active ? 'inactive' : t.paused ? 'paused' : 'active')),
      td('Updated', fmtTime(t.updatedAt)),
      h('td', { class: 'actions' }, t.active ? h('button', { type: 'button', class: 'small ghost', dataset: { action: t.paused ? 'resume' : 'pause' }, onclick: () => pauseTenant(t, !t.paused) }, t.paused ? 'Resume' : 'Pause') : null),
    )), 7);
    renderPager('tenants', page.nextCursor);
  }

  function editTenant(t) {
    const f = $('#tenant-form');
    tenantsView.editing = t;
    $('#tenant-form-title').textContent = t ? `Edit ${t.companyId}` : 'New tenant';
    f.companyId.value = t ? t.companyId : '';
    f.companyId.disabled = !!t;
    f.name.value = t && t.name ? t.name : '';
    f.timezone.value = t ? t.timezone : 'UTC';
    f.locale.value = t ? t.locale : '';
    f.paused.checked = !!(t && t.paused);
    $('[data-testid="tenant-save"]').textContent = t ? 'Save' : 'Create';
    $('#tenant-error').textContent = '';
    $('#tenant-tz-hint').textContent = zoneHint(f.timezone.value);
  }

  function problemText(err) {
    const errors = (err.problem && err.problem.errors) || [];
    return [err.message, ...errors.map((x) => (typeof x === 'string' ? x : `${x.field}: ${x.messages.join(', ')}`))].join(' — ');
  }

  async function saveTenant(e) {
    e.preventDefault();
    const f = e.target;
    const t = tenantsView.editing;
    const body = { timezone: f.timezone.value.trim(), paused: f.paused.checked };
    if (f.locale.value.trim()) body.locale = f.locale.value.trim();
    try {
      if (t) {
        // Only what changed: a PATCH carries the fields the admin edited.
        const patch = {};
        const name = f.name.value.trim() || null;
        if (name !== (t.name || null)) patch.name = name;
        for (const k of ['timezone', 'locale', 'paused']) if (body[k] !== undefined && body[k] !== t[k]) patch[k] = body[k];
        if (!Object.keys(patch).length) { toast('Nothing changed'); return; }
        const after = await api('PATCH', `/tenants/${encodeURIComponent(t.companyId)}`, patch);
        toast(`Tenant ${after.companyId} saved`);
        editTenant(after);
      } else {
        if (f.name.value.trim()) body.name = f.name.value.trim();
        const created = await api('POST', '/tenants', { companyId: f.companyId.value.trim(), ...body });
        toast(`Tenant ${created.companyId} created`);
        editTenant(null);
      }
      loadTenants();
    } catch (err) {
      $('#tenant-error').textContent = problemText(err);
    }
  }

  async function pauseTenant(t, paused) {
    try {
      await api('PATCH', `/tenants/${encodeURIComponent(t.companyId)}`, { paused });
      toast(`${t.companyId} ${paused ? 'paused' : 'resumed'}`);
      const open = tenantsView.editing;
      if (open && open.companyId === t.companyId) { open.paused = paused; $('#tenant-form').paused.checked = paused; }
    } catch (e) { toast(e.message); }
    loadTenants();
  }

  // ---------- mailbox (demo) ----------
  /** Long text cut to one line, the whole of it a click away. */
  function expandable(text, label) {
    const full = String(text || '');
    const first = full.split('\n').find((l) => l.trim()) || '';
    if (full.length <= 80 && !full.includes('\n')) return h('span', { class: 'wrap' }, full);
    return h('details', { class: 'expand' }, h('summary', { title: `Show the whole ${label}` }, h('span', { class: 'trunc' }, first)), h('pre', {}, full));
  }

  async function loadMailbox() {
    const { items, total } = await api('GET', '/mailbox?limit=200');
    fillBody('#mailbox-table', items.map((m) => h('tr', { dataset: { mail: m.id } },
      td('Received', fmtTime(m.receivedAt)),
      td('To', h('span', { class: 'wrap' }, m.to.join(', '))),
      td('Subject', h('strong', { class: 'wrap' }, m.subject || '(no subject)')),
      td('Body', expandable(m.text, 'message')),
    )), 4);
    $('#tab-mailbox .hint').dataset.total = String(total);
  }

  /** Tabs that depend on the server (the demo mailbox): shown once the API says they exist for this caller. */
  async function probeFeatures() {
    state.featuresFor = state.token;
    state.features = {};
    if (isPlatform()) {
      try { await api('GET', '/mailbox?limit=1'); state.features.mailbox = true; } catch { /* not running: no tab */ }
      try { await api('GET', '/tenants?limit=1'); state.features.tenants = true; } catch { /* no tenant registry on this server: no tab */ }
      try { await api('GET', '/workers'); state.features.workers = true; } catch { /* not on this server: no tab */ }
    }
    for (const b of $$('.tabs button[data-feature]')) b.hidden = !state.features[b.dataset.feature];
  }

  // ---------- URL: tab, filters and page (deep links, back button) ----------
  /** Forms whose fields are kept in the URL, per tab. */
  const URL_FORMS = { runs: '#runs-filter', dlq: '#dlq-filter' };

  function urlFor(tab) {
    const q = new URLSearchParams();
    if (tab !== 'jobs') q.set('tab', tab);
    const form = URL_FORMS[tab] && $(URL_FORMS[tab]);
    if (form) for (const [k, v] of new FormData(form)) if (v && !(k === 'status' && v === 'pending')) q.set(k, String(v));
    if (URL_EXTRAS[tab]) for (const [k, v] of Object.entries(URL_EXTRAS[tab].get())) if (v) q.set(k, v);
    if (state.cursor) q.set('cursor', state.cursor);
    const qs = q.toString();
    return `${location.pathname}${qs ? `?${qs}` : ''}`;
  }

  /** Records the current view in the address bar: a new history entry for navigation, a replacement otherwise. */
  function writeUrl(push) {
    const url = urlFor(state.tab);
    if (url === location.pathname + location.search) return;
    history[push ? 'pushState' : 'replaceState'](null, '', url);
  }

  /** Restores tab, filters and page from the address bar; returns the tab. */
  function readUrl() {
    const q = new URLSearchParams(location.search);
    const tab = LOADERS[q.get('tab')] ? q.get('tab') : 'jobs';
    const form = URL_FORMS[tab] && $(URL_FORMS[tab]);
    if (form) {
      form.reset();
      for (const el of form.elements) if (el.name && q.has(el.name)) el.value = q.get(el.name);
    }
    if (URL_EXTRAS[tab]) URL_EXTRAS[tab].set(q);
    state.cursor = q.get('cursor');
    return tab;
  }

  /** "Newest" and "Older" under a paged list; each page is a history entry. */
  function renderPager(tab, nextCursor) {
    const box = $(`#${tab}-pager`);
    box.replaceChildren(...[
      state.cursor ? h('button', { type: 'button', class: 'ghost small', dataset: { page: 'first' }, onclick: () => goPage(null) }, '← Newest') : null,
      nextCursor ? h('button', { type: 'button', class: 'ghost small', dataset: { page: 'older' }, onclick: () => goPage(nextCursor) }, 'Older →') : null,
    ].filter(Boolean));
  }

  function goPage(cursor) {
    state.cursor = cursor;
    writeUrl(true);
    refresh();
  }

  /** A filter form was submitted: back to the first page, remembered in the URL. */
  function filtered(tab) {
    state.cursor = null;
    writeUrl(true);
    LOADERS[tab]();
  }

  window.addEventListener('popstate', () => {
    if (!state.token) return;
    const tab = readUrl();
    selectTab(tab, { fromUrl: true });
  });

  // ---------- tabs and refresh ----------
  const LOADERS = { jobs: () => Promise.all([loadJobs(), loadCharts()]), runs: loadRuns, run: loadRun, dlq: loadDlq, schedules: loadSchedules, queues: loadQueues, workers: loadWorkers, audit: loadAudit, tenants: loadTenants, mailbox: loadMailbox };

  function selectTab(tab, opts = {}) {
    if (!opts.fromUrl && tab !== state.tab) state.cursor = null;
    state.tab = tab;
    // A new history entry for another tab, or for another run's page.
    if (!opts.fromUrl) writeUrl(tab !== (new URLSearchParams(location.search).get('tab') || 'jobs') || tab === 'run');
    for (const b of $$('.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
    for (const s of $$('.tab')) s.hidden = s.id !== `tab-${tab}`;
    if (tab === 'schedules' && !$('#schedule-form').dataset.ready) { $('#schedule-form').dataset.ready = '1'; editSchedule(null); }
    if (tab === 'tenants' && !$('#tenant-form').dataset.ready) { $('#tenant-form').dataset.ready = '1'; editTenant(null); }
    refresh();
  }

  let refreshing = false;
  /** A refresh asked for while one was running (a tab chosen, a filter applied): it runs as soon as that one ends. */
  let refreshAgain = false;
  async function refresh() {
    if (!state.token) return;
    if (refreshing) { refreshAgain = true; return; }
    // Do not reload a list while the user is typing in a form or reading a dialog.
    refreshing = true;
    try {
      if (state.featuresFor !== state.token) await probeFeatures();
      await loadSummary();
      await LOADERS[state.tab]();
    } catch (e) {
      $('#live').classList.add('stale');
      if (!(e instanceof ApiError)) console.error(e);
    } finally {
      refreshing = false;
      if (refreshAgain) { refreshAgain = false; refresh(); }
    }
  }

  // ---------- wiring ----------
  $('#sign-in-form').addEventListener('submit', (e) => { e.preventDefault(); signIn($('#token').value); });
  $('#sign-out').addEventListener('click', () => signOut());
  for (const b of $$('.tabs button')) b.addEventListener('click', () => selectTab(b.dataset.tab));
  for (const b of $$('#charts [data-range]')) b.addEventListener('click', () => showCharts(b.dataset.range, charts.job));
  $('#charts-job').addEventListener('change', (e) => showCharts(charts.range, e.target.value));
  $('#runs-filter').addEventListener('submit', (e) => { e.preventDefault(); filtered('runs'); });
  $('#dlq-filter').addEventListener('submit', (e) => { e.preventDefault(); filtered('dlq'); });
  $('#dlq-retry-all').addEventListener('click', retryAll);
  $('#dlq-purge-all').addEventListener('click', () => purgeDlq(null));
  $('#trigger-form').addEventListener('submit', submitTrigger);
  $('#trigger-cancel').addEventListener('click', () => $('#trigger-dialog').close());
  const sf = $('#schedule-form');
  sf.addEventListener('submit', saveSchedule);
  sf.kind.addEventListener('change', () => { kindChanged(); previewSoon(); });
  for (const n of ['cron', 'every', 'timezone', 'previewFrom', 'previewCount']) { sf[n].addEventListener('input', previewSoon); sf[n].addEventListener('change', previewSoon); }
  $('#schedule-new').addEventListener('click', () => editSchedule(null));
  $('#tenant-form').addEventListener('submit', saveTenant);
  $('#tenant-new').addEventListener('click', () => editTenant(null));
  $('#tenant-form').timezone.addEventListener('input', (e) => { $('#tenant-tz-hint').textContent = zoneHint(e.target.value); });
  $('#schedule-delete').addEventListener('click', deleteSchedule);
  $('#empty-form').addEventListener('submit', submitEmpty);
  $('#empty-form').confirm.addEventListener('input', (e) => { $('[data-testid="empty-submit"]').disabled = e.target.value.trim() !== $('#empty-dialog').dataset.queue; });
  $('#empty-cancel').addEventListener('click', () => $('#empty-dialog').close());
  try {
    $('#zones').replaceChildren(...Intl.supportedValuesOf('timeZone').map((z) => h('option', { value: z })));
  } catch { /* old browsers: free text */ }

  state.tab = readUrl();
  if (state.token) { state.principal = decodePrincipal(state.token); showApp(); } else signOut();
})();
