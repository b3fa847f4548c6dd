// What the browser journeys, the gateway check and the UI benchmark share: where the gateway is,
// Debian's Chromium through playwright-core, steps that print and time themselves, and a small PNG
// encoder for upload tests.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const BASE = (process.env.STOREFRONT_GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const OUT = process.env.STOREFRONT_E2E_DIR ?? join(process.cwd(), '../../target/e2e');
const CHROMIUM = process.env.STOREFRONT_CHROMIUM ?? '/usr/bin/chromium';

export function launch() {
  mkdirSync(OUT, { recursive: true });
  // Failure screenshots of an earlier run would only mislead.
  for (const name of readdirSync(OUT)) if (name.startsWith('failed-')) rmSync(join(OUT, name));
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export class Failure extends Error {}

export function check(condition, message) {
  if (!condition) throw new Failure(message);
}

/** Runs named steps in order, printing each with its time; stops at the first failure. */
export async function journey(name, page, steps) {
  console.log(`\n● ${name}`);
  for (const [label, step] of steps) {
    const started = performance.now();
    try {
      await step();
      console.log(`  ✓ ${label} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
    } catch (error) {
      console.log(`  ✗ ${label}: ${error instanceof Error ? error.message : error}`);
      const shot = join(OUT, `failed-${name.replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      console.log(`    screenshot: ${shot}`);
      throw error;
    }
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A `size`×`size` RGB PNG: a diagonal gradient between two colours (so each call's content differs). */
export function pngImage(size, [r1, g1, b1], [r2, g2, b2]) {
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x += 1) {
      const t = (x + y) / (2 * size);
      row[1 + x * 3] = Math.round(r1 + (r2 - r1) * t);
      row[2 + x * 3] = Math.round(g1 + (g2 - g1) * t);
      row[3 + x * 3] = Math.round(b1 + (b2 - b1) * t);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small accessibility audit of what is on screen: every control has an accessible name, every image
 *  an alt attribute, the page a main landmark and one h1, and ids are unique. Returns the problems. */
export async function accessibilityProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const named = (el) => {
      if (el.getAttribute('aria-label')?.trim()) return true;
      const by = el.getAttribute('aria-labelledby');
      if (by && by.split(/\s+/).some((id) => document.getElementById(id)?.textContent?.trim())) return true;
      if (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent?.trim()) return true;
      if (el.closest('label')?.textContent?.trim()) return true;
      if (el.getAttribute('title')?.trim()) return true;
      if (['BUTTON', 'A'].includes(el.tagName) || el.getAttribute('role') === 'button') {
        return !!(el.textContent?.trim() || el.querySelector('img[alt]:not([alt=""])'));
      }
      return false;
    };
    const controls = document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href], [role=button], [role=combobox], [role=checkbox], [role=tab]');
    for (const el of controls) {
      if (!visible(el) && el.type !== 'file') continue;
      if (el.type === 'file' || el.closest('[aria-hidden=true]')) continue;
      if (!named(el)) problems.push(`unnamed ${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`);
    }
    for (const img of document.querySelectorAll('img')) {
      if (!img.hasAttribute('alt')) problems.push(`img without alt: ${img.src.slice(-40)}`);
    }
    if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
    const h1 = [...document.querySelectorAll('h1')].filter(visible);
    if (h1.length !== 1) problems.push(`${h1.length} visible h1 elements`);
    const ids = new Map();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
    for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" used ${n} times`);
    if (!document.documentElement.lang) problems.push('no lang on <html>');
    return problems;
  });
}
