// Stands in for the user at the browser: `BROWSER=browser.mjs authcfg ...`
// is given authcfg's one-time link to the authorization URL (or to the
// device verification URL), or the URL itself, logs in
// and consents through oidc-provider's HTML forms with plain HTTP and a
// cookie jar, and follows the final redirect to authcfg's loopback listener.
// PEER_LOGIN=user (default alice); PEER_ACTION=approve|deny.
const login = process.env.PEER_LOGIN || 'alice';
const action = process.env.PEER_ACTION || 'approve';
const jar = new Map();
let url = new URL(process.argv[2]);
// authcfg gives the browser a one-time link on its own listener, which
// redirects to the provider: follow it first (once, as a browser would).
if (url.pathname.startsWith('/start/')) {
  const res = await fetch(url, { redirect: 'manual' });
  const loc = res.headers.get('location');
  if (!loc) {
    if (process.env.PEER_DEBUG) console.error('start link refused', res.status);
    process.exit(3);
  }
  url = new URL(loc, url);
}
const issuerOrigin = url.origin;

async function go(target, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(target, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}
const form = (o) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(o).toString(),
});
const hidden = (html, name) => (html.match(new RegExp(`name="${name}" value="([^"]*)"`)) || [])[1];

for (let step = 0; step < 20; step += 1) {
  if (process.env.PEER_DEBUG) console.error(step, url.href);
  if (url.origin !== issuerOrigin) {
    // The redirect to the app's loopback callback: deliver it and stop
    // (or, for --manual flows, print it for the user to paste).
    if (process.env.PEER_PRINT_REDIRECT) {
      process.stdout.write(`${url}\n`);
      process.exit(0);
    }
    const res = await fetch(url, { redirect: 'manual' });
    // PEER_PAGE_OUT: where to keep the page the client answered with.
    if (process.env.PEER_PAGE_OUT) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.PEER_PAGE_OUT, await res.text());
    }
    process.exit(res.ok ? 0 : 1);
  }
  let res;
  if (url.pathname.startsWith('/device') && url.searchParams.get('user_code')) {
    const html = await (await go(url)).text();
    res = await go(new URL('/device', issuerOrigin), form({ xsrf: hidden(html, 'xsrf'), user_code: url.searchParams.get('user_code'), confirm: 'yes' }));
  } else if (url.pathname.startsWith('/interaction/')) {
    const html = await (await go(url)).text();
    if (action === 'deny') {
      res = await go(new URL(`${url.pathname}/abort`, issuerOrigin));
    } else if (html.includes('name="login"')) {
      res = await go(url, form({ prompt: 'login', login, password: 'any' }));
    } else {
      res = await go(url, form({ prompt: 'consent' }));
    }
  } else {
    res = await go(url);
  }
  const loc = res.headers.get('location');
  if (!loc) {
    // Device flow ends on the provider's own success page.
    process.exit(res.ok ? 0 : 1);
  }
  url = new URL(loc, url);
}
process.exit(2);
