/* app.js: the USR-M0 admin page (docs/web.md). Plain JavaScript, no framework.
 *
 * The forms are built from GET /api/config: every parameter of the AT table comes with
 * its fields (type, range, choices), so this file only decides which page shows which
 * parameter and in what words. Values are checked by the server alone, through the AT
 * table (one validation path): a refused field shows the server's message next to it.
 * Live data comes from GET /api/events (Server-Sent Events); the status page also polls
 * GET /api/status every 2 s so it stays right if the stream drops.
 */
'use strict';

const PAGES = {
  ip: [{ title: 'Local IP config', params: ['WANN', 'DNS'] }],
  serial: [
    { title: 'Serial port', params: ['UART'] },
    { title: 'Network', params: ['SOCK', 'SOCKPORT', 'CLIENTRST', 'SCSLINK', 'INDEXEN', 'RFCEN'] },
    { title: 'HTTP client (work mode HTPC)', params: ['HTPTP', 'HTPURL', 'HTPHEAD', 'HTPCHD'] },
  ],
  expand: [
    { title: 'Heartbeat', params: ['HEARTEN', 'HEARTTP', 'HEARTTM', 'HEARTDT'] },
    { title: 'Registration', params: ['REGEN', 'REGTCP', 'REGUSR', 'REGCLOUD'] },
    { title: 'Connection', params: ['SOCKSL', 'SHORTO', 'TCPSE', 'UARTCLBUF'] },
  ],
  misc: [{ title: 'Misc', params: ['MID', 'WEBPORT', 'WEBU', 'MAXSK', 'RSTIM', 'E'] }],
};

const LABELS = {
  WANN: 'IP address', DNS: 'DNS server', UART: 'Serial parameters', SOCK: 'Work mode and peer',
  SOCKPORT: 'Local port', CLIENTRST: 'Restart after 30 failed connects',
  SCSLINK: 'Link pin shows the socket', INDEXEN: 'Client index (TCP server)',
  RFCEN: 'Similar-RFC2217', HTPTP: 'HTTP method', HTPURL: 'HTTP URL',
  HTPHEAD: 'HTTP header lines', HTPCHD: 'Strip the HTTP response header',
  HEARTEN: 'Heartbeat', HEARTTP: 'Heartbeat goes to', HEARTTM: 'Heartbeat interval (s)',
  HEARTDT: 'Heartbeat data (hex)', REGEN: 'Registration packet', REGTCP: 'Send registration',
  REGUSR: 'Registration data (hex)', REGCLOUD: 'USR Cloud ID and password',
  SOCKSL: 'Short connection', SHORTO: 'Short connection timeout (s)',
  TCPSE: 'When the TCP server is full', UARTCLBUF: 'Discard serial data before connecting',
  MID: 'Module name', WEBPORT: 'Web server port', WEBU: 'Web user and password',
  MAXSK: 'TCP server client limit', RSTIM: 'Restart after network silence (s, 0 = off)',
  E: 'Command echo',
};

const FIELD_LABELS = {
  baud: 'Baud rate', data: 'Data bits', stop: 'Stop bits', parity: 'Parity', flow: 'Flow control',
  proto: 'Work mode', address: 'Address', port: 'Port', mode: 'Mode', mask: 'Subnet mask',
  gateway: 'Gateway', user: 'User', password: 'Password', id: 'Cloud ID',
};

const DIR_LABELS = { uart_in: 'serial in', uart_out: 'serial out', net_in: 'net in', net_out: 'net out' };
const LOG_MAX = 500;

const state = {
  config: null,        // GET /api/config
  status: null,        // GET /api/status
  page: 'status',
  trafficPaused: false,
  restarting: false,
  statusFailures: 0,
  refreshSoon: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/* Opened as http://admin:admin@host/, the page's own URL carries the credentials, and
 * every relative URL inherits them: Chromium then refuses to build a fetch() of it
 * ("Request cannot be constructed from a URL that includes credentials"). So API URLs
 * are built on location.origin, which never holds them, and the credentials the page was
 * opened with (document.URL keeps them; location.href does not) go in an Authorization
 * header of our own. Opened without them, the browser's sign-in applies as usual. */
const AUTH = (() => {
  let u;
  try { u = new URL(document.URL); } catch (e) { return null; }
  if (!u.username && !u.password) return null;
  const pair = decodeURIComponent(u.username) + ':' + decodeURIComponent(u.password);
  const bytes = new TextEncoder().encode(pair); // the server's realm says charset="UTF-8"
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return 'Basic ' + btoa(bin);
})();

function apiUrl(path) { return location.origin + path; }

async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store' };
  if (AUTH) init.headers.Authorization = AUTH;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(apiUrl(path), init);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { status: res.status, ok: res.ok, data };
}

function showBanner(id, text) {
  const b = $(id);
  if (text) { b.textContent = text; b.hidden = false; } else { b.hidden = true; b.textContent = ''; }
}

/* ---- navigation ---- */

function showPage(name) {
  if (!document.getElementById('page-' + name)) name = 'status';
  state.page = name;
  for (const sec of document.querySelectorAll('.page')) sec.hidden = sec.id !== 'page-' + name;
  for (const a of document.querySelectorAll('#nav a'))
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  const title = $('page-' + name).dataset.title;
  document.title = (title ? title + ' — ' : '') + 'USR-M0';
  if (name === 'status') refreshStatus();
}

/* ---- status ---- */

function setText(id, v) { const e = $(id); if (e) e.textContent = v === undefined || v === null ? '–' : String(v); }

function renderStatus(s) {
  state.status = s;
  setText('hdr-module', s.module);
  const pill = $('hdr-state');
  pill.dataset.state = s.state;
  pill.textContent = s.state;
  setText('st-module', s.module);
  setText('st-mac', s.mac);
  setText('st-firmware', s.firmware);
  setText('st-pdtime', s.pdtime);
  setText('st-state', s.state === 'command' ? 'command mode' : s.state === 'transparent' ? 'transparent mode' : s.state);
  setText('st-wann', wannText(s.wann));
  setText('st-dns', s.dns);
  setText('st-web', s.web.port ? `${s.web.port} (WEBPORT ${s.web.webport})` : `not listening (WEBPORT ${s.web.webport})`);
  setText('st-uart', s.uart);
  renderHostLine(s);
  setText('st-workmode', s.work_mode);
  setText('st-sock', s.sock.split(',').slice(1).join(':'));
  setText('st-sockport', s.sockport === 0 ? '0 (random)' : s.sockport);
  const link = $('st-link');
  link.textContent = '';
  link.append(el('span', { class: 'dot' + (s.socket_connected ? ' up' : '') }),
    s.socket_connected ? 'connected' : 'not connected',
    el('span', { class: 'muted', text: ` · link pin ${s.link_pin ? 'on' : 'off'}${s.scslink ? ' (socket)' : ' (Ethernet)'}` }));
  const tbody = $('st-links').tBodies[0];
  tbody.textContent = '';
  if (!s.links.length) tbody.append(el('tr', { class: 'empty' }, el('td', { colspan: 6, text: 'no connections' })));
  for (const l of s.links) {
    tbody.append(el('tr', {},
      el('td', { text: l.id }), el('td', { text: l.kind.replace('_', ' ') }),
      el('td', { class: 'mono', text: l.peer || '–' }),
      el('td', {}, el('span', { class: 'dot' + (l.connected ? ' up' : '') }),
        l.kind === 'tcp_listen' ? 'listening' : l.kind === 'udp' ? 'open' : l.connected ? 'connected' : 'connecting'),
      el('td', { class: 'num', text: l.tx }), el('td', { class: 'num', text: l.rx })));
  }
  setText('st-net-tx', s.totals.net_tx);
  setText('st-net-rx', s.totals.net_rx);
  setText('st-uart-rx', s.counters.uart_rx);
  setText('st-uart-tx', s.counters.uart_tx);
  setText('st-uart-tx-dropped', s.counters.uart_tx_dropped);
  setText('st-uart-rx-dropped', s.counters.uart_rx_dropped);
  setText('st-net-tx-dropped', s.counters.net_tx_dropped);
  setText('st-net-rx-dropped', s.counters.net_rx_dropped);
  setText('st-restarts', s.counters.restarts);
  setText('st-updated', 'Updated ' + new Date().toLocaleTimeString());
  setRestartNeeded(s.restart_needed);
}

// The host program's line speed and stop bits, as read from the pty: a difference from
// AT+UART is what the host would only see as garbage on a real module, so it is said
// plainly, on top of the status page.
function renderHostLine(s) {
  const dd = $('st-hostline');
  const h = s.host_line;
  const [baud, , stop] = String(s.uart).split(',');
  dd.textContent = h ? `${h.baud ? h.baud + ' baud' : 'no speed set'}, ${h.stop} stop bit${h.stop > 1 ? 's' : ''}` : 'not read yet (no program has the port open)';
  dd.classList.toggle('bad', !!s.uart_mismatch);
  const banner = $('st-mismatch');
  if (s.uart_mismatch && h) {
    banner.textContent = `The host program's line (${h.baud} baud, ${h.stop} stop bit${h.stop > 1 ? 's' : ''}) ` +
      `differs from AT+UART (${baud} baud, ${stop} stop bit${stop > 1 ? 's' : ''}): on a real module it would read garbage. ` +
      'Open the port at the module\'s speed, or change AT+UART.';
    banner.hidden = false;
  } else {
    banner.hidden = true;
    banner.textContent = '';
  }
}

function wannText(v) {
  const [mode, ip, mask, gw] = v.split(',');
  return ip === undefined ? mode : `${mode} ${ip} / ${mask}, gateway ${gw}`;
}

async function refreshStatus() {
  try {
    const r = await api('GET', '/api/status');
    if (!r.ok || !r.data) throw new Error('HTTP ' + r.status);
    state.statusFailures = 0;
    renderStatus(r.data);
    if (!state.restarting) showBanner('error-banner', '');
    return r.data;
  } catch (e) {
    state.statusFailures++;
    const pill = $('hdr-state');
    pill.dataset.state = 'offline';
    pill.textContent = 'offline';
    if (!state.restarting && state.statusFailures >= 2)
      showBanner('error-banner', 'The module does not answer. Is the emulator running?');
    return null;
  }
}

function setRestartNeeded(needed) {
  $('restart-banner').hidden = !needed || state.restarting;
}

/* ---- forms from /api/config ---- */

function splitValue(p) {
  if (p.rest_of_line || p.fields.length === 1) return [p.value];
  const parts = p.value.split(',');
  while (parts.length < p.fields.length) parts.push('');
  return parts;
}

function fieldInput(p, f, i, value) {
  const id = `f-${p.name}-${f.name}`;
  let input;
  if (f.type === 'enum' || f.type === 'onoff') {
    input = el('select', { id, name: id });
    const choices = f.choices.slice();
    // A value outside the list (never expected) is kept visible rather than lost.
    if (!choices.some((c) => c.toLowerCase() === value.toLowerCase())) choices.unshift(value);
    for (const c of choices) {
      const o = el('option', { value: c, text: c });
      if (c.toLowerCase() === value.toLowerCase()) o.selected = true;
      input.append(o);
    }
  } else {
    const secret = f.name === 'password';
    input = el('input', {
      id, name: id, type: secret ? 'password' : 'text', value,
      inputmode: f.type === 'uint' ? 'numeric' : undefined,
      autocomplete: secret ? 'new-password' : 'off', spellcheck: 'false',
    });
  }
  input.dataset.param = p.name;
  input.dataset.index = String(i);
  input.addEventListener('input', () => clearError(p.name));
  input.addEventListener('change', () => clearError(p.name));
  const wide = p.rest_of_line || f.type === 'host' || (f.type === 'text' && f.max > 30);
  const label = p.fields.length > 1 ? (FIELD_LABELS[f.name] || f.name) : (LABELS[p.name] || p.name);
  return el('div', { class: 'field' + (wide ? ' wide' : '') },
    el('label', { for: id, class: p.fields.length > 1 ? '' : 'sr-label', text: label }), input);
}

function paramRow(p) {
  const values = splitValue(p);
  const head = el('div', { class: 'param-head' },
    el('span', { class: 'param-label', text: LABELS[p.name] || p.help }),
    el('span', { class: 'param-name', text: 'AT+' + p.name }),
    p.applies === 'now' ? el('span', { class: 'param-flag', text: 'applies now' }) : null,
    el('span', { class: 'saved-mark', id: `saved-${p.name}` }));
  const fields = el('div', { class: 'fields' }, ...p.fields.map((f, i) => fieldInput(p, f, i, values[i] || '')));
  const hint = el('div', { class: 'hint', text: `${p.syntax}: ${p.range}` + (p.default ? ` · default ${p.default}` : '') });
  const err = el('div', { class: 'error', id: `err-${p.name}`, role: 'alert' });
  return el('div', { class: 'param', id: `p-${p.name}` }, head, fields, hint, err);
}

function buildForms() {
  const byName = new Map(state.config.params.map((p) => [p.name, p]));
  const placed = new Set();
  for (const page of Object.keys(PAGES)) for (const g of PAGES[page]) for (const n of g.params) placed.add(n);
  // Parameters the table has and no page names still get a place: the table is the truth.
  const others = state.config.params.map((p) => p.name).filter((n) => !placed.has(n));
  for (const [page, groups] of Object.entries(PAGES)) {
    const sec = $('page-' + page);
    sec.textContent = '';
    sec.append(el('h1', { text: sec.dataset.title }));
    const form = el('form', { class: 'form', id: `form-${page}`, novalidate: true });
    const all = groups.slice();
    if (page === 'misc' && others.length) all.push({ title: 'Other', params: others });
    for (const g of all) {
      const group = el('div', { class: 'group' }, el('h3', { text: g.title }));
      for (const n of g.params) if (byName.has(n)) group.append(paramRow(byName.get(n)));
      form.append(group);
    }
    const status = el('span', { class: 'muted', id: `form-status-${page}`, role: 'status' });
    form.append(el('div', { class: 'actions' },
      el('button', { type: 'submit', class: 'btn btn-primary', id: `save-${page}`, text: 'Save' }),
      el('button', { type: 'button', class: 'btn', id: `undo-${page}`, text: 'Undo changes' }),
      status));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); save(page); });
    form.querySelector(`#undo-${page}`).addEventListener('click', () => { buildForms(); showPage(state.page); });
    sec.append(form);
  }
}

function formValue(p) {
  const parts = p.fields.map((f) => document.getElementById(`f-${p.name}-${f.name}`).value);
  return parts.join(',');
}

function clearError(name) {
  const e = $(`err-${name}`);
  if (e) e.textContent = '';
  const row = $(`p-${name}`);
  if (row) row.classList.remove('invalid');
}

async function loadConfig() {
  const r = await api('GET', '/api/config');
  if (!r.ok || !r.data) throw new Error('GET /api/config: HTTP ' + r.status);
  state.config = r.data;
  return r.data;
}

async function save(page) {
  const names = PAGES[page].flatMap((g) => g.params);
  if (page === 'misc') {
    const placed = new Set(Object.values(PAGES).flat().flatMap((g) => g.params));
    for (const p of state.config.params) if (!placed.has(p.name)) names.push(p.name);
  }
  const changes = {};
  for (const p of state.config.params) {
    if (!names.includes(p.name)) continue;
    clearError(p.name);
    $(`saved-${p.name}`).textContent = '';
    const v = formValue(p);
    if (v !== p.value) changes[p.name] = v;
  }
  const status = $(`form-status-${page}`);
  if (!Object.keys(changes).length) { status.textContent = 'Nothing changed.'; return; }
  const button = $(`save-${page}`);
  button.disabled = true;
  status.textContent = 'Saving…';
  try {
    const r = await api('POST', '/api/config', changes);
    if (!r.data || (r.status !== 200 && r.status !== 422)) {
      status.textContent = 'Not saved: ' + ((r.data && r.data.error) || 'HTTP ' + r.status);
      return;
    }
    const fresh = await loadConfig();
    const byName = new Map(fresh.params.map((p) => [p.name, p]));
    for (const name of r.data.saved) {
      const p = byName.get(name);
      const values = splitValue(p);
      p.fields.forEach((f, i) => { document.getElementById(`f-${name}-${f.name}`).value = values[i] || ''; });
      $(`saved-${name}`).textContent = 'saved ✓';
    }
    for (const [name, err] of Object.entries(r.data.errors)) {
      const p = byName.get(String(name).toUpperCase());
      const key = p ? p.name : name;
      const e = $(`err-${key}`);
      if (e) e.textContent = `Refused (${err.code}): ${err.message}`;
      const row = $(`p-${key}`);
      if (row) row.classList.add('invalid');
    }
    // Keep refused fields as typed so they can be corrected; the rest now shows the
    // stored (canonical) values.
    const nerr = Object.keys(r.data.errors).length;
    status.textContent = nerr
      ? `${r.data.saved.length} saved, ${nerr} refused: see the marked field${nerr > 1 ? 's' : ''}.`
      : 'Saved.';
    if (r.data.restart_needed) {
      $('restart-banner-text').textContent = 'Settings saved. A restart is needed for them to take effect.';
    }
    setRestartNeeded(r.data.restart_needed);
  } catch (e) {
    status.textContent = 'Not saved: ' + e.message;
  } finally {
    button.disabled = false;
  }
}

/* ---- restart and factory reset ---- */

async function restart(kind) {
  const path = kind === 'reset' ? '/api/factory-reset' : '/api/restart';
  const before = state.status ? state.status.counters.restarts : null;
  const savedPort = state.config ? Number((state.config.params.find((p) => p.name === 'WEBPORT') || {}).value) : null;
  state.restarting = true;
  $('restart-banner').hidden = true;
  showBanner('error-banner', '');
  showBanner('busy-banner', kind === 'reset' ? 'Restoring factory settings and restarting…' : 'Restarting…');
  for (const b of ['restart-now', 'restart-button', 'reset-yes']) $(b).disabled = true;
  try {
    const r = await api('POST', path);
    if (!r.ok) throw new Error('HTTP ' + r.status);
  } catch (e) {
    // The answer may be lost when the server moves to another port; keep polling.
  }
  const deadline = Date.now() + 15000;
  let back = null;
  while (Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 400));
    const s = await refreshStatus();
    if (s && s.state !== 'booting' && (before === null || s.counters.restarts > before)) { back = s; break; }
  }
  state.restarting = false;
  for (const b of ['restart-now', 'restart-button', 'reset-yes']) $(b).disabled = false;
  $('reset-confirm').hidden = true;
  if (back) {
    showBanner('busy-banner', kind === 'reset' ? 'Factory settings restored; the module restarted.' : 'The module restarted.');
    setTimeout(() => showBanner('busy-banner', ''), 4000);
    await loadConfig().then(buildForms).then(() => showPage(state.page)).catch(() => {});
  } else {
    showBanner('busy-banner', '');
    const port = kind === 'reset' ? 80 : savedPort;
    showBanner('error-banner', port && String(port) !== location.port
      ? `The module restarted, but this page cannot reach it. Its web server may now be on port ${port} (or ${8000 + port} when ${port} is privileged); sign in again there.`
      : 'The module did not come back within 15 s.');
  }
}

/* ---- live view (Server-Sent Events) ---- */

function visibleText(text) {
  // Control bytes shown as escapes (\r \n \t \xNN) in a quieter colour, so a CR LF is
  // visible rather than a line break; plain ASCII so any font has the glyphs.
  const frag = document.createDocumentFragment();
  let run = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    let sym = null;
    if (c === 13) sym = '\\r';
    else if (c === 10) sym = '\\n';
    else if (c === 9) sym = '\\t';
    else if (c < 32 || c >= 127) sym = '\\x' + c.toString(16).toUpperCase().padStart(2, '0');
    if (sym === null) { run += ch; continue; }
    if (run) { frag.append(run); run = ''; }
    frag.append(el('span', { class: 'ctl', text: sym }));
  }
  if (run) frag.append(run);
  return frag;
}

function spacedHex(hex) {
  return hex.replace(/(..)(?!$)/g, '$1 ');
}

function seconds(t) {
  return (t / 1000).toFixed(3);
}

function appendLog(list, li, max) {
  const nearBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
  list.append(li);
  while (list.children.length > max) list.firstElementChild.remove();
  if (nearBottom) list.scrollTop = list.scrollHeight;
}

function trafficItem(rec, format) {
  const payload = el('span', { class: 'payload' });
  if (format !== 'hex') payload.append(visibleText(rec.text));
  if (rec.truncated) payload.append(el('span', { class: 'muted', text: ` … (${rec.len} bytes)` }));
  if (format !== 'text') payload.append(el('span', { class: 'hex', text: spacedHex(rec.hex) }));
  const who = rec.dir.startsWith('net') ? `${DIR_LABELS[rec.dir]} #${rec.link}` : DIR_LABELS[rec.dir];
  const li = el('li', { 'data-dir': rec.dir },
    el('span', { class: 't', text: seconds(rec.t_ms) }),
    el('span', { class: 'd ' + rec.dir, text: who || rec.dir }), payload);
  return li;
}

function onTraffic(rec) {
  appendLog($('st-traffic'), trafficItem(rec, 'text'), 8);
  if (state.trafficPaused || !$('flt-' + rec.dir) || !$('flt-' + rec.dir).checked) return;
  appendLog($('traffic-log'), trafficItem(rec, $('traffic-format').value), LOG_MAX);
}

function onEvent(ev) {
  const rest = Object.assign({}, ev);
  delete rest.t_ms;
  delete rest.ev;
  const fields = Object.keys(rest).length ? JSON.stringify(rest) : '';
  appendLog($('event-log'), el('li', {},
    el('span', { class: 't', text: seconds(ev.t_ms || 0) }),
    el('span', { class: 'd', text: ev.ev }),
    el('span', { class: 'payload', text: fields })), LOG_MAX);
  // State changes are worth a fresh status soon rather than at the next poll; a burst of
  // events costs one request.
  if (!state.restarting && !state.refreshSoon)
    state.refreshSoon = setTimeout(() => { state.refreshSoon = null; refreshStatus(); }, 150);
}

function connectEvents() {
  const live = $('hdr-live');
  // EventSource cannot send a header: it relies on the browser's sign-in for the origin,
  // which a page opened with credentials in its URL has too.
  const es = new EventSource(apiUrl('/api/events'));
  es.addEventListener('open', () => { live.dataset.live = 'on'; live.title = 'Live event stream connected'; });
  es.addEventListener('error', () => { live.dataset.live = 'off'; live.title = 'Live event stream: reconnecting'; });
  es.addEventListener('traffic', (m) => { try { onTraffic(JSON.parse(m.data)); } catch (e) { /* a bad record is skipped */ } });
  es.addEventListener('event', (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* idem */ } });
}

/* ---- start ---- */

function wire() {
  window.addEventListener('hashchange', () => showPage(location.hash.slice(1)));
  $('restart-now').addEventListener('click', () => restart('restart'));
  $('restart-button').addEventListener('click', () => restart('restart'));
  $('reset-button').addEventListener('click', () => { $('reset-confirm').hidden = false; });
  $('reset-no').addEventListener('click', () => { $('reset-confirm').hidden = true; });
  $('reset-yes').addEventListener('click', () => restart('reset'));
  $('traffic-pause').addEventListener('click', (e) => {
    state.trafficPaused = !state.trafficPaused;
    e.target.textContent = state.trafficPaused ? 'Resume' : 'Pause';
  });
  $('traffic-clear').addEventListener('click', () => { $('traffic-log').textContent = ''; });
}

async function main() {
  wire();
  showPage(location.hash.slice(1) || 'status');
  try {
    await loadConfig();
    buildForms();
    showPage(state.page);
  } catch (e) {
    showBanner('error-banner', 'Cannot load the settings: ' + e.message);
  }
  connectEvents();
  refreshStatus();
  // The header shows the module's state on every page, so the poll runs on every page.
  setInterval(() => { if (!state.restarting && !document.hidden) refreshStatus(); }, 2000);
}

document.addEventListener('DOMContentLoaded', main);
