// The store's journeys in Debian's Chromium, through the gateway, against the real running services:
//   shopper: browse → search with a typo → filter → two variants into the cart → register → checkout
//            (a declined card first, then a discount code and a shipping method, then a double click
//            on "Place order") → exactly one order, whose page shows discount, shipping and tax
//            → forgot password → the reset link from the mail → sign in with the new password
//   admin:   sign in → create a product with an image → the pricing rules → find it through search
// Screenshots of the main pages go to target/e2e/.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, OUT, accessibilityProblems, check, journey, launch, pngImage, screenshot } from './harness.mjs';

const ADMIN_EMAIL = process.env.STOREFRONT_ADMIN_EMAIL ?? 'admin@storefront.local';
const ADMIN_PASSWORD = process.env.STOREFRONT_ADMIN_PASSWORD ?? 'storefront-demo-admin';
const run = Date.now().toString(36);
let placedOrderId = null;
const money = (m) => new Intl.NumberFormat('en-US', { style: 'currency', currency: m.currency }).format(m.amount / 100);

// Where the users service of the local stack writes its mails (`USERS_MAIL_DIR`, set by `cargo xtask up`).
const MAIL_DIR = process.env.STOREFRONT_MAIL_DIR ?? join(process.cwd(), '../../.local/services/users/mail');

/** A mail's text with quoted-printable soft line breaks and escapes undone. */
function unquote(raw) {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** The link to `path` in the newest mail to `to` written after `since` (ms); waits for the mail. */
async function linkFromMail(to, path, since) {
  const pattern = new RegExp(`https?://[^\\s"<>]+/${path}\\?token=[A-Za-z0-9_-]+`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const mails = readdirSync(MAIL_DIR)
      .filter((name) => name.endsWith('.eml'))
      .map((name) => ({ file: join(MAIL_DIR, name), at: statSync(join(MAIL_DIR, name)).mtimeMs }))
      .filter((m) => m.at >= since - 1000)
      .sort((a, b) => b.at - a.at);
    for (const { file } of mails) {
      const text = unquote(readFileSync(file, 'utf8'));
      const recipient = /^To:\s*(.*)$/im.exec(text)?.[1] ?? '';
      const link = pattern.exec(text)?.[0];
      if (recipient.toLowerCase().includes(to.toLowerCase()) && link) return link;
    }
    check(Date.now() < deadline, `no mail to ${to} with a /${path} link in ${MAIL_DIR}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Fails the step when the page has accessibility problems the audit can see. */
async function audit(page, name) {
  const problems = await accessibilityProblems(page);
  check(problems.length === 0, `accessibility problems on ${name}: ${problems.join('; ')}`);
}

async function api(page, path) {
  const response = await page.request.get(`${BASE}${path}`);
  check(response.ok(), `GET ${path} answered ${response.status()}`);
  return response.json();
}

/** Sale prices (catalogue promotions in force) of the chosen variants, by SKU: what the cart charges. */
async function salePrices(page, variants) {
  const response = await page.request.post(`${BASE}/api/cart/prices`, { data: { skus: variants.map((v) => v.sku) } });
  check(response.ok(), `POST /api/cart/prices answered ${response.status()}`);
  const { items } = await response.json();
  return Object.fromEntries(items.map((i) => [i.sku, i.price.amount]));
}

/** Half up to a whole minor unit, the pricing service's documented rounding. */
const halfUp = (amount, numerator, denominator) => Math.floor((2 * amount * numerator + denominator) / (2 * denominator));

/** The demo admin's access token, for test fixtures set through the API. */
async function adminToken(request) {
  const response = await request.post(`${BASE}/api/users/login`, { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  check(response.ok(), `admin login answered ${response.status()}`);
  return (await response.json()).accessToken;
}

/** A product on the page with two variants that each have at least two units to sell. Every run buys
 *  some, so on a long-lived local stack the shelf is topped up (through the admin API) when no product
 *  on the page qualifies any more. */
async function productWithTwoVariants(page) {
  const hrefs = await page.locator('[data-testid=product-card] a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  const products = [];
  for (const href of hrefs) {
    const slug = decodeURIComponent(href.replace('/p/', ''));
    const product = await api(page, `/api/catalog/products/by-slug/${encodeURIComponent(slug)}`);
    products.push(product);
    const usable = [];
    for (const variant of product.variants) {
      const sku = await api(page, `/api/catalog/skus/${encodeURIComponent(variant.sku)}`);
      if (sku.available >= 2) usable.push(variant);
    }
    if (usable.length >= 2) return { product, variants: usable.slice(0, 2) };
  }
  const product = products.find((p) => p.variants.length >= 2);
  check(product, 'no product on the page has two variants');
  const token = await adminToken(page.request);
  for (const variant of product.variants.slice(0, 2)) {
    const response = await page.request.put(`${BASE}/api/catalog/skus/${encodeURIComponent(variant.sku)}/stock`, {
      headers: { authorization: `Bearer ${token}` },
      data: { onHand: 50 },
    });
    check(response.ok(), `restocking ${variant.sku} answered ${response.status()}`);
  }
  console.log(`    (restocked ${product.slug}: the demo shelf had run low)`);
  return { product, variants: product.variants.slice(0, 2) };
}

async function shopper(browser) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const email = `shopper-${run}@example.test`;
  let chosen;
  let brand;
  let sale;
  await journey('shopper', page, [
    ['home shows categories and new products', async () => {
      await page.goto(`${BASE}/`);
      await page.getByRole('heading', { name: 'Shop by category' }).waitFor();
      await page.locator('[data-testid=product-card]').first().waitFor();
      check((await page.locator('[data-testid=product-card]').count()) >= 4, 'fewer than 4 new products on the home page');
      await screenshot(page, 'home');
      await audit(page, 'home');
    }],
    ['the phone layout fits: home, search with its filter drawer, product', async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
      await phone.goto(`${BASE}/`);
      await phone.locator('[data-testid=product-card]').first().waitFor();
      const fits = async (what) => {
        const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        check(overflow <= 0, `${what} is ${overflow}px wider than a phone screen`);
      };
      await fits('the home page');
      await phone.screenshot({ path: `${OUT}/home-phone.png`, fullPage: false });
      await phone.goto(`${BASE}/search?q=travel`);
      await phone.locator('[data-testid=product-card]').first().waitFor();
      await fits('the search page');
      await phone.getByRole('button', { name: 'Filters' }).click();
      await phone.getByRole('button', { name: 'Close filters' }).waitFor();
      await phone.waitForTimeout(400); // the drawer's slide-in
      await phone.screenshot({ path: `${OUT}/search-phone-filters.png`, fullPage: false });
      await phone.getByRole('button', { name: 'Close filters' }).click();
      await phone.locator('[data-testid=product-card] a').first().click();
      await phone.getByTestId('add-to-cart').waitFor();
      await fits('a product page');
      await phone.screenshot({ path: `${OUT}/product-phone.png`, fullPage: false });
      await phone.close();
    }],
    ['a category page lists its products with filters', async () => {
      await page.getByRole('link', { name: /^Outdoors/ }).click();
      await page.waitForURL(/\/c\/outdoors/);
      await page.getByRole('heading', { level: 1, name: 'Outdoors' }).waitFor();
      await page.getByTestId('result-count').filter({ hasText: /[1-9]\d* products?/ }).waitFor();
      await page.getByRole('link', { name: 'Camping', exact: true }).waitFor();
      await screenshot(page, 'category');
      await audit(page, 'category');
      await page.goBack();
      await page.getByRole('heading', { name: 'Shop by category' }).waitFor();
    }],
    ['suggestions appear while typing', async () => {
      const box = page.getByRole('combobox', { name: 'Search products' });
      await box.waitFor({ timeout: 10_000 });
      await box.click();
      await box.fill('tra');
      await page.getByRole('listbox').getByRole('option').first().waitFor();
      await screenshot(page, 'suggestions');
    }],
    ['suggestions work from the keyboard alone', async () => {
      const box = page.getByRole('combobox', { name: 'Search products' });
      await box.press('ArrowDown');
      await box.press('Enter');
      await page.waitForURL(/\/p\//);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Shop by category' }).waitFor();
    }],
    ['a search with a typo finds products', async () => {
      const box = page.getByRole('combobox', { name: 'Search products' });
      await box.fill('travle');
      await box.press('Enter');
      await page.waitForURL(/\/search\?q=travle/);
      await page.getByTestId('result-count').filter({ hasText: /[1-9]\d* products?/ }).waitFor();
      check((await page.locator('[data-testid=product-card]').count()) > 0, 'no product cards for "travle"');
      await screenshot(page, 'search');
    }],
    ['a brand filter narrows the results to its count', async () => {
      const facet = page.locator('fieldset', { has: page.getByText('Brand', { exact: true }) }).locator('label').first();
      const label = await facet.innerText();
      const [, name, count] = label.match(/^(.*) \((\d+)\)$/) ?? [];
      check(name && count, `unexpected facet label ${label}`);
      brand = name;
      await facet.click();
      await page.waitForURL(new RegExp(`brand=${encodeURIComponent(name)}`));
      await page.getByTestId('result-count').filter({ hasText: new RegExp(`^${count} products?$`) }).waitFor();
      await screenshot(page, 'search-filtered');
      await audit(page, 'search-filtered');
    }],
    ['the product page shows variants, images and stock', async () => {
      chosen = await productWithTwoVariants(page);
      await page.locator(`[data-testid=product-card] a[href="/p/${chosen.product.slug}"]`).click();
      await page.getByRole('heading', { level: 1, name: chosen.product.title }).waitFor();
      await page.getByTestId('product-image').waitFor();
      await page.getByTestId('stock-state').filter({ hasText: /In stock|left/ }).waitFor();
      check(chosen.product.brand === brand, `the product's brand ${chosen.product.brand} is not the filtered ${brand}`);
      await screenshot(page, 'product');
      await audit(page, 'product');
    }],
    ['two variants go into the cart, where quantities can be changed', async () => {
      for (const variant of chosen.variants) {
        for (const [, value] of Object.entries(variant.attributes ?? {})) {
          await page.getByRole('button', { name: value, exact: true }).click();
        }
        await page.getByTestId('product-price').filter({ hasText: money(variant.price) }).waitFor();
        await page.getByTestId('add-to-cart').click();
        await page.getByText(`(${variant.title ?? variant.sku}) to your cart`).waitFor();
      }
      await page.getByTestId('cart-button').click();
      await page.getByRole('heading', { name: 'Your cart' }).waitFor();
      check((await page.getByTestId('cart-line').count()) === 2, 'the cart does not have two lines');
      sale = await salePrices(page, chosen.variants);
      const expected = chosen.variants.reduce((sum, v) => sum + sale[v.sku], 0);
      const currency = chosen.variants[0].price.currency;
      await page.getByTestId('cart-subtotal').filter({ hasText: money({ amount: expected, currency }) }).waitFor();
      // Quantities are edited in place; the server reprices the cart each time.
      const first = page.getByTestId('cart-line').first();
      await first.getByRole('button', { name: /^Increase quantity/ }).click();
      const [one, two] = chosen.variants;
      const lineUp = await first.innerText();
      const bumped = lineUp.includes(one.title ?? one.sku) ? one : two;
      await page.getByTestId('cart-subtotal').filter({ hasText: money({ amount: expected + sale[bumped.sku], currency }) }).waitFor();
      await first.getByRole('button', { name: /^Decrease quantity/ }).click();
      await page.getByTestId('cart-subtotal').filter({ hasText: money({ amount: expected, currency }) }).waitFor();
      await screenshot(page, 'cart');
      await audit(page, 'cart');
    }],
    ['checkout asks a guest to sign in; registering keeps the cart', async () => {
      await page.getByTestId('go-to-checkout').click();
      await page.waitForURL(/\/login\?next=%2Fcheckout/);
      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.getByLabel('Name').fill('E2E Shopper');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(/\/checkout$/);
      await page.getByRole('heading', { name: 'Checkout' }).waitFor();
      const expected = chosen.variants.reduce((sum, v) => sum + sale[v.sku], 0);
      await page.getByTestId('checkout-total').filter({ hasText: money({ amount: expected, currency: chosen.variants[0].price.currency }) }).waitFor();
    }],
    ['a new address is saved at checkout', async () => {
      await page.locator('input[name=fullName]').fill('E2E Shopper');
      await page.locator('input[name=line1]').fill('1 Test Street');
      await page.locator('input[name=postalCode]').fill('10115');
      await page.locator('input[name=city]').fill('Berlin');
      await page.locator('input[name=country]').fill('DE');
      await page.getByRole('button', { name: 'Use this address' }).click();
      await page.getByRole('radio', { name: /1 Test Street/ }).waitFor();
      await screenshot(page, 'checkout');
      await audit(page, 'checkout');
    }],
    ['stock sold out meanwhile is explained and nothing is ordered', async () => {
      const token = await adminToken(page.request);
      const setStock = (sku, onHand) =>
        page.request.put(`${BASE}/api/catalog/skus/${encodeURIComponent(sku)}/stock`, {
          headers: { authorization: `Bearer ${token}` },
          data: { onHand },
        });
      const sku = chosen.variants[0].sku;
      const emptied = await setStock(sku, 0);
      check(emptied.ok(), `emptying ${sku} answered ${emptied.status()}`);
      try {
        await page.getByTestId('place-order').click();
        await page.getByTestId('checkout-error').filter({ hasText: 'Some items are out of stock' }).waitFor();
        await page.getByTestId('checkout-error').filter({ hasText: sku }).waitFor();
        await screenshot(page, 'checkout-out-of-stock');
      } finally {
        const restocked = await setStock(sku, 50);
        check(restocked.ok(), `restocking ${sku} answered ${restocked.status()}`);
      }
    }],
    ['a declined card is explained and nothing is ordered', async () => {
      await page.getByTestId('card-number').fill('4000 0000 0000 0002');
      await page.getByTestId('place-order').click();
      await page.getByTestId('checkout-error').filter({ hasText: 'Your card was declined' }).waitFor();
      await screenshot(page, 'checkout-declined');
    }],
    ['a discount code and a shipping method price the order: code, shipping, tax', async () => {
      // A single-use code of this run's own, made through the admin API.
      const code = `E2E-${run}`.toUpperCase();
      const token = await adminToken(page.request);
      const created = await page.request.put(`${BASE}/api/cart/admin/discount-codes/${code}`, {
        headers: { authorization: `Bearer ${token}` },
        data: { description: 'e2e', value: { type: 'percent', basisPoints: 1000 }, usageLimit: 1 },
      });
      check(created.ok(), `creating the code answered ${created.status()}`);
      await page.getByTestId('discount-code').fill(code.toLowerCase());
      await page.getByTestId('apply-code').click();
      await page.getByTestId('applied-code').filter({ hasText: code }).waitFor();
      await page.getByTestId('shipping-option').first().waitFor();
      await page.getByRole('radio', { name: /^Express/ }).check();
      const currency = chosen.variants[0].price.currency;
      const goods = chosen.variants.reduce((sum, v) => sum + sale[v.sku] - halfUp(sale[v.sku], 1000, 10_000), 0);
      const discount = chosen.variants.reduce((sum, v) => sum + halfUp(sale[v.sku], 1000, 10_000), 0);
      // The demo store (DE, prices include 19 % tax): express is 14.90 whatever the weight.
      await page.getByTestId('summary-discount').filter({ hasText: money({ amount: discount, currency }) }).waitFor();
      await page.getByTestId('summary-shipping').filter({ hasText: money({ amount: 1490, currency }) }).waitFor();
      await page.getByTestId('checkout-total').filter({ hasText: money({ amount: goods + 1490, currency }) }).waitFor();
      const tax = chosen.variants.reduce((sum, v) => sum + halfUp(sale[v.sku] - halfUp(sale[v.sku], 1000, 10_000), 1900, 11_900), 0) + halfUp(1490, 1900, 11_900);
      await page.getByTestId('summary-tax').filter({ hasText: money({ amount: tax, currency }) }).waitFor();
      check((await page.getByTestId('line-tax').count()) === 2, 'tax is not shown per line');
      await screenshot(page, 'checkout-priced');
      await audit(page, 'checkout-priced');
    }],
    ['a double click on "Place order" makes one order', async () => {
      await page.getByTestId('card-number').fill('4242 4242 4242 4242');
      await page.getByTestId('place-order').dblclick();
      await page.waitForURL(/\/account\/orders\/[^/?]+\?placed=1/);
      placedOrderId = new URL(page.url()).pathname.split('/').pop();
      await page.getByTestId('order-placed').waitFor();
      check((await page.getByTestId('order-line').count()) === 2, 'the order does not have two lines');
      await page.getByTestId('order-shipping-method').filter({ hasText: 'Express' }).waitFor();
      await page.getByTestId('summary-discount').filter({ hasText: `E2E-${run}`.toUpperCase() }).waitFor();
      check((await page.getByTestId('order-line-tax').count()) === 2, 'the order does not show tax per line');
      await screenshot(page, 'order');
      await audit(page, 'order');
    }],
    ['order history shows exactly one confirmed order', async () => {
      await page.goto(`${BASE}/account/orders`);
      await page.getByTestId('order-row').first().waitFor();
      const rows = await page.getByTestId('order-row').allInnerTexts();
      const confirmed = rows.filter((r) => r.includes('Confirmed'));
      check(confirmed.length === 1, `expected one confirmed order, found ${confirmed.length}: ${rows.join(' | ')}`);
      await screenshot(page, 'orders');
    }],
    ['the profile name and addresses can be edited', async () => {
      await page.goto(`${BASE}/account`);
      const name = page.getByRole('textbox', { name: 'Name' });
      await name.waitFor();
      await name.fill('E2E Shopper Renamed');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor();
      await page.getByText('1 Test Street').waitFor();
      await page.getByTestId('verify-notice').getByRole('button', { name: 'Resend verification email' }).waitFor();
      await screenshot(page, 'account');
      await audit(page, 'account');
    }],
    ['the cart is empty after the order', async () => {
      await page.getByTestId('cart-button').click();
      await page.getByText('Your cart is empty').waitFor();
    }],
    ['sign out, and the session survives nothing', async () => {
      await page.getByTestId('account-button').click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Sign in' }).waitFor();
      await page.goto(`${BASE}/account/orders`);
      await page.waitForURL(/\/login/);
    }],
    ['a forgotten password is reset through the mailed link', async () => {
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.waitForURL(/\/forgot-password/);
      // The page is loaded on demand: fill its own field, not the sign-in form still on screen.
      await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
      await page.getByLabel('Email').fill(email);
      const asked = Date.now();
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText("If an account exists for that address, we've sent a link.").waitFor();
      const link = new URL(await linkFromMail(email, 'reset-password', asked));
      await page.goto(`${BASE}${link.pathname}${link.search}`);
      await page.locator('input[name=newPassword]').fill('a brand new passphrase');
      await page.locator('input[name=confirmPassword]').fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Set new password' }).click();
      await page.getByText('Your password has been changed').waitFor();
      await audit(page, 'reset password');
      await page.locator('main').getByRole('link', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(/\/login/);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByTestId('account-button').waitFor();
    }],
  ]);
  await context.close();
}

async function admin(browser) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const title = `Lantern ${run}`;
  const sku = `E2E-${run}-AMBER`.toUpperCase();
  const slug = `lantern-${run}`;
  await journey('admin', page, [
    ['an admin signs in and sees the dashboard', async () => {
      await page.goto(`${BASE}/login?next=%2Fadmin`);
      await page.getByLabel('Email').fill(ADMIN_EMAIL);
      await page.getByLabel('Password').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/admin$/);
      await page.getByRole('heading', { name: 'Today' }).waitFor();
      await page.getByTestId('orders-today').or(page.getByTestId('summary-unavailable')).first().waitFor();
      await page
        .getByRole('table')
        .or(page.getByText('Nothing is running low.'))
        .or(page.getByTestId('low-stock-unavailable'))
        .first()
        .waitFor();
      await screenshot(page, 'admin-dashboard');
      await audit(page, 'admin-dashboard');
    }],
    ['a category is created under another, then deleted', async () => {
      const name = `E2E ${run}`;
      await page.getByRole('tab', { name: 'Categories' }).click();
      await page.getByRole('heading', { name: 'New category' }).waitFor();
      const form = page.locator('form').first();
      await form.getByRole('textbox', { name: 'Name' }).fill(name);
      await form.getByRole('combobox', { name: 'Parent' }).click();
      await page.getByRole('option', { name: 'Outdoors' }).click();
      await form.getByRole('button', { name: 'Create category' }).click();
      const row = page.locator('li', { hasText: `/c/e2e-${run}` });
      await row.waitFor();
      await screenshot(page, 'admin-categories');
      await row.getByRole('button', { name: 'Delete' }).click();
      await row.waitFor({ state: 'detached' });
    }],
    ['a product is created with a variant', async () => {
      await page.getByRole('tab', { name: 'Products' }).click();
      await page.getByTestId('new-product').click();
      await page.locator('input[name=title]').fill(title);
      await page.locator('input[name=brand]').fill('Northwind');
      await page.getByRole('combobox', { name: 'Categories' }).click();
      await page.getByRole('option', { name: 'Outdoors' }).click();
      await page.keyboard.press('Escape');
      await page.locator('textarea[name=description]').fill('A warm amber lantern for long evenings outdoors.');
      await page.getByTestId('variant-0-sku').fill(sku);
      await page.getByTestId('variant-0-title').fill('amber');
      await page.getByTestId('variant-0-price').fill('24.50');
      await page.getByTestId('variant-0-attributes').fill('colour: amber');
      await page.getByTestId('variant-0-stock').fill('12');
      await page.getByTestId('save-product').click();
      await page.waitForURL(/\/admin\/products\/[^/?]+\?created=1/);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
    }],
    ['an image is previewed, then uploaded', async () => {
      await page.getByTestId('image-file').setInputFiles({
        name: 'lantern.png',
        mimeType: 'image/png',
        buffer: pngImage(320, [255, 176, 46], [120, 40, (Date.now() % 200) + 20]),
      });
      await page.getByTestId('image-preview').waitFor();
      await screenshot(page, 'admin-image-preview');
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.getByTestId('product-images').locator('img').first().waitFor();
      await page.getByTestId('image-preview').waitFor({ state: 'detached' });
      await screenshot(page, 'admin-product');
      await audit(page, 'admin-product');
    }],
    ['the shopper’s order is marked shipped', async () => {
      check(placedOrderId, 'the shopper journey placed no order');
      await page.goto(`${BASE}/admin/orders`);
      const row = page.locator('li', { has: page.getByRole('button', { name: placedOrderId.slice(-8).toUpperCase() }) });
      await row.getByRole('button', { name: 'Mark shipped' }).click();
      await row.getByText('Shipped').waitFor();
      await screenshot(page, 'admin-orders');
    }],
    ['the pricing rules are listed: promotions, codes, shipping zones and tax', async () => {
      await page.goto(`${BASE}/admin/promotions`);
      await page.getByTestId('promotion-row').first().waitFor();
      await page.getByTestId('code-row').filter({ hasText: 'WELCOME10' }).waitFor();
      await screenshot(page, 'admin-promotions');
      await audit(page, 'admin-promotions');
      await page.goto(`${BASE}/admin/shipping`);
      await page.getByTestId('zone-row').filter({ hasText: '(DE)' }).waitFor();
      await page.getByTestId('tax-form').waitFor();
      await screenshot(page, 'admin-shipping');
      await audit(page, 'admin-shipping');
    }],
    ['its stock is looked up and set', async () => {
      await page.getByRole('tab', { name: 'Stock' }).click();
      await page.getByRole('textbox', { name: 'SKU' }).fill(sku);
      await page.getByRole('button', { name: 'Look up' }).click();
      await page.getByText('Available to sell now:').filter({ hasText: '12' }).waitFor();
      await page.getByRole('textbox', { name: 'Set units on hand' }).fill('20');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText(/On hand is now 20/).waitFor();
      await page.getByText('Available to sell now:').filter({ hasText: '20' }).waitFor();
    }],
    ['the new product is found through search', async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        await page.goto(`${BASE}/search?q=${encodeURIComponent(title)}`);
        await page.getByTestId('result-count').filter({ hasText: /\d/ }).waitFor();
        // Found once the index has the product and, a moment later, its image.
        const card = page.locator('[data-testid=product-card]', { hasText: title });
        if ((await card.count()) > 0 && (await card.locator('img').count()) === 1) break;
        check(Date.now() < deadline, `"${title}" was not searchable with its image within 30 s`);
        await page.waitForTimeout(1000);
      }
      await screenshot(page, 'admin-product-in-search');
      await page.locator('[data-testid=product-card]', { hasText: title }).click();
      await page.getByTestId('stock-state').filter({ hasText: 'In stock' }).waitFor();
    }],
    ['archiving the product takes it off the shop', async () => {
      await page.goBack();
      await page.goto(`${BASE}/admin/products`);
      await page.getByRole('link', { name: title }).click();
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await page.getByRole('combobox', { name: 'Status' }).click();
      await page.getByRole('option', { name: 'Archived' }).click();
      await page.getByTestId('save-product').click();
      await page.getByText('Saved.').waitFor();
      await page.goto(`${BASE}/p/${slug}`);
      await page.getByText('This product is no longer sold.').waitFor();
      check(await page.getByTestId('add-to-cart').isDisabled(), 'an archived product can still be added to the cart');
    }],
  ]);
  await context.close();
}

/** A stack that was just started has seeded the catalog, but search indexes it a few seconds later:
 *  wait until the index holds products and their count has stopped growing. */
async function waitForSearchIndex() {
  const deadline = Date.now() + 90_000;
  const counts = [];
  for (;;) {
    const response = await fetch(`${BASE}/api/search?limit=1`).catch(() => null);
    counts.push(response?.ok ? (await response.json()).total : 0);
    const [a, b, c] = counts.slice(-3);
    if (c > 0 && a === b && b === c) return;
    if (Date.now() > deadline) throw new Error(`the search index is not settled after 90 s (${counts.slice(-3)})`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

await waitForSearchIndex();
const browser = await launch();
let failed = false;
for (const j of [shopper, admin]) {
  try {
    await j(browser);
  } catch {
    failed = true;
  }
}
await browser.close();
console.log(failed ? '\ne2e: FAILED' : `\ne2e: all journeys passed; screenshots in ${OUT}`);
process.exit(failed ? 1 : 0);
