// Shared helpers of the e2e specs: Debian's chromium through playwright-core (never a
// downloaded browser), sign-in, screenshots, an axe-core accessibility check, and assertions
// that fail the run with a clear message.
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const base = process.argv[2];
if (!base) {
  console.error('usage: node <spec>.mjs <base-url>');
  process.exit(2);
}
export const outDir = process.env.E2E_OUT_DIR || join(tmpdir(), 'powernode-e2e');
mkdirSync(outDir, { recursive: true });
export const admin = { email: process.env.E2E_ADMIN_EMAIL, password: process.env.E2E_ADMIN_PASSWORD };
export const member = process.env.E2E_MEMBER_EMAIL ? { email: process.env.E2E_MEMBER_EMAIL, password: process.env.E2E_MEMBER_PASSWORD } : null;

const dirs = [];
const contexts = [];

/** A fresh browser profile each call (a "fresh context": no storage, no cookies). */
export async function newContext(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pn-e2e-profile-'));
  dirs.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
  contexts.push(ctx);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(15000);
  page.on('pageerror', (err) => {
    pageErrors.push(String(err));
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  return { ctx, page };
}

export const pageErrors = [];
export const consoleErrors = [];

export async function closeAll() {
  for (const c of contexts) await c.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

let failures = 0;
let passes = 0;
export function check(cond, message) {
  if (cond) {
    passes += 1;
    console.log(`  ok   ${message}`);
  } else {
    failures += 1;
    console.log(`  FAIL ${message}`);
  }
}

export async function step(name, fn) {
  console.log(`- ${name}`);
  try {
    await fn();
  } catch (err) {
    failures += 1;
    console.log(`  FAIL ${name}: ${err && err.stack ? err.stack.split('\n').slice(0, 4).join('\n       ') : err}`);
  }
}

export async function finish() {
  await closeAll();
  if (pageErrors.length) {
    failures += pageErrors.length;
    for (const e of pageErrors) console.log(`  FAIL uncaught page error: ${e}`);
  }
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

export async function signIn(page, who) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

export async function navIds(page) {
  return page.$$eval('[data-nav]', (els) => els.map((e) => e.getAttribute('data-nav')));
}

export async function shot(page, name) {
  const file = join(outDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Run axe-core in the page (evaluated through the DevTools protocol, so the page's CSP,
 * which forbids inline scripts, does not block it); serious and critical violations fail. */
export async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`       axe ${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`);
  const minor = result.length - bad.length;
  check(bad.length === 0, `axe: no serious or critical violations on ${name}${minor ? ` (${minor} minor/moderate)` : ''}`);
  return result;
}

/** Visit a page of the app, wait for its heading, screenshot it and check it with axe. */
export async function visit(page, path, title, name) {
  await page.goto(`${base}${path}`);
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  // Let the page's first requests settle.
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await shot(page, name);
  await axe(page, name);
}

export async function api(method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined && !(body instanceof Uint8Array)) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else payload = body;
  const res = await fetch(`${base}${path}`, { method, headers: h, body: payload });
  const type = res.headers.get('content-type') || '';
  const doc = type.includes('json') ? await res.json() : null;
  return { status: res.status, doc, headers: res.headers };
}

export async function login(who) {
  const r = await api('POST', '/api/v1/auth/login', { body: { email: who.email, password: who.password } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status}`);
  return r.doc.data.access_token;
}

/** RFC 6238 TOTP (RFC 4226 HOTP over time steps) from an otpauth:// URI. */
export function totp(uri, at = Date.now()) {
  const u = new URL(uri);
  const secret = u.searchParams.get('secret');
  const digits = Number(u.searchParams.get('digits') || 6);
  const period = Number(u.searchParams.get('period') || 30);
  const algo = (u.searchParams.get('algorithm') || 'SHA1').toLowerCase();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Math.floor(at / 1000 / period);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac(algo, key).update(msg).digest();
  const off = mac[mac.length - 1] & 0xf;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 10 ** digits;
  return { code: String(bin).padStart(digits, '0'), step, period };
}
