// The console page: plain DOM, no framework. Everything that comes from logs or incidents is put in the
// page with textContent, never as HTML.

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'];
const STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'];
const OPEN = new Set(['new', 'acknowledged']);
/** Actions that hand the incident on or end it: they ask for a reason and a confirmation. */
const NEEDS_REASON = ['escalate', 'resolve', 'false_positive'];
const ROLE_RANK = { viewer: 0, responder: 1, admin: 2 };
const PAGE_SIZE = 50;
const ALERTS_PER_PAGE = 10;
/** A search fetches at most this many matches (4 API pages); the rest is narrowed with filters. */
const SEARCH_LIMIT = 2000;
const FILTER_KEYS = ['q', 'status', 'layer', 'severity', 'host', 'rule', 'unit', 'drill', 'from', 'to'];

const state = {
  lang: initialLang(),
  messages: {},
  en: {},
  me: null,
  users: [],
  /** Rule id -> its texts and their `vi:` wording (GET /api/rules/texts). */
  ruleTexts: {},
  incidents: new Map(),
  /** Matches of a search the API answered (q, time range or closed statuses); null: the live open set. */
  results: null,
  resultsTotal: 0,
  searchSeq: 0,
  shownAt: new Map(),
  /** When incidents that arrived live (not in the first snapshot) came: their rows are highlighted a while. */
  arrivedAt: new Map(),
  /** Incidents changed since the list was last drawn: patched in place when their row keeps its position. */
  dirty: new Set(),
  /** Set when a change needs the whole list drawn again (an incident purged, a row moving). */
  redraw: false,
  /** state.rows index by incident id, for patching one row without sorting thousands again. */
  rowIndex: new Map(),
  cursor: null,
  ws: null,
  retryMs: 500,
  selected: null,
  detail: null,
  alertPage: 1,
  checked: new Set(),
  rows: [],
  focus: -1,
  page: 1,
  sort: { key: 'last_seen', dir: 'desc' },
  chartTimer: null,
  chartPending: null,
};

const $ = (sel) => document.querySelector(sel);

function initialLang() {
  const saved = localStorage.getItem('canhgac.lang');
  if (saved === 'vi' || saved === 'en') return saved;
  return (navigator.languages?.[0] ?? navigator.language ?? 'en').toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

// Characters that reorder the text around them (bidi overrides, isolates, marks), that show as nothing
// (zero-width, fillers) or that are controls: shown escaped, so that a host named "\u202Eexe.tsoh"
// cannot pass for "host.exe" and a hidden character in a user or file name is seen.
const HIDDEN_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFF9-\uFFFB]/g;

function reveal(text) {
  return String(text).replace(HIDDEN_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

function t(key, vars = {}) {
  const text = state.messages[key] ?? state.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** A message with a count: `key.one` where the language's plural rules say "one" and the file has it. */
function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(state.lang).select(n);
  const k = state.messages[`${key}.${form}`] ? `${key}.${form}` : key;
  return t(k, { ...vars, n: fmtNumber(n) });
}

/** A new element with text content only (hidden characters revealed); children appended as given. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') node.textContent = reveal(v);
    else if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

async function loadMessages() {
  const [mine, en] = await Promise.all([
    fetch(`/i18n/${state.lang}.json`).then((r) => r.json()),
    state.en['lang.switch'] ? state.en : fetch('/i18n/en.json').then((r) => r.json()),
  ]);
  state.messages = mine;
  state.en = en;
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  $('#lang').textContent = t('lang.switch');
  setLinkState($('#link-state').dataset.state);
  renderAll();
  renderAssignees();
  if (state.detail) renderDetail();
  if (!$('#handover').hidden) loadHandover();
}

/** Formatters per language, made once: building one per cell costs more than the rest of a row. */
const formats = new Map();
function formatsFor(lang) {
  if (!formats.has(lang)) {
    const loc = lang === 'vi' ? 'vi-VN' : 'en-GB';
    formats.set(lang, {
      // Local time with the zone named, so that a time copied into a report is never ambiguous.
      time: new Intl.DateTimeFormat(loc, {
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
      }),
      number: new Intl.NumberFormat(loc),
      // Ages as "5m", "3h", "2d": the age column must fit a phone.
      age: Object.fromEntries(['minute', 'hour', 'day'].map((unit) => [unit, new Intl.NumberFormat(loc, { style: 'unit', unit, unitDisplay: 'narrow' })])),
    });
  }
  return formats.get(lang);
}

function fmtTime(iso) {
  if (!iso) return t('detail.none');
  return formatsFor(state.lang).time.format(new Date(iso));
}

const fmtNumber = (n) => formatsFor(state.lang).number.format(Number(n));

function fmtAge(iso) {
  const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60_000));
  const { age } = formatsFor(state.lang);
  if (minutes < 60) return age.minute.format(minutes);
  if (minutes < 48 * 60) return age.hour.format(Math.round(minutes / 60));
  return age.day.format(Math.round(minutes / 1440));
}

/** The rule's title in the page's language: a rule's `vi:` title when Vietnamese is chosen. */
function ruleTitle(inc) {
  return (state.lang === 'vi' && state.ruleTexts[inc.rule.id]?.vi?.title) || inc.rule.title;
}

/** The rule's description in the page's language (from /api/rules/texts: incidents do not carry it). */
function descriptionOf(inc) {
  const texts = state.ruleTexts[inc.rule.id];
  return (state.lang === 'vi' && texts?.vi?.description) || texts?.description || null;
}

function runbookOf(inc) {
  return (state.lang === 'vi' && state.ruleTexts[inc.rule.id]?.vi?.runbook) || inc.runbook;
}

async function loadRuleTexts() {
  const res = await api('/api/rules/texts').catch(() => null);
  if (res?.status !== 200) return;
  state.ruleTexts = (await res.json()).rules;
  renderAll();
  if (state.detail) renderDetail();
}

/** Statuses the page does not know yet (a later state such as a withdrawn early incident) show by their key. */
const statusText = (status) => (state.messages[`status.${status}`] ? t(`status.${status}`) : status);

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
  $('#handover').hidden = true;
  $('#detail').hidden = true;
  $('#logout').hidden = true;
  $('#handover-link').hidden = true;
  $('#chart-box').hidden = true;
  // Before a session there is no stream to be connected to: no state badge at all.
  $('#link-state').hidden = true;
  $('#whoami').textContent = '';
}

async function start() {
  const res = await fetch('/api/me', { credentials: 'same-origin' });
  if (res.status !== 200) return showLogin();
  state.me = await res.json();
  const mine = localStorage.getItem(`canhgac.lang.${state.me.username}`);
  if ((mine === 'vi' || mine === 'en') && mine !== state.lang) {
    state.lang = mine;
    await loadMessages();
  }
  $('#login').hidden = true;
  $('#logout').hidden = false;
  $('#handover-link').hidden = false;
  $('#chart-box').hidden = false;
  $('#link-state').hidden = false;
  $('#whoami').textContent = reveal(`${state.me.username} (${t(`role.${state.me.role}`)})`);
  if (ROLE_RANK[state.me.role] >= ROLE_RANK.responder) loadUsers();
  loadRuleTexts();
  readFiltersFromUrl();
  connect();
  route();
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
  if (state.me) localStorage.setItem(`canhgac.lang.${state.me.username}`, state.lang);
  loadMessages();
});

async function loadUsers() {
  const res = await api('/api/users').catch(() => null);
  if (res?.status !== 200) return;
  state.users = (await res.json()).users;
  renderAssignees();
}

function renderAssignees() {
  for (const select of [$('#assignee'), $('#bulk-assignee')]) {
    const current = select.value;
    select.replaceChildren(
      el('option', { value: '', text: t('assign.pick') }),
      ...state.users.map((u) => el('option', { value: u.username, text: `${u.username} (${t(`role.${u.role}`)})` })),
    );
    select.value = current;
  }
}

// --- routes: #/?filters, #/incidents/ID?filters, #/handover ---------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, params: new URLSearchParams(query) };
}

/** The list's filters, sort and page as a query string: a link with it reproduces the view. */
function listQuery() {
  const q = new URLSearchParams();
  const f = filters();
  for (const k of FILTER_KEYS) if (f[k] && !(k === 'status' && f[k] === 'open')) q.set(k, f[k]);
  if (f.status === '') q.set('status', 'all');
  if (state.sort.key !== 'last_seen' || state.sort.dir !== 'desc') q.set('sort', `${state.sort.key}.${state.sort.dir}`);
  if (state.page > 1) q.set('page', String(state.page));
  return q.toString();
}

function writeUrl(path = state.selected ? `/incidents/${encodeURIComponent(state.selected)}` : '/') {
  const query = listQuery();
  history.replaceState(null, '', `#${path}${query ? `?${query}` : ''}`);
}

function readFiltersFromUrl() {
  const { params } = parseHash();
  const form = $('#filters');
  for (const k of FILTER_KEYS) {
    const input = form.elements.namedItem(k);
    const v = params.get(k);
    if (k === 'status') input.value = v === 'all' ? '' : (v ?? 'open');
    else input.value = v ?? '';
  }
  const [key, dir] = (params.get('sort') ?? 'last_seen.desc').split('.');
  state.sort = { key, dir: dir === 'asc' ? 'asc' : 'desc' };
  state.page = Math.max(1, Number(params.get('page')) || 1);
  refreshResults();
}

function route() {
  if (!state.me) return;
  const { path, params } = parseHash();
  const inHandover = path === '/handover';
  $('#handover').hidden = !inHandover;
  $('#console').hidden = inHandover;
  if (inHandover) {
    closeDetail(false);
    const since = params.get('since');
    const input = $('#handover-form').elements.namedItem('since');
    input.value = toLocalInput(since ?? new Date(Date.now() - 12 * 3600_000).toISOString());
    loadHandover();
    return;
  }
  const m = /^\/incidents\/(.+)$/.exec(path);
  if (m) openDetail(decodeURIComponent(m[1]));
  else closeDetail(false);
}

window.addEventListener('hashchange', () => {
  if (!state.me) return;
  readFiltersFromUrl();
  route();
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
      for (const i of msg.incidents) {
        if (!before.size || before.has(i.id)) continue;
        state.arrivedAt.set(i.id, Date.now());
        announce(i);
      }
      renderAll();
      break;
    }
    case 'change': {
      state.cursor = msg.cursor;
      applyChange(msg.change);
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

/**
 * A burst of changes (a bulk action, a correlator batch) is drawn once, in the next frame: rows that keep
 * their place are replaced one by one; anything else (a row moving, appearing or leaving) draws the list
 * again. With thousands of incidents in view, an acknowledgement then costs one row, not a sort.
 */
let renderQueued = false;
function scheduleRender(redraw) {
  if (redraw) state.redraw = true;
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    if (state.redraw || !patchRows()) renderAll();
  });
}

/** Draws the changed incidents into their rows; false when one of them has to move (the caller redraws). */
function patchRows() {
  const f = filters();
  const order = rowOrder();
  const source = state.results ?? state.incidents;
  const patches = [];
  for (const id of state.dirty) {
    const inc = source.get(id);
    const at = state.rowIndex.get(id);
    const shows = inc !== undefined && visible(inc, f);
    if (at === undefined) {
      if (shows) return false;
      continue;
    }
    if (!shows) return false;
    // Placed at once, so that two changed neighbours are compared as they are now (a false redraws anyway).
    const rows = state.rows;
    rows[at] = inc;
    if ((at > 0 && order(rows[at - 1], inc) > 0) || (at < rows.length - 1 && order(inc, rows[at + 1]) > 0)) return false;
    patches.push([at, inc]);
  }
  state.dirty.clear();
  const first = (state.page - 1) * PAGE_SIZE;
  const now = Date.now();
  for (const [at, inc] of patches) {
    if (at < first || at >= first + PAGE_SIZE) continue;
    const old = document.querySelector(`#incidents tbody tr[data-id="${CSS.escape(inc.id)}"]`);
    if (!old) continue;
    const tr = row(inc, now);
    const focused = document.activeElement === old;
    old.replaceWith(tr);
    if (focused) tr.focus();
  }
  renderCounts();
  renderBulk();
  return true;
}

function applyChange(change) {
  const inc = change.incident;
  const known = state.incidents.get(inc.id) ?? state.results?.get(inc.id);
  if (change.type === 'purged') {
    // A purged drill leaves the page at once: the list, a search's matches, the selection and the detail.
    state.incidents.delete(inc.id);
    state.results?.delete(inc.id);
    state.checked.delete(inc.id);
    state.arrivedAt.delete(inc.id);
    if (state.selected === inc.id) closeDetail(true);
    scheduleRender(true);
    return;
  }
  if (!known || known.version < inc.version) {
    state.incidents.set(inc.id, inc);
    if (state.results?.has(inc.id)) state.results.set(inc.id, inc);
  }
  if (!known) {
    state.arrivedAt.set(inc.id, Date.now());
    announce(inc);
  }
  if (!known || inc.alert_count !== known.alert_count) scheduleChart();
  state.dirty.add(inc.id);
  scheduleRender();
  if (state.selected === inc.id && state.detail) {
    if (known && inc.alert_count > known.alert_count) openDetail(inc.id, 1);
    else if (state.detail.incident.version <= inc.version) {
      state.detail.incident = inc;
      renderDetail();
    }
  }
}

function announce(inc) {
  $('#announce').textContent = reveal(t('announce.new', { title: ruleTitle(inc) }));
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

/** The live stream holds the open incidents; anything else (free text, a time range, closed ones) asks the API. */
const needsSearch = (f) => Boolean(f.q || f.from || f.to || f.status !== 'open');

const contains = (hay, needle) =>
  String(hay ?? '')
    .toLowerCase()
    .includes(needle.toLowerCase());

function visible(inc, f) {
  if (f.status === 'open' && !OPEN.has(inc.status)) return false;
  if (f.status && f.status !== 'open' && inc.status !== f.status) return false;
  if (f.layer && String(inc.layer) !== f.layer) return false;
  if (f.severity && inc.severity !== f.severity) return false;
  if (f.unit && !contains(inc.unit, f.unit)) return false;
  if (f.host && !inc.host.some((h) => contains(h, f.host))) return false;
  if (f.rule && !contains(inc.rule.title, f.rule) && !contains(ruleTitle(inc), f.rule) && !contains(inc.rule.id, f.rule)) return false;
  if (f.drill === 'none' && inc.drill) return false;
  if (f.drill === 'any' && !inc.drill) return false;
  return true;
}

const toIso = (local) => (local ? new Date(local).toISOString() : '');
function toLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

let filterTimer = null;
$('#filters').addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    state.page = 1;
    writeUrl();
    refreshResults();
  }, 200);
});
$('#filters').addEventListener('submit', (e) => e.preventDefault());

/** Runs the API search a filter needs (or drops it), then redraws; an older search answering late is ignored. */
async function refreshResults() {
  const f = filters();
  const seq = ++state.searchSeq;
  if (!needsSearch(f)) {
    state.results = null;
    renderAll();
    return;
  }
  const q = new URLSearchParams({ size: '500' });
  if (f.status === 'open') {
    q.append('status', 'new');
    q.append('status', 'acknowledged');
  } else if (f.status) q.set('status', f.status);
  for (const k of ['layer', 'severity', 'q']) if (f[k]) q.set(k, f[k]);
  if (f.drill) q.set('drill', f.drill);
  if (f.from) q.set('from', toIso(f.from));
  if (f.to) q.set('to', toIso(f.to));
  const found = new Map();
  let total = 0;
  for (let page = 1; found.size < SEARCH_LIMIT; page++) {
    q.set('page', String(page));
    const res = await api(`/api/incidents?${q}`).catch(() => null);
    if (res?.status !== 200 || seq !== state.searchSeq) return;
    const body = await res.json();
    total = body.total;
    for (const inc of body.incidents) {
      const live = state.incidents.get(inc.id);
      found.set(inc.id, live && live.version > inc.version ? live : inc);
    }
    if (found.size >= total || body.incidents.length < 500) break;
  }
  if (seq !== state.searchSeq) return;
  state.results = found;
  state.resultsTotal = total;
  renderAll();
}

/** Plain code-unit order: ISO times of one format sort as strings, and a 5,000-row sort stays in milliseconds. */
const cmpStr = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const SORTS = {
  severity: (a, b) => LEVELS.indexOf(a.severity) - LEVELS.indexOf(b.severity),
  layer: (a, b) => a.layer - b.layer,
  rule: (a, b) => cmpStr(a.rule.title.toLowerCase(), b.rule.title.toLowerCase()),
  unit: (a, b) => cmpStr(a.unit ?? '', b.unit ?? ''),
  hosts: (a, b) => cmpStr(a.host[0] ?? '', b.host[0] ?? ''),
  alerts: (a, b) => a.alert_count - b.alert_count,
  status: (a, b) => STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status),
  age: (a, b) => cmpStr(b.first_seen, a.first_seen),
  last_seen: (a, b) => cmpStr(a.last_seen, b.last_seen),
};

for (const th of document.querySelectorAll('#incidents th[data-sort]')) {
  th.tabIndex = 0;
  const sortBy = () => {
    const key = th.dataset.sort;
    state.sort = { key, dir: state.sort.key === key && state.sort.dir === 'desc' ? 'asc' : 'desc' };
    state.page = 1;
    writeUrl();
    renderAll();
  };
  th.addEventListener('click', sortBy);
  th.addEventListener('keydown', (e) => e.key === 'Enter' && sortBy());
}

/** The list's order: the chosen column, then the latest activity, then the id (a total order). */
function rowOrder() {
  const cmp = SORTS[state.sort.key] ?? SORTS.last_seen;
  const sign = state.sort.dir === 'asc' ? 1 : -1;
  return (a, b) => sign * cmp(a, b) || cmpStr(b.last_seen, a.last_seen) || cmpStr(a.id, b.id);
}

function sortedRows() {
  const f = filters();
  const source = state.results ?? state.incidents;
  return [...source.values()].filter((i) => visible(i, f)).sort(rowOrder());
}

function renderAll() {
  if (!state.me) return;
  renderCounts();
  state.dirty.clear();
  state.redraw = false;
  state.rows = sortedRows();
  state.rowIndex = new Map(state.rows.map((inc, at) => [inc.id, at]));
  const pages = Math.max(1, Math.ceil(state.rows.length / PAGE_SIZE));
  if (state.page > pages) state.page = pages;
  const shown = state.rows.slice((state.page - 1) * PAGE_SIZE, state.page * PAGE_SIZE);
  const now = Date.now();
  const tbody = $('#incidents tbody');
  tbody.replaceChildren(...shown.map((inc) => row(inc, now)));
  tbody.dataset.page = String(state.page);
  for (const th of document.querySelectorAll('#incidents th[data-sort]')) {
    th.setAttribute('aria-sort', th.dataset.sort === state.sort.key ? (state.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none');
  }
  const more = state.results && state.resultsTotal > state.results.size ? ` ${t('list.more', { n: fmtNumber(state.resultsTotal) })}` : '';
  $('#page-info').textContent = `${tn('list.page', state.rows.length, { page: fmtNumber(state.page), pages: fmtNumber(pages) })}${more}`;
  $('#page-prev').disabled = state.page <= 1;
  $('#page-next').disabled = state.page >= pages;
  $('#select-page').checked = shown.length > 0 && shown.every((i) => state.checked.has(i.id));
  renderBulk();
}

function row(inc, now) {
  if (!state.shownAt.has(inc.id)) state.shownAt.set(inc.id, now);
  // Only what arrived while the page was open is highlighted: a first load does not flash every row.
  const fresh = now - (state.arrivedAt.get(inc.id) ?? 0) < 10_000;
  const rule = el('td', { class: 'c-rule' }, el('span', { text: ruleTitle(inc) }));
  if (inc.drill) rule.prepend(el('span', { class: 'badge drill', text: `${t('badge.drill')} ${inc.drill}` }));
  const box = el('input', { type: 'checkbox', checked: state.checked.has(inc.id), 'aria-label': t('list.select') });
  box.addEventListener('click', (e) => e.stopPropagation());
  box.addEventListener('change', () => {
    if (box.checked) state.checked.add(inc.id);
    else state.checked.delete(inc.id);
    renderBulk();
  });
  const tr = el(
    'tr',
    {
      class: `sev-${inc.severity}${fresh ? ' fresh' : ''}${state.selected === inc.id ? ' selected' : ''}`,
      'data-id': inc.id,
      'data-status': inc.status,
      'data-version': String(inc.version),
      'data-shown-at': String(state.shownAt.get(inc.id)),
      tabIndex: 0,
    },
    el('td', { class: 'c-sel' }, box),
    el('td', { class: 'c-sev' }, el('span', { class: `sev sev-${inc.severity}`, text: t(`level.${inc.severity}`) })),
    el('td', { class: 'c-layer', text: fmtNumber(inc.layer) }),
    rule,
    el('td', { class: 'c-unit', text: inc.unit ?? t('detail.none') }),
    el('td', { class: 'c-hosts hosts', text: inc.host.join(', ') || t('detail.none') }),
    el('td', { class: 'c-alerts', text: fmtNumber(inc.alert_count) }),
    el('td', { class: `c-status status status-${inc.status}`, text: statusText(inc.status) }),
    el('td', { class: 'c-age', text: fmtAge(inc.first_seen), title: fmtTime(inc.first_seen) }),
    el('td', { class: 'c-last', text: fmtTime(inc.last_seen) }),
  );
  tr.addEventListener('click', () => showIncident(inc.id));
  return tr;
}

$('#page-prev').addEventListener('click', () => gotoPage(state.page - 1));
$('#page-next').addEventListener('click', () => gotoPage(state.page + 1));
function gotoPage(n) {
  state.page = Math.max(1, n);
  state.focus = -1;
  writeUrl();
  renderAll();
}

$('#select-page').addEventListener('change', (e) => {
  const shown = state.rows.slice((state.page - 1) * PAGE_SIZE, state.page * PAGE_SIZE);
  for (const inc of shown) {
    if (e.target.checked) state.checked.add(inc.id);
    else state.checked.delete(inc.id);
  }
  renderAll();
});

function renderBulk() {
  const canAct = ROLE_RANK[state.me?.role] >= ROLE_RANK.responder;
  for (const id of state.checked) if (!state.incidents.has(id) && !state.results?.has(id)) state.checked.delete(id);
  $('#bulk').hidden = !canAct || state.checked.size === 0;
  $('#bulk-count').textContent = t('bulk.selected', { n: fmtNumber(state.checked.size) });
}

async function bulk(body) {
  const res = await api('/api/incidents/actions', { method: 'POST', body: JSON.stringify({ ...body, ids: [...state.checked] }) }).catch(() => null);
  if (!res) return;
  const out = await res.json();
  if (res.status !== 200) {
    $('#bulk-error').textContent = reveal(out.message ?? out.error);
    return;
  }
  const failed = out.results.filter((r) => !r.ok);
  $('#bulk-error').textContent = failed.length
    ? reveal(t('bulk.failed', { n: fmtNumber(failed.length), why: failed.map((r) => `${r.id}: ${r.message}`).join('; ') }))
    : '';
  for (const r of out.results) if (r.ok) applyChange({ type: 'updated', at: new Date().toISOString(), incident: r.incident });
  state.checked.clear();
  renderAll();
}
$('#bulk-ack').addEventListener('click', () => bulk({ action: 'acknowledge' }));
$('#bulk-assign').addEventListener('click', () => {
  const assignee = $('#bulk-assignee').value;
  if (!assignee) {
    $('#bulk-error').textContent = t('assign.pick');
    return;
  }
  bulk({ action: 'assign', assignee });
});

function renderCounts() {
  const counts = [0, 0, 0, 0];
  for (const i of state.incidents.values()) if (OPEN.has(i.status)) counts[i.layer - 1] += 1;
  $('#layer-counts').replaceChildren(
    ...counts.map((n, i) =>
      el(
        'li',
        { class: `layer layer-${i + 1}`, 'data-layer': String(i + 1) },
        el('b', { text: t('header.layer', { n: i + 1 }) }),
        el('span', { text: ` ${fmtNumber(n)}` }),
      ),
    ),
  );
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

// --- keyboard: j/k move, Enter opens, Esc closes -------------------------------------------------

document.addEventListener('keydown', (e) => {
  if (!state.me) return;
  if (e.key === 'Escape') {
    if ($('#confirm').open) return;
    if (state.selected) {
      e.preventDefault();
      closeDetail(true);
    }
    return;
  }
  if (e.target.closest('input, textarea, select, dialog') || e.ctrlKey || e.metaKey || e.altKey) return;
  const trs = [...document.querySelectorAll('#incidents tbody tr')];
  if (!trs.length) return;
  if (e.key === 'j' || e.key === 'k') {
    const current = trs.indexOf(document.activeElement);
    const from = current >= 0 ? current : state.focus;
    state.focus = Math.min(trs.length - 1, Math.max(0, from + (e.key === 'j' ? 1 : -1)));
    trs[state.focus].focus();
    e.preventDefault();
  } else if (e.key === 'Enter' && document.activeElement?.matches('#incidents tbody tr')) {
    showIncident(document.activeElement.dataset.id);
    e.preventDefault();
  }
});

// --- detail --------------------------------------------------------------------------------------

$('#close-detail').addEventListener('click', () => closeDetail(true));

/** Opening goes through the URL, so that the address bar always links to what is on screen. */
function showIncident(id) {
  location.hash = `#/incidents/${encodeURIComponent(id)}${listQuery() ? `?${listQuery()}` : ''}`;
}

function closeDetail(updateUrl) {
  const was = state.selected;
  state.selected = null;
  state.detail = null;
  $('#detail').hidden = true;
  if (updateUrl) writeUrl('/');
  if (was) {
    renderAll();
    document.querySelector(`#incidents tr[data-id="${CSS.escape(was)}"]`)?.focus();
  }
}

async function openDetail(id, attempt = 0) {
  const switching = state.selected !== id;
  state.selected = id;
  if (switching) {
    state.alertPage = 1;
    renderAll();
  }
  const res = await api(`/api/incidents/${encodeURIComponent(id)}`).catch(() => null);
  if (state.selected !== id) return;
  if (res?.status !== 200) {
    state.detail = null;
    $('#detail').hidden = false;
    $('#detail').dataset.id = id;
    $('#detail-title').textContent = reveal(t('detail.not_found', { id }));
    for (const s of ['#detail-facts', '#detail-timeline', '#detail-events']) $(s).replaceChildren();
    $('#actions').hidden = true;
    return;
  }
  const body = await res.json();
  const live = state.incidents.get(id);
  if (live && live.version > body.incident.version) body.incident = live;
  // Newest first: the alert a responder is looking for is usually the last one.
  body.alerts.sort((a, b) => Date.parse(b['@timestamp']) - Date.parse(a['@timestamp']));
  const firstOpen = $('#detail').hidden || switching;
  state.detail = body;
  renderDetail();
  if (firstOpen) $('#detail').focus();
  // Alerts become searchable about a second after they are written: fetch again until they are all there.
  if (body.alerts.length < body.incident.alert_count && attempt < 5) setTimeout(() => state.selected === id && openDetail(id, attempt + 1), 1000);
}

function renderDetail() {
  const { incident: inc, alerts } = state.detail;
  const detail = $('#detail');
  // Below the (sticky) header, whose height depends on the width; a phone gives the detail the whole screen.
  detail.style.top = matchMedia('(max-width: 640px)').matches ? '0' : `${Math.ceil($('#top').getBoundingClientRect().height)}px`;
  detail.hidden = false;
  detail.dataset.id = inc.id;
  detail.dataset.status = inc.status;
  detail.dataset.alerts = String(alerts.length);
  $('#detail-title').replaceChildren(
    ...[inc.drill ? el('span', { class: 'badge drill', text: `${t('badge.drill')} ${inc.drill}` }) : null, el('span', { text: ruleTitle(inc) })].filter(
      Boolean,
    ),
  );
  const facts = [
    ['id', inc.id],
    ['status', statusText(inc.status)],
    ['layer', fmtNumber(inc.layer)],
    ['severity', t(`level.${inc.severity}`)],
    ['unit', inc.unit ?? t('detail.none')],
    ['hosts', inc.host.join(', ') || t('detail.none')],
    ['assignee', inc.assignee ?? t('detail.none')],
    ['first_seen', fmtTime(inc.first_seen)],
    ['last_seen', fmtTime(inc.last_seen)],
    ['alert_count', fmtNumber(inc.alert_count)],
    ['report_due', fmtTime(inc.report_due)],
    ['drill', inc.drill ?? t('detail.none')],
  ];
  $('#detail-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: t(`fact.${k}`) }), el('dd', { text: v, 'data-fact': k })]));
  $('#detail-description').textContent = reveal(descriptionOf(inc) ?? t('detail.none'));
  $('#detail-runbook').textContent = reveal(runbookOf(inc) ?? t('detail.none'));
  $('#detail-timeline').replaceChildren(...inc.timeline.map(timelineItem));
  const canAct = ROLE_RANK[state.me?.role] >= ROLE_RANK.responder;
  $('#actions').hidden = !canAct;
  if (canAct) {
    const buttons = ['acknowledge', ...NEEDS_REASON].map((a) => {
      const b = el('button', { type: 'button', text: t(`action.${a}`), 'data-action': a });
      b.addEventListener('click', () => (NEEDS_REASON.includes(a) ? confirmAction(inc, a) : act(inc.id, { action: a })));
      return b;
    });
    $('#action-buttons').replaceChildren(...buttons);
  }
  renderAlerts();
}

/** One timeline entry in words: who did what, in local time with the zone. */
function timelineItem(e) {
  const vars = { actor: e.actor, to: typeof e.to === 'string' ? e.to : '', from: typeof e.from === 'string' ? e.from : '' };
  if (e.action === 'escalate') Object.assign(vars, { from: e.from?.layer ?? '', to: e.to?.layer ?? '' });
  if (e.action === 'assign' && !e.to) vars.to = t('detail.none');
  const known = state.en[`timeline.${e.action}`] !== undefined;
  const text = known ? t(`timeline.${e.action}`, vars) : t('timeline.other', { ...vars, action: e.action });
  return el(
    'li',
    { 'data-action': e.action },
    el('time', { text: fmtTime(e.at), dateTime: e.at }),
    el('span', { text: ` ${text}` }),
    e.reason ? el('span', { class: 'reason', text: ` — ${t('timeline.reason', { reason: e.reason })}` }) : null,
    e.note ? el('q', { text: e.note }) : null,
  );
}

$('#alerts-prev').addEventListener('click', () => {
  state.alertPage -= 1;
  renderAlerts();
});
$('#alerts-next').addEventListener('click', () => {
  state.alertPage += 1;
  renderAlerts();
});

/** Flattened ECS fields of one event (event.original is shown as the raw line beside them). */
function ecsFields(obj, prefix = '', out = []) {
  for (const [k, v] of Object.entries(obj ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (key === 'event.original') continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) ecsFields(v, key, out);
    else out.push([key, Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return out;
}

function renderAlerts() {
  const { alerts } = state.detail;
  const pages = Math.max(1, Math.ceil(alerts.length / ALERTS_PER_PAGE));
  state.alertPage = Math.min(Math.max(1, state.alertPage), pages);
  $('#alerts-info').textContent = tn('detail.alerts_page', alerts.length, { page: fmtNumber(state.alertPage), pages: fmtNumber(pages) });
  $('#alerts-prev').disabled = state.alertPage <= 1;
  $('#alerts-next').disabled = state.alertPage >= pages;
  const shown = alerts.slice((state.alertPage - 1) * ALERTS_PER_PAGE, state.alertPage * ALERTS_PER_PAGE);
  $('#detail-events').replaceChildren(
    ...shown.map((a) =>
      el(
        'section',
        { class: 'alert', 'data-alert': a.id },
        el('h4', { text: `${fmtTime(a['@timestamp'])} · ${a.host.join(', ') || t('detail.none')} · ${tn('detail.event_count', a.event_count)}` }),
        ...a.events.map((event) => {
          const fields = ecsFields(event);
          return el(
            'div',
            { class: 'event' },
            el('pre', { class: 'raw', text: String(event?.event?.original ?? JSON.stringify(event)) }),
            el('dl', { class: 'ecs' }, ...fields.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])),
            el('details', { class: 'json' }, el('summary', { text: t('detail.json') }), el('pre', { text: JSON.stringify(event, null, 2) })),
          );
        }),
      ),
    ),
  );
}

$('#assign').addEventListener('click', () => {
  const assignee = $('#assignee').value;
  if (!assignee) {
    $('#action-error').textContent = t('assign.pick');
    return;
  }
  act(state.selected, { action: 'assign', assignee });
});

$('#comment').addEventListener('click', () => {
  const note = $('#note-text').value.trim();
  if (!note) {
    $('#action-error').textContent = t('action.needs_note');
    return;
  }
  act(state.selected, { action: 'comment', note }).then((ok) => ok && ($('#note-text').value = ''));
});

/** Escalate, resolve and false positive: a dialog asks why, and the action only runs on its confirm. */
function confirmAction(inc, action) {
  const dialog = $('#confirm');
  const form = $('#confirm-form');
  form.reset();
  $('#confirm-error').textContent = '';
  $('#confirm-title').textContent = reveal(t(`confirm.${action}`, { layer: inc.layer + 1, title: ruleTitle(inc) }));
  $('#confirm-ok').textContent = t(`action.${action}`);
  dialog.dataset.action = action;
  dialog.dataset.id = inc.id;
  dialog.showModal();
}

$('#confirm-cancel').addEventListener('click', () => $('#confirm').close());
$('#confirm-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const dialog = $('#confirm');
  const reason = String(new FormData(e.target).get('reason') ?? '').trim();
  if (!reason) {
    $('#confirm-error').textContent = t('confirm.reason_needed');
    return;
  }
  $('#confirm-ok').disabled = true;
  const ok = await act(dialog.dataset.id, { action: dialog.dataset.action, reason });
  $('#confirm-ok').disabled = false;
  if (ok) dialog.close();
  else $('#confirm-error').textContent = $('#action-error').textContent;
});

async function act(id, body) {
  const res = await api(`/api/incidents/${encodeURIComponent(id)}/actions`, { method: 'POST', body: JSON.stringify(body) }).catch(() => null);
  if (!res) return false;
  const out = await res.json();
  $('#action-error').textContent = res.status === 200 ? '' : reveal(out.message ?? out.error);
  if (res.status !== 200) return false;
  applyChange({ type: 'updated', at: new Date().toISOString(), incident: out.incident });
  return true;
}

// --- handover: came in, open, overdue since a time; printable ----------------------------------

$('#handover-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const since = toIso(new FormData(e.target).get('since'));
  history.replaceState(null, '', `#/handover?since=${encodeURIComponent(since)}`);
  loadHandover();
});

async function loadHandover() {
  const local = $('#handover-form').elements.namedItem('since').value;
  if (!local) return;
  // The printable page: the same summary rendered by the server like `canhgac report`, in this language and zone.
  const print = new URLSearchParams({ since: toIso(local), lang: state.lang, tz: Intl.DateTimeFormat().resolvedOptions().timeZone });
  $('#handover-print').href = `/api/handover.html?${print}`;
  const res = await api(`/api/handover?since=${encodeURIComponent(toIso(local))}`).catch(() => null);
  if (res?.status !== 200) return;
  const h = await res.json();
  $('#handover-generated').textContent = t('handover.generated', { since: fmtTime(h.since), at: fmtTime(h.generated_at), who: state.me?.username ?? '' });
  const table = (key, list) =>
    el(
      'section',
      { 'data-section': key },
      el('h3', { text: `${t(`handover.${key}`)} (${fmtNumber(list.length)})` }),
      el(
        'table',
        { class: 'handover' },
        el(
          'thead',
          {},
          el('tr', {}, ...['col.severity', 'col.rule', 'col.hosts', 'col.status', 'fact.assignee', 'fact.first_seen'].map((k) => el('th', { text: t(k) }))),
        ),
        el(
          'tbody',
          {},
          ...list.map((i) =>
            el(
              'tr',
              { 'data-id': i.id },
              el('td', { text: t(`level.${i.severity}`) }),
              el('td', { text: ruleTitle(i) }),
              el('td', { text: i.host.join(', ') || t('detail.none') }),
              el('td', { text: statusText(i.status) }),
              el('td', { text: i.assignee ?? t('detail.none') }),
              el('td', { text: fmtTime(i.first_seen) }),
            ),
          ),
        ),
      ),
    );
  $('#handover-sections').replaceChildren(table('came_in', h.came_in), table('open', h.open), table('overdue', h.overdue));
}

loadMessages().then(start);
