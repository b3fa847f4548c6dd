// `cargo xtask bench ui`: the store UI's initial JavaScript (what index.html loads before anything
// renders, gzipped and brotli-compressed) and the Largest Contentful Paint of the home and a product page
// in headless Chromium through the gateway, cold cache (a new browser context per load) and warm
// (a reload). Prints figures against the targets; never fails on timing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { BASE, launch } from '../e2e/harness.mjs';

const RUNS = Number(process.env.BENCH_UI_RUNS ?? 7);
const JS_TARGET_KB = 200;
const LCP_TARGET_MS = 1500;
const dist = join(import.meta.dirname, '..', 'dist');

function initialJavaScript() {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ].map((m) => m[1]);
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  for (const file of files) {
    const data = readFileSync(join(dist, file));
    raw += data.length;
    gzip += gzipSync(data, { level: 9 }).length;
    brotli += brotliCompressSync(data).length;
  }
  return { files, raw, gzip, brotli };
}

const lcpObserver = () => {
  window.__lcp = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__lcp = Math.max(window.__lcp, entry.startTime);
  }).observe({ type: 'largest-contentful-paint', buffered: true });
};

async function measure(browser, path, ready) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < RUNS; i += 1) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await context.addInitScript(lcpObserver);
    const page = await context.newPage();
    for (const bucket of [cold, warm]) {
      await page.goto(`${BASE}${path}`, { waitUntil: 'load' });
      await page.locator(ready).first().waitFor();
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      bucket.push(await page.evaluate(() => window.__lcp));
    }
    await context.close();
  }
  return { cold, warm };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const verdict = (ok) => (ok ? 'within target' : 'OVER target');

const js = initialJavaScript();
console.log('store UI benchmark (dist/ as built; pages through the gateway at %s)\n', BASE);
console.log(`initial JavaScript: ${js.files.length} file(s), ${kb(js.raw)} raw, ${kb(js.gzip)} gzip -9, ${kb(js.brotli)} brotli`);
console.log(`  gzip ${kb(js.gzip)} vs target ≤ ${JS_TARGET_KB} KB: ${(js.gzip / 1024 / JS_TARGET_KB * 100).toFixed(0)}% of the budget, ${verdict(js.gzip <= JS_TARGET_KB * 1024)}`);

const some = await (await fetch(`${BASE}/api/catalog/products?limit=1`)).json();
const slug = some.items?.[0]?.slug;
const browser = await launch();
const pages = [
  ['home', '/', '[data-testid=product-card] img'],
  ['product', `/p/${slug}`, '[data-testid=product-image]'],
];
console.log(`\nLargest Contentful Paint, ${RUNS} loads each (cold: new browser context; warm: reload)`);
console.log('page      cold p50   cold max   warm p50   target');
for (const [name, path, ready] of pages) {
  const { cold, warm } = await measure(browser, path, ready);
  const line = `${name.padEnd(9)} ${`${median(cold).toFixed(0)} ms`.padStart(8)}   ${`${Math.max(...cold).toFixed(0)} ms`.padStart(8)}   ${`${median(warm).toFixed(0)} ms`.padStart(8)}   ≤ ${LCP_TARGET_MS} ms: ${verdict(median(cold) <= LCP_TARGET_MS)} (${(median(cold) / LCP_TARGET_MS).toFixed(2)}× the target)`;
  console.log(line);
}
await browser.close();
