// The console page: plain DOM, no framework. Everything that comes from logs or incidents is put in the
// page with textContent, never as HTML.

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
const OPEN = new Set(['new', 'acknowledged']);
const ACTIONS = ['acknowledge', 'assign', 'comment', 'escalate', 'resolve', 'false_positive'];
const NEEDS_TEXT = new Set(['assign', 'comment']);
const ROLE_RANK = { viewer: 0, responder: 1, admin: 2 };

const state = {
  lang: localStorage.getItem('canhgac.lang') === 'vi' ? 'vi' : 'en',
  messages: {},
  me: null,
  incidents: new Map(),
  shownAt: new Map(),
  cursor: null,
  ws: null,
  retryMs: 500,
  selected: null,
  chartTimer: null,
  chartPending: null,
};

const $ = (sel) => document.querySelector(sel);

// Characters that reorder the text around them (bidi overrides, isolates, marks), that show as nothing
// (zero-width, fillers) or that are controls: shown escaped, so that a host named "\u202Eexe.tsoh"
// cannot pass for "host.exe" and a hidden character in a user or file name is seen.
const HIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFF9-\uFFFB]/g;

function reveal(text) {
  return String(text).replace(HIDDEN_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

function t(key, vars = {}) {
  const text = state.messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** A new element with text content only (hidden characters revealed); children appended as given. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') node.textContent = reveal(v);
    else if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

async function loadMessages() {
  const res = await fetch(`/i18n/${state.lang}.json`);
  state.messages = await res.json();
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  $('#lang').textContent = t('lang.switch');
  setLinkState($('#link-state').dataset.state);
  renderAll();
}

function fmtTime(iso) {
  if (!iso) return t('detail.none');
  return new Date(iso).toLocaleString(state.lang === 'vi' ? 'vi-VN' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

// --- session -------------------------------------------------------------------------------------

async function api(path, init = {}) {
  const headers = init.body === undefined ? {} : { 'content-type': 'application/json' };
  const res = await fetch(path, { credentials: 'same-origin', ...init, headers });
  if (res.status === 401) {
    showLogin();
    throw new Error('unauthorized');
  }
  return res;
}

function showLogin() {
  state.me = null;
  if (state.ws) {
    state.ws.onclose = null;
    state.ws.close();
    state.ws = null;
  }
  $('#login').hidden = false;
  $('#console').hidden = true;
  $('#logout').hidden = true;
  $('#whoami').textContent = '';
}

async function start() {
  const res = await fetch('/api/me', { credentials: 'same-origin' });
  if (res.status !== 200) return showLogin();
  state.me = await res.json();
  $('#login').hidden = true;
  $('#console').hidden = false;
  $('#logout').hidden = false;
  $('#whoami').textContent = `${state.me.username} (${state.me.role})`;
  connect();
  refreshChart();
  clearInterval(state.chartTimer);
  state.chartTimer = setInterval(refreshChart, 30_000);
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
  });
  $('#login-error').textContent = res.status === 200 ? '' : t(res.status === 429 ? 'login.limited' : 'login.failed');
  if (res.status === 200) {
    e.target.reset();
    start();
  }
});

$('#logout').addEventListener('click', async () => {
  await api('/api/logout', { method: 'POST', body: '{}' }).catch(() => undefined);
  showLogin();
});

$('#lang').addEventListener('click', () => {
  state.lang = state.lang === 'en' ? 'vi' : 'en';
  localStorage.setItem('canhgac.lang', state.lang);
  loadMessages();
});

// --- live stream ---------------------------------------------------------------------------------

function setLinkState(s) {
  const node = $('#link-state');
  node.dataset.state = s;
  node.textContent = t(`state.${s}`);
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = state.cursor ? `?since=${encodeURIComponent(state.cursor)}` : '';
  const ws = new WebSocket(`${scheme}://${location.host}/ws${query}`);
  state.ws = ws;
  ws.onopen = () => {
    state.retryMs = 500;
    setLinkState('live');
  };
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
  ws.onclose = () => {
    if (state.ws !== ws) return;
    setLinkState('offline');
    // Backoff up to 10 s; an expired session shows the login form instead of retrying forever.
    setTimeout(async () => {
      const me = await fetch('/api/me', { credentials: 'same-origin' }).catch(() => null);
      if (me && me.status === 401) return showLogin();
      if (state.ws === ws) connect();
    }, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 10_000);
  };
}

function onMessage(msg) {
  switch (msg.type) {
    case 'snapshot': {
      const before = new Set(state.incidents.keys());
      state.incidents = new Map(msg.incidents.map((i) => [i.id, i]));
      state.cursor = msg.cursor;
      setLinkState('live');
      // After a resync, incidents the page had not seen are new to the responder too.
      for (const i of msg.incidents) if (before.size && !before.has(i.id)) announce(i);
      renderAll();
      break;
    }
    case 'change': {
      state.cursor = msg.cursor;
      const inc = msg.change.incident;
      const known = state.incidents.get(inc.id);
      if (msg.change.type === 'purged') state.incidents.delete(inc.id);
      else if (!known || known.version < inc.version) state.incidents.set(inc.id, inc);
      if (!known && msg.change.type !== 'purged') announce(inc);
      if (!known || inc.alert_count !== known.alert_count) scheduleChart();
      renderAll();
      if (state.selected === inc.id) {
        if (known && inc.alert_count > known.alert_count) openDetail(inc.id, 1);
        else renderDetailIncident(state.incidents.get(inc.id) ?? inc);
      }
      break;
    }
    case 'replayed':
      state.cursor = msg.cursor;
      break;
    case 'lagging':
      setLinkState('lagging');
      break;
    default:
      break;
  }
}

function announce(inc) {
  $('#announce').textContent = reveal(t('announce.new', { title: inc.rule.title }));
  if ($('#sound').checked) beep();
}

function beep() {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  osc.frequency.value = 880;
  osc.connect(ctx.destination);
  osc.start();
  osc.stop(ctx.currentTime + 0.15);
}

// --- list ----------------------------------------------------------------------------------------

function filters() {
  const f = new FormData($('#filters'));
  return Object.fromEntries([...f.entries()].map(([k, v]) => [k, String(v).trim()]));
}

function visible(inc, f) {
  if (f.status === 'open' && !OPEN.has(inc.status)) return false;
  if (f.status && f.status !== 'open' && inc.status !== f.status) return false;
  if (f.layer && String(inc.layer) !== f.layer) return false;
  if (f.severity && inc.severity !== f.severity) return false;
  if (f.unit && !(inc.unit ?? '').toLowerCase().includes(f.unit.toLowerCase())) return false;
  if (f.drill === 'none' && inc.drill) return false;
  if (f.drill === 'any' && !inc.drill) return false;
  return true;
}

$('#filters').addEventListener('input', () => {
  renderAll();
  loadHistory();
});

/**
 * The stream carries open incidents and every change since; closed ones from before come from a search.
 * Only fetched when the status filter asks for more than the open ones.
 */
async function loadHistory() {
  const f = filters();
  if (f.status === 'open') return;
  const q = new URLSearchParams({ size: '200' });
  if (f.status) q.set('status', f.status);
  for (const k of ['layer', 'severity', 'drill']) if (f[k]) q.set(k, f[k]);
  const res = await api(`/api/incidents?${q}`).catch(() => null);
  if (res?.status !== 200) return;
  for (const inc of (await res.json()).incidents) {
    const known = state.incidents.get(inc.id);
    if (!known || known.version < inc.version) state.incidents.set(inc.id, inc);
  }
  renderAll();
}

function renderAll() {
  if (!state.me) return;
  renderCounts();
  const f = filters();
  const rows = [...state.incidents.values()]
    .filter((i) => visible(i, f))
    .sort((a, b) => Date.parse(b.last_seen) - Date.parse(a.last_seen) || LEVELS.indexOf(b.severity) - LEVELS.indexOf(a.severity));
  const now = Date.now();
  $('#incidents tbody').replaceChildren(
    ...rows.map((inc) => {
      if (!state.shownAt.has(inc.id)) state.shownAt.set(inc.id, now);
      const fresh = now - state.shownAt.get(inc.id) < 10_000;
      const rule = el('td', {}, el('span', { text: inc.rule.title }));
      if (inc.drill) rule.prepend(el('span', { class: 'badge drill', text: `${t('badge.drill')} ${inc.drill}` }));
      const tr = el(
        'tr',
        { class: `sev-${inc.severity}${fresh ? ' fresh' : ''}${state.selected === inc.id ? ' selected' : ''}`, 'data-id': inc.id, 'data-status': inc.status, 'data-version': String(inc.version), 'data-shown-at': String(state.shownAt.get(inc.id)), tabIndex: 0 },
        el('td', {}, el('span', { class: `sev sev-${inc.severity}`, text: t(`level.${inc.severity}`) })),
        el('td', { text: String(inc.layer) }),
        rule,
        el('td', { text: inc.unit ?? t('detail.none') }),
        el('td', { text: inc.host.join(', ') }),
        el('td', { text: String(inc.alert_count) }),
        el('td', { class: `status status-${inc.status}`, text: t(`status.${inc.status}`) }),
        el('td', { text: fmtTime(inc.last_seen) }),
      );
      tr.addEventListener('click', () => openDetail(inc.id));
      tr.addEventListener('keydown', (e) => e.key === 'Enter' && openDetail(inc.id));
      return tr;
    }),
  );
}

function renderCounts() {
  const counts = [0, 0, 0, 0];
  for (const i of state.incidents.values()) if (OPEN.has(i.status)) counts[i.layer - 1] += 1;
  $('#layer-counts').replaceChildren(...counts.map((n, i) => el('li', { class: `layer layer-${i + 1}`, 'data-layer': String(i + 1) }, el('b', { text: t('header.layer', { n: i + 1 }) }), el('span', { text: ` ${n}` }))));
}

/** New alerts redraw the chart, at most every 5 s (a burst of changes is one query). */
function scheduleChart() {
  if (state.chartPending) return;
  state.chartPending = setTimeout(() => {
    state.chartPending = null;
    refreshChart();
  }, 5000);
}

async function refreshChart() {
  const res = await api('/api/alerts/histogram?minutes=60').catch(() => null);
  if (res?.status !== 200) return;
  const { buckets } = await res.json();
  const canvas = $('#chart');
  const g = canvas.getContext('2d');
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const w = canvas.width / Math.max(1, buckets.length);
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = getComputedStyle(canvas).color;
  buckets.forEach((b, i) => {
    const h = Math.round((b.count / max) * (canvas.height - 2));
    g.fillRect(i * w, canvas.height - h, Math.max(1, w - 1), h);
  });
  canvas.title = `${buckets.reduce((s, b) => s + b.count, 0)}`;
}

// --- detail --------------------------------------------------------------------------------------

$('#close-detail').addEventListener('click', () => {
  state.selected = null;
  $('#detail').hidden = true;
  renderAll();
});

async function openDetail(id, attempt = 0) {
  state.selected = id;
  if (attempt === 0) renderAll();
  const res = await api(`/api/incidents/${encodeURIComponent(id)}`).catch(() => null);
  if (res?.status !== 200 || state.selected !== id) return;
  const { incident, alerts, events } = await res.json();
  $('#detail').hidden = false;
  const live = state.incidents.get(id);
  renderDetailIncident(live && live.version > incident.version ? live : incident);
  $('#detail').dataset.alerts = String(alerts.length);
  $('#detail-alerts tbody').replaceChildren(
    ...alerts.map((a) => el('tr', {}, el('td', { text: fmtTime(a['@timestamp']) }), el('td', { text: a.host.join(', ') }), el('td', { text: String(a.event_count) }), el('td', { text: a.group_key }))),
  );
  $('#detail-events').replaceChildren(
    ...events.map(({ event }) => el('pre', { class: 'raw', text: String(event?.event?.original ?? JSON.stringify(event)) })),
  );
  // Alerts become searchable about a second after they are written: fetch again until they are all there.
  if (alerts.length < incident.alert_count && attempt < 5) setTimeout(() => state.selected === id && openDetail(id, attempt + 1), 1000);
}

function renderDetailIncident(inc) {
  $('#detail').dataset.id = inc.id;
  $('#detail').dataset.status = inc.status;
  $('#detail-title').replaceChildren(...[inc.drill ? el('span', { class: 'badge drill', text: `${t('badge.drill')} ${inc.drill}` }) : null, el('span', { text: inc.rule.title })].filter(Boolean));
  const facts = [
    ['id', inc.id],
    ['status', t(`status.${inc.status}`)],
    ['layer', String(inc.layer)],
    ['severity', t(`level.${inc.severity}`)],
    ['unit', inc.unit ?? t('detail.none')],
    ['hosts', inc.host.join(', ')],
    ['assignee', inc.assignee ?? t('detail.none')],
    ['first_seen', fmtTime(inc.first_seen)],
    ['last_seen', fmtTime(inc.last_seen)],
    ['alert_count', String(inc.alert_count)],
    ['report_due', fmtTime(inc.report_due)],
    ['drill', inc.drill ?? t('detail.none')],
  ];
  $('#detail-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: t(`fact.${k}`) }), el('dd', { text: v, 'data-fact': k })]));
  $('#detail-runbook').textContent = reveal(inc.runbook ?? t('detail.none'));
  $('#detail-timeline').replaceChildren(
    ...inc.timeline.map((e) => el('li', {}, el('time', { text: fmtTime(e.at) }), el('b', { text: ` ${e.actor} ` }), el('span', { text: t(`action.${e.action}`) }), e.note ? el('q', { text: e.note }) : null)),
  );
  const canAct = ROLE_RANK[state.me?.role] >= ROLE_RANK.responder;
  $('#actions').hidden = !canAct;
  if (canAct) {
    $('#action-buttons').replaceChildren(
      ...ACTIONS.map((a) => {
        const b = el('button', { type: 'button', text: t(`action.${a}`), 'data-action': a });
        b.addEventListener('click', () => act(inc.id, a));
        return b;
      }),
    );
  }
}

async function act(id, action) {
  const text = $('#action-text').value.trim();
  if (NEEDS_TEXT.has(action) && !text) {
    $('#action-error').textContent = t('action.needs_text');
    return;
  }
  const body = { action };
  if (action === 'assign') body.assignee = text;
  else if (text) body.note = text;
  const res = await api(`/api/incidents/${encodeURIComponent(id)}/actions`, { method: 'POST', body: JSON.stringify(body) }).catch(() => null);
  if (!res) return;
  const out = await res.json();
  $('#action-error').textContent = res.status === 200 ? '' : out.message;
  if (res.status === 200) {
    $('#action-text').value = '';
    onMessage({ type: 'change', cursor: state.cursor, change: { type: 'updated', at: new Date().toISOString(), incident: out.incident } });
  }
}

loadMessages().then(start);
