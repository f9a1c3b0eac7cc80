// fleet.test.mjs: the fleet's overview page in a real browser (Debian's chromium,
// playwright-core), like web.test.mjs for one module's page.
//
// One fleet of 120 modules without ptys (--no-tty), each a TCP client of one small
// server here (through --peer), and the overview on a port of its own (--fleet-web). The
// steps follow a user: the totals come to 120 connected, the first page shows 50 rows,
// paging reaches the last 20, the filter finds one module by name and its link opens
// that module's own page on its own address, a larger page size shows them all. A Host
// that is not ours is refused. Every wait is for a condition, bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const M0EMU = process.env.M0EMU;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 20000;
const N = 120;
const BASE = '127.116.0';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-quic', '--no-first-run',
  '--disable-component-update', '--disable-sync'];

let dir, emu, server, sockets = [], port, webPort, url, ctx, page, profile;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function until(what, fn, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { /* not yet */ }
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readyCount() {
  try {
    return fs.readFileSync(path.join(dir, 'events'), 'utf8').split('\n')
      .filter((l) => l.includes('"ev":"ready"')).length;
  } catch (e) { return 0; }
}

before(async () => {
  assert.ok(M0EMU, 'M0EMU must name the m0emu binary (meson test sets it)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run tests/browser/setup.sh`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm0fleet-browser-'));
  server = net.createServer((s) => { sockets.push(s); s.on('error', () => {}); s.resume(); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = await freePort();
  webPort = await freePort();
  url = `http://127.0.0.1:${port}/`;
  emu = spawn(M0EMU, ['--fleet', path.join(dir, 'fleet'), '--count', String(N), '--no-tty',
    '--timing', 'fast', '--bind', `${BASE}.1`, '--web-port', String(webPort),
    '--peer', `192.168.0.201=127.0.0.1:${server.address().port}`,
    '--fleet-web', String(port), '--events', path.join(dir, 'events')], {
    stdio: ['ignore', fs.openSync(path.join(dir, 'stdout'), 'w'),
      fs.openSync(path.join(dir, 'stderr'), 'w')],
  });
  await until('every module ready', () => readyCount() >= N);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm0fleet-chromium-'));
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 900 },
  });
  page = ctx.pages()[0] || await ctx.newPage();
  page.on('pageerror', (e) => { throw new Error('page error: ' + e.message); });
});

after(async () => {
  if (ctx) await ctx.close();
  let code = null;
  if (emu && emu.exitCode === null) {
    const exited = new Promise((r) => emu.once('exit', (c) => r(c)));
    emu.kill('SIGTERM');
    code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
    if (code === 'timeout') emu.kill('SIGKILL');
  }
  for (const s of sockets) s.destroy();
  if (server) server.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  if (code === 0) fs.rmSync(dir, { recursive: true, force: true });
  else console.error(`m0emu exit ${code}; files kept in ${dir}`);
  assert.equal(code, 0, 'm0emu exits cleanly on SIGTERM');
});

const rows = () => page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.dataset.name));
const text = (id) => page.textContent(id);

test('the totals, the first page and paging to the last', { timeout: 60000 }, async () => {
  const res = await page.goto(url);
  assert.equal(res.status(), 200);
  await page.waitForFunction((n) => document.getElementById('summary').textContent
    .startsWith(`${n} modules, ${n} connected`), N, { timeout: WAIT });
  assert.match(await text('#summary'), new RegExp(`${N} transparent`));
  let names = await rows();
  assert.equal(names.length, 50);
  assert.equal(names[0], 'm0001');
  assert.equal(names[49], 'm0050');
  assert.equal(await text('#range'), `1-50 of ${N}`);
  assert.ok(await page.$eval('#prev', (b) => b.disabled));
  await page.click('#next');
  await page.waitForFunction(() => document.getElementById('range').textContent.startsWith('51-'),
    null, { timeout: WAIT });
  await page.click('#next');
  await page.waitForFunction((n) => document.getElementById('range').textContent === `101-${n} of ${n}`,
    N, { timeout: WAIT });
  names = await rows();
  assert.equal(names.length, 20);
  assert.equal(names[19], `m0${N}`);
  assert.ok(await page.$eval('#next', (b) => b.disabled));
});

test('the filter finds one module, and its link opens its own page', { timeout: 60000 }, async () => {
  await page.fill('#q', 'm0117');
  await page.waitForFunction(() => document.getElementById('range').textContent === '1-1 of 1',
    null, { timeout: WAIT });
  const cells = await page.$$eval('#rows tr td', (tds) => tds.map((td) => td.textContent));
  assert.equal(cells[0], 'm0117');
  assert.equal(cells[1], `${BASE}.117`);
  assert.match(cells[2], /^D8B04C[0-9A-F]{6}$/);
  assert.equal(cells[3], 'transparent');
  assert.equal(cells[4], 'TCPC');
  assert.equal(cells[5], 'connected');
  const href = await page.getAttribute('#rows tr a', 'href');
  assert.equal(href, `http://${BASE}.117:${webPort}/`);
  const own = await ctx.request.get(href + 'api/status');
  assert.equal(own.status(), 401, 'the module page asks for its credentials');
  const signed = await ctx.request.get(href + 'api/status',
    { headers: { Authorization: 'Basic ' + Buffer.from('admin:admin').toString('base64') } });
  assert.equal(signed.status(), 200);
  // By address too.
  await page.fill('#q', `${BASE}.12`);
  await page.waitForFunction(() => document.getElementById('range').textContent === '1-2 of 2',
    null, { timeout: WAIT });
  assert.deepEqual(await rows(), ['m0012', 'm0120']);
  await page.fill('#q', 'nothing-like-this');
  await page.waitForFunction(() => document.getElementById('range').textContent === 'no module matches',
    null, { timeout: WAIT });
  await page.fill('#q', '');
});

test('a page of 500 shows every module; the API pages and refuses a foreign Host', { timeout: 60000 }, async () => {
  await page.selectOption('#limit', '500');
  await page.waitForFunction((n) => document.querySelectorAll('#rows tr').length === n, N,
    { timeout: WAIT });
  const api = await ctx.request.get(url + 'api/fleet?offset=100&limit=500');
  assert.equal(api.status(), 200);
  const f = await api.json();
  assert.equal(f.count, N);
  assert.equal(f.modules.length, N - 100);
  assert.equal(f.modules[0].name, 'm0101');
  const foreign = await ctx.request.get(url + 'api/fleet', { headers: { Host: 'evil.example' } });
  assert.equal(foreign.status(), 421);
});
