// Helpers of the browser tests: Debian's Chromium through playwright-core, RFC 6238 codes
// (each step used once per user, as the server refuses replays), screenshots.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';

export const URL = process.env.JSMS_URL;
export const SHOTS = process.env.JSMS_SCREENSHOTS || 'target/screenshots';
mkdirSync(SHOTS, { recursive: true });

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

export function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(msg).digest();
  const o = mac[mac.length - 1] & 15;
  const n = ((mac[o] & 127) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return String(n % 1e6).padStart(6, '0');
}

const used = new Map();
// A code the server has not seen for this user: the previous step, then the current one,
// then the next; waits for a new step when all three were used.
export async function nextCode(user, secret) {
  for (;;) {
    const now = Math.floor(Date.now() / 30000);
    const last = used.get(user) ?? -Infinity;
    const step = Math.max(now - 1, last + 1);
    if (step <= now + 1) {
      used.set(user, step);
      return totp(secret, step);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

// A page at 1366×768 that fails the test on any console error or failed script.
export async function newPage(b, errors) {
  const context = await b.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return page;
}

export async function signIn(page, login) {
  await page.goto(`${URL}/#/sign-in`);
  await page.getByLabel('Username').fill(login.username);
  await page.getByLabel('Password').fill(login.password);
  // A code another client of the same user used already is refused: take the next one.
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.getByLabel('One-time code').fill(await nextCode(login.username, login.totp_secret));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const outcome = await Promise.race([
      page.locator('#bar:not([hidden])').waitFor().then(() => 'in'),
      page.locator('form .error').waitFor().then(() => 'refused'),
    ]);
    if (outcome === 'in') return;
  }
  throw new Error(`sign-in of ${login.username} refused`);
}

export async function shot(page, name) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}
