// web.test.mjs: the admin page in a real browser (Debian's chromium, playwright-core).
//
// One emulator ($M0EMU) on its own state dir, tty and --web-port, its factory peer a free
// port of its own (--set SOCK=...,PEER, SOCKPORT=0): nothing another program listens on
// (8234, 20108) reaches it. One chromium with a fresh profile. The steps follow a user: sign in, read the status, change the serial
// settings and the work mode, see a bad value refused next to its field, restart from
// the page, confirm on the tty (AT+UART, AT+SOCK) that the change took effect, watch
// bytes written on the tty appear in the live view, factory reset (back to the factory
// settings the emulator was started with), then open the page as
// http://admin:admin@host/ (credentials in the URL) in a fresh browser. Every wait is
// for a condition, bounded; nothing sleeps to pass. The suite also writes the README's
// screenshot (M0EMU_SCREENSHOT, default docs/img/web-status.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const M0EMU = process.env.M0EMU;
const SCREENSHOT = process.env.M0EMU_SCREENSHOT ||
  path.join(here, '..', '..', 'docs', 'img', 'web-status.png');
const TTY_TOOL = path.join(here, '..', 'web', 'm0web.py');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const MAC = 'D8B04C00A1B2';
const WAIT = 15000;

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-quic', '--no-first-run',
  '--disable-component-update', '--disable-sync'];

let dir, emu, port, peer, url, ctx, page, profiles = [];

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

function events() {
  try {
    return fs.readFileSync(path.join(dir, 'events'), 'utf8').split('\n').filter(Boolean)
      .map((l) => { try { return JSON.parse(l); } catch (e) { return {}; } });
  } catch (e) { return []; }
}

function connectable(p) {
  return new Promise((resolve) => {
    const s = net.connect(p, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

// AT commands on the tty through tests/web/m0web.py (the +++ / a handshake first).
// ttyIn: the same without the handshake, for a device already in command mode.
function tty(...commands) { return ttyRun([], commands); }
function ttyIn(...commands) { return ttyRun(['--in-command-mode'], commands); }

function ttyRun(flags, commands) {
  return new Promise((resolve, reject) => {
    execFile('python3', [TTY_TOOL, 'at', ...flags, path.join(dir, 'tty'), ...commands],
      { timeout: 30000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`m0web.py at: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout));
      });
  });
}

function ttyWrite(text) {
  return new Promise((resolve, reject) => {
    execFile('python3', [TTY_TOOL, 'write', path.join(dir, 'tty'), text],
      { timeout: 30000 }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve()));
  });
}

async function browserContext(options) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm0web-chromium-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 }, ...options,
  });
}

function logs() {
  let out = '';
  for (const f of ['stdout', 'stderr', 'events']) {
    try { out += `---- ${f}\n` + fs.readFileSync(path.join(dir, f), 'utf8').slice(-3000); } catch (e) { /* none */ }
  }
  return out;
}

before(async () => {
  assert.ok(M0EMU, 'M0EMU must name the m0emu binary (meson test sets it)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run tests/browser/setup.sh`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm0web-browser-'));
  port = await freePort();
  do peer = await freePort(); while (peer === port);
  url = `http://127.0.0.1:${port}/`;
  emu = spawn(M0EMU, ['--web-port', String(port), '--state', path.join(dir, 'state'),
    '--tty', path.join(dir, 'tty'), '--timing', 'fast', '--mac', MAC,
    '--set', `SOCK=TCPC,192.168.0.201,${peer}`, '--set', 'SOCKPORT=0',
    '--events', path.join(dir, 'events')], {
    stdio: ['ignore', fs.openSync(path.join(dir, 'stdout'), 'w'),
      fs.openSync(path.join(dir, 'stderr'), 'w')],
  });
  await until('the emulator to be ready', () => events().some((e) => e.ev === 'ready'));
  await until('the web port', () => connectable(port));
  ctx = await browserContext({ httpCredentials: { username: 'admin', password: 'admin' } });
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
  for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
  if (code === 0) fs.rmSync(dir, { recursive: true, force: true });
  else console.error(`m0emu exit ${code}; files kept in ${dir}\n${logs()}`);
  assert.equal(code, 0, 'm0emu exits cleanly on SIGTERM');
});

test('without credentials the page is refused with a Basic challenge', { timeout: 30000 }, async () => {
  const anon = await browserContext({});
  try {
    const p = anon.pages()[0] || await anon.newPage();
    // Headless chromium has nobody to ask for a password: the navigation fails with
    // ERR_INVALID_AUTH_CREDENTIALS, and the server's answer is what we look at.
    const [res] = await Promise.all([p.waitForResponse(url, { timeout: WAIT }),
      p.goto(url).catch(() => null)]);
    assert.equal(res.status(), 401);
    assert.match(res.headers()['www-authenticate'], /^Basic realm="USR-M0"/);
    const api = await anon.request.get(url + 'api/status');
    assert.equal(api.status(), 401);
    assert.match(await api.text(), /authentication required/);
    const wrong = await anon.request.get(url + 'api/status',
      { headers: { Authorization: 'Basic ' + Buffer.from('admin:wrong').toString('base64') } });
    assert.equal(wrong.status(), 401);
  } finally {
    await anon.close();
  }
});

test('sign in and read the status', { timeout: 30000 }, async () => {
  const res = await page.goto(url);
  assert.equal(res.status(), 200);
  await page.waitForFunction((mac) => document.getElementById('st-mac').textContent === mac, MAC,
    { timeout: WAIT });
  assert.equal(await page.textContent('#st-module'), 'USR-M0');
  assert.equal(await page.textContent('#st-firmware'), 'V4017');
  assert.equal(await page.textContent('#st-uart'), '115200,8,1,NONE,NFC');
  assert.equal(await page.textContent('#st-workmode'), 'TCPC');
  await page.waitForFunction(() => document.getElementById('hdr-state').textContent === 'transparent',
    null, { timeout: WAIT });
  await page.waitForFunction(() => document.getElementById('hdr-live').dataset.live === 'on',
    null, { timeout: WAIT });
  // The status refreshes by itself: a command-mode entry on the tty shows without a reload.
  await tty('AT+VER');
  await page.waitForFunction(() => document.getElementById('hdr-state').textContent === 'command',
    null, { timeout: WAIT });
  await ttyIn('AT+ENTM');
  await page.waitForFunction(() => document.getElementById('hdr-state').textContent === 'transparent',
    null, { timeout: WAIT });
});

// A host program whose line runs at 9600 baud while AT+UART says 115200: on a real module
// it would read garbage, so the status page says so plainly; and stops saying it once the
// program sets the right speed.
const HOST_AT = `
import os, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
def speed(b):
    a = termios.tcgetattr(fd)
    a[4] = a[5] = b
    termios.tcsetattr(fd, termios.TCSANOW, a)
speed(termios.B9600)
print("9600", flush=True)
sys.stdin.readline()
speed(termios.B115200)
print("115200", flush=True)
sys.stdin.readline()
`;

test('a host line at another speed than AT+UART is shown on the status page', { timeout: 40000 }, async () => {
  await page.click('#nav a[data-page="status"]');
  const host = spawn('python3', ['-c', HOST_AT, path.join(dir, 'tty')], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await page.waitForFunction(() => !document.getElementById('st-mismatch').hidden, null, { timeout: WAIT });
    assert.match(await page.textContent('#st-mismatch'),
      /host program's line \(9600 baud, 1 stop bit\) differs from AT\+UART \(115200 baud, 1 stop bit\)/);
    assert.equal(await page.textContent('#st-hostline'), '9600 baud, 1 stop bit');
    assert.ok(await page.$eval('#st-hostline', (e) => e.classList.contains('bad')));
    const api = await ctx.request.get(url + 'api/status');
    const st = await api.json();
    assert.equal(st.uart_mismatch, true);
    assert.deepEqual(st.host_line, { baud: 9600, stop: 1 });
    host.stdin.write('\n'); // the program now sets 115200
    await page.waitForFunction(() => document.getElementById('st-mismatch').hidden, null, { timeout: WAIT });
    assert.equal(await page.textContent('#st-hostline'), '115200 baud, 1 stop bit');
    await until('uart.match', () => events().some((e) => e.ev === 'uart.match'));
  } finally {
    host.stdin.end();
    host.kill();
  }
});

test('change the serial settings and the work mode; a bad value is refused next to its field',
  { timeout: 30000 }, async () => {
    await page.click('#nav a[data-page="serial"]');
    await page.waitForSelector('#f-UART-baud', { state: 'visible', timeout: WAIT });
    assert.equal(await page.inputValue('#f-UART-baud'), '115200');
    await page.fill('#f-UART-baud', '9600');
    await page.selectOption('#f-UART-parity', 'EVEN');
    await page.selectOption('#f-SOCK-proto', 'HTPC');
    await page.fill('#f-HTPURL-url', 'no-leading-slash');
    await page.click('#save-serial');
    await page.waitForFunction(() => document.getElementById('err-HTPURL').textContent !== '', null,
      { timeout: WAIT });
    assert.match(await page.textContent('#err-HTPURL'), /^Refused \(-4\): invalid value: expected url/);
    assert.ok(await page.$eval('#p-HTPURL', (e) => e.classList.contains('invalid')));
    assert.equal(await page.inputValue('#f-HTPURL-url'), 'no-leading-slash', 'kept as typed');
    assert.equal(await page.textContent('#err-UART'), '');
    assert.equal(await page.textContent('#saved-UART'), 'saved ✓');
    assert.equal(await page.textContent('#saved-SOCK'), 'saved ✓');
    assert.match(await page.textContent('#form-status-serial'), /2 saved, 1 refused/);
    // Canonical spelling back from the table, and the restart offer.
    assert.equal(await page.inputValue('#f-UART-parity'), 'EVEN');
    assert.ok(await page.isVisible('#restart-banner'));
    assert.match(await page.textContent('#restart-banner'), /restart is needed/);
    // Saved at once (the query answers the saved value, as the real module does).
    const r = await tty('AT+UART', 'AT+HTPURL', 'AT+ENTM');
    assert.equal(r['AT+UART'], '+ok=9600,8,1,EVEN,NFC');
    assert.equal(r['AT+HTPURL'], '+ok=/2.php?', 'the refused value was not stored');
    // Still running the old settings until the restart.
    await page.click('#nav a[data-page="status"]');
    await page.waitForFunction(() => document.getElementById('st-uart').textContent === '115200,8,1,NONE,NFC',
      null, { timeout: WAIT });
  });

test('restart from the page; the tty confirms the new settings', { timeout: 40000 }, async () => {
  const before = events().filter((e) => e.ev === 'ready').length;
  await page.click('#restart-now');
  await page.waitForFunction(() => /The module restarted/.test(document.getElementById('busy-banner').textContent),
    null, { timeout: WAIT });
  await until('a second ready', () => events().filter((e) => e.ev === 'ready').length > before);
  assert.ok(await page.isHidden('#restart-banner'), 'no restart needed any more');
  await page.waitForFunction(() => document.getElementById('st-uart').textContent === '9600,8,1,EVEN,NFC',
    null, { timeout: WAIT });
  assert.equal(await page.textContent('#st-workmode'), 'HTPC');
  assert.equal(await page.textContent('#st-restarts'), '1');
  const r = await tty('AT+UART', 'AT+SOCK', 'AT+ENTM');
  assert.equal(r['AT+UART'], '+ok=9600,8,1,EVEN,NFC');
  assert.equal(r['AT+SOCK'], `+ok=HTPC,192.168.0.201,${peer}`);
  assert.equal(r['AT+ENTM'], '+ok');
});

test('the live view shows bytes written on the tty', { timeout: 30000 }, async () => {
  await page.click('#nav a[data-page="live"]');
  await page.waitForSelector('#traffic-log', { state: 'visible', timeout: WAIT });
  await ttyWrite('hello-from-the-tty');
  const row = page.locator('#traffic-log li', { hasText: 'hello-from-the-tty' }).last();
  await row.waitFor({ timeout: WAIT });
  assert.equal(await row.getAttribute('data-dir'), 'uart_in');
  assert.match(await row.textContent(), /serial in/);
  assert.match(await row.textContent(), /68 65 6C 6C 6F 2D 66 72 6F 6D/);
  // The AT exchange of the earlier steps is there too, both ways.
  await page.locator('#traffic-log li[data-dir="uart_out"]', { hasText: '+ok=9600,8,1,EVEN,NFC' })
    .first().waitFor({ timeout: WAIT });
  await page.locator('#event-log li', { hasText: 'restart' }).first().waitFor({ timeout: WAIT });
  // Filters: hiding serial in hides new serial-in rows.
  await page.uncheck('#flt-uart_in');
  await ttyWrite('hidden-by-the-filter');
  await page.locator('#st-traffic li', { hasText: 'hidden-by-the-filter' })
    .waitFor({ state: 'attached', timeout: WAIT });
  assert.equal(await page.locator('#traffic-log li', { hasText: 'hidden-by-the-filter' }).count(), 0);
  await page.check('#flt-uart_in');
});

// Sets the tty's line speed as a host program opening it at that speed would, then closes.
function hostSpeed(baud) {
  const code = `import os, sys, termios
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
a = termios.tcgetattr(fd)
a[4] = a[5] = getattr(termios, "B" + sys.argv[2])
termios.tcsetattr(fd, termios.TCSANOW, a)`;
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', code, path.join(dir, 'tty'), String(baud)], { timeout: 30000 },
      (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve()));
  });
}

test('screenshot of the status page for the README', { timeout: 30000 }, async () => {
  // The module runs 9600 baud since the restart: a host at its speed, so the picture
  // shows a line that agrees (no mismatch banner).
  await hostSpeed(9600);
  await ttyWrite('PING 42\r\n');
  await page.click('#nav a[data-page="status"]');
  await page.locator('#st-traffic li', { hasText: 'PING 42' }).waitFor({ timeout: WAIT });
  await page.waitForFunction(() => document.getElementById('st-mac').textContent !== '–', null,
    { timeout: WAIT });
  await page.waitForSelector('#busy-banner', { state: 'hidden', timeout: WAIT });
  await page.waitForFunction(() => document.getElementById('st-hostline').textContent === '9600 baud, 1 stop bit',
    null, { timeout: WAIT });
  await page.waitForSelector('#st-mismatch', { state: 'hidden', timeout: WAIT });
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  const png = fs.readFileSync(SCREENSHOT);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 20000, 'a real picture');
});

test('phone-sized window: nothing wider than the screen', { timeout: 30000 }, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const p of ['status', 'ip', 'serial', 'expand', 'misc', 'live', 'restart', 'reset']) {
    await page.evaluate((name) => { location.hash = name; }, p);
    await page.waitForSelector(`#page-${p}`, { state: 'visible', timeout: WAIT });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page ${p} is ${overflow} px wider than a phone`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('factory reset from the page', { timeout: 40000 }, async () => {
  await page.click('#nav a[data-page="reset"]');
  await page.click('#reset-button');
  await page.waitForSelector('#reset-confirm', { state: 'visible', timeout: WAIT });
  await page.click('#reset-yes');
  await page.waitForFunction(() => /Factory settings restored/.test(document.getElementById('busy-banner').textContent),
    null, { timeout: WAIT });
  const r = await tty('AT+UART', 'AT+SOCK', 'AT+ENTM');
  assert.equal(r['AT+UART'], '+ok=115200,8,1,NONE,NFC');
  assert.equal(r['AT+SOCK'], `+ok=TCPC,192.168.0.201,${peer}`, 'the factory settings given');
});

test('opened as http://admin:admin@host/, the page works', { timeout: 40000 }, async () => {
  // A fresh browser, no sign-in of its own: the credentials are in the URL alone.
  // Chromium refuses fetch() of a URL that holds credentials, and relative URLs inherit
  // the page's: the page must build its API calls without them.
  const plain = await browserContext({});
  try {
    const p = plain.pages()[0] || await plain.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push('page error: ' + e.message));
    p.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
    const res = await p.goto(`http://admin:admin@127.0.0.1:${port}/`);
    assert.equal(res.status(), 200);
    await p.waitForFunction((mac) => document.getElementById('st-mac').textContent === mac, MAC,
      { timeout: WAIT });
    await p.waitForFunction(() => document.getElementById('hdr-state').textContent === 'transparent',
      null, { timeout: WAIT });
    assert.ok(await p.isHidden('#error-banner'), 'no "does not answer" banner');
    // The live stream too: a command-mode entry on the tty shows without a reload.
    await p.waitForFunction(() => document.getElementById('hdr-live').dataset.live === 'on',
      null, { timeout: WAIT });
    await tty('AT+VER');
    await p.waitForFunction(() => document.getElementById('hdr-state').textContent === 'command',
      null, { timeout: WAIT });
    await ttyIn('AT+ENTM');
    // A POST (a setting saved) goes through the same way.
    await p.evaluate(() => { location.hash = 'misc'; });
    await p.waitForSelector('#f-MID-name', { state: 'visible', timeout: WAIT });
    await p.fill('#f-MID-name', 'Url-Creds');
    await p.click('#save-misc');
    await p.waitForFunction(() => document.getElementById('saved-MID').textContent === 'saved ✓',
      null, { timeout: WAIT });
    const r = await tty('AT+MID', 'AT+ENTM');
    assert.equal(r['AT+MID'], '+ok=Url-Creds');
    assert.deepEqual(errors, []);
  } finally {
    await plain.close();
  }
});
