// The gateway under a burst: past the API rate limit it answers 429 with Retry-After and a problem+json
// body, never a 5xx, and serves again once the wait is over. Also checks the headers and caps it adds.
import { BASE, check } from './harness.mjs';

const BURST = Number(process.env.STOREFRONT_BURST ?? 300);
const path = '/api/search/suggest?q=tr';

async function hit() {
  const response = await fetch(`${BASE}${path}`);
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), type: response.headers.get('content-type') ?? '' };
}

function step(label, fn) {
  return fn().then(
    () => console.log(`  ✓ ${label}`),
    (error) => {
      console.log(`  ✗ ${label}: ${error.message}`);
      throw error;
    },
  );
}

console.log(`● gateway at ${BASE}`);
let failed = false;
try {
  await step(`a burst of ${BURST} concurrent API requests: 429 + Retry-After past the limit, never a 5xx`, async () => {
    const results = await Promise.all(Array.from({ length: BURST }, hit));
    const byStatus = {};
    for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    console.log(`    statuses: ${JSON.stringify(byStatus)}`);
    check(results.every((r) => r.status < 500), 'a request got a 5xx');
    const limited = results.filter((r) => r.status === 429);
    check(limited.length > 0, 'no request was rate limited');
    check(results.every((r) => r.status === 200 || r.status === 429), 'a status other than 200 or 429');
    check(limited.every((r) => Number(r.retryAfter) >= 1), 'a 429 without a numeric Retry-After');
    check(limited.every((r) => r.type.includes('application/problem+json')), 'a 429 that is not problem+json');
    const wait = Math.max(...limited.map((r) => Number(r.retryAfter)));
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 200));
    const after = await hit();
    check(after.status === 200, `after Retry-After the API answered ${after.status}`);
  });

  await step('security headers on pages and API answers', async () => {
    for (const p of ['/', '/api/catalog/categories?limit=1']) {
      const r = await fetch(`${BASE}${p}`);
      await r.arrayBuffer();
      for (const h of ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-request-id']) {
        check(r.headers.get(h), `${p} lacks ${h}`);
      }
      check(r.headers.get('content-security-policy').includes("frame-ancestors 'none'"), `${p}: CSP without frame-ancestors`);
      check(!r.headers.get('strict-transport-security'), `${p}: HSTS over plain HTTP`);
    }
  });

  await step('hashed assets: precompressed and cached for a year; index.html revalidated', async () => {
    const index = await fetch(`${BASE}/`);
    const html = await index.text();
    check(/no-cache/.test(index.headers.get('cache-control') ?? ''), 'index.html is not revalidated');
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    check(script, 'index.html names no hashed script (is the UI built?)');
    for (const encoding of ['br', 'gzip']) {
      const r = await fetch(`${BASE}${script}`, { headers: { 'accept-encoding': encoding } });
      await r.arrayBuffer();
      check(r.headers.get('content-encoding') === encoding, `${script} not served as ${encoding} (got ${r.headers.get('content-encoding')})`);
      check(/max-age=31536000.*immutable/.test(r.headers.get('cache-control') ?? ''), `${script} is not cached immutably`);
      check(r.headers.get('x-content-type-options') === 'nosniff', `${script} lacks the security headers`);
    }
  });

  await step('a body over the route cap is a 413 problem at the gateway', async () => {
    const r = await fetch(`${BASE}/api/users/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'x@example.test', password: 'x'.repeat(200_000) }),
    });
    await r.arrayBuffer();
    check(r.status === 413, `answered ${r.status}`);
    check((r.headers.get('content-type') ?? '').includes('application/problem+json'), 'the 413 is not problem+json');
  });
} catch {
  failed = true;
}
process.exit(failed ? 1 : 0);
