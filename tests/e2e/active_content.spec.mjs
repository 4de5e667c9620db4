// Active content through the files routes in headless Chromium runs nothing. HTML with inline
// script, SVG with script and an onload handler, and XML with an xml-stylesheet and an XHTML
// script are uploaded, then opened through the download route (attachment and inline), a
// signed URL (inline) and the public share route. Every script and every resource would hit a
// loopback listener this spec runs (and set document.title / localStorage); it must count 0.
// Two layers are checked separately, so removing either fails the run:
//   1. the disposition: opening any of these URLs makes the browser download, never render;
//   2. the sandbox CSP: the same server response rendered with only its Content-Disposition
//      removed (what a client that ignores the header would do) runs no script, loads nothing
//      and has an opaque origin (no storage).
// A control first renders the same bytes without our headers and must hit the listener, so
// the payloads are known to be live in this browser.
import { createServer } from 'node:http';
import { admin, api, base, check, finish, login, newContext, shot, step } from './lib.mjs';

const hits = [];
const listener = createServer((req, res) => {
  hits.push(`${req.method} ${req.url}`);
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', '*');
  if (req.url.includes('css')) res.setHeader('Content-Type', 'text/css');
  res.end('ok');
});
await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
const beacon = `http://127.0.0.1:${listener.address().port}`;

const payloads = {
  'active.html': {
    type: 'text/html',
    body: `<!doctype html><html><head><title>untouched</title><script>document.title = 'ran'; try { localStorage.setItem('pwned', '1'); } catch (e) {} fetch('${beacon}/script/html');</script></head><body><p>static</p><img src="${beacon}/resource/html-img" alt=""><script>new Image().src = '${beacon}/script/html-img';</script></body></html>`,
  },
  'active.svg': {
    type: 'image/svg+xml',
    body: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="fetch('${beacon}/script/svg-onload')"><title>untouched</title><script>document.title = 'ran'; try { localStorage.setItem('pwned', '1'); } catch (e) {} fetch('${beacon}/script/svg');</script><image href="${beacon}/resource/svg-image" width="1" height="1"/></svg>`,
  },
  'active.xml': {
    type: 'application/xml',
    // A CSS stylesheet: Chromium loads it from anywhere (an XSLT one only from the document's
    // own origin, and XSLT is on its way out of the browser).
    body: `<?xml version="1.0"?><?xml-stylesheet type="text/css" href="${beacon}/resource/xml-css"?><root xmlns:h="http://www.w3.org/1999/xhtml"><h:script>document.title = 'ran'; try { localStorage.setItem('pwned', '1'); } catch (e) {} fetch('${beacon}/script/xml');</h:script><h:img src="${beacon}/resource/xml-img"/></root>`,
  },
};

const settle = () => new Promise((r) => setTimeout(r, 750));
// Chromium's Local Network Access checks would stop a rendered page's requests to the
// loopback listener by themselves (a response fulfilled by the test has no address, so it
// counts as public); a real payload would call a public host instead. They are turned off so
// the run measures only what the server's headers do. The other flags are lib.mjs's.
const browserArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-features=LocalNetworkAccessChecks'];
const token = await login(admin);

async function state(page) {
  return page.evaluate(() => {
    let storage;
    try {
      storage = window.localStorage.getItem('pwned') === null ? 'empty' : 'written';
    } catch (e) {
      storage = e.name;
    }
    return { origin: self.origin, title: document.title, storage };
  });
}

await step('control: the payloads run when served without our headers', async () => {
  const { ctx, page } = await newContext({ args: browserArgs });
  for (const [name, p] of Object.entries(payloads)) {
    hits.length = 0;
    const url = `${base}/e2e-control/${name}`;
    await page.route(url, (route) => route.fulfill({ status: 200, contentType: p.type, body: p.body }));
    await page.goto(url);
    await settle();
    const s = await state(page);
    check(hits.some((h) => h.includes('/script/')), `control ${name}: its script ran (${hits.join(', ') || 'no hits'})`);
    check(hits.some((h) => h.includes('/resource/')), `control ${name}: its resource loaded`);
    // an XML document has no title to set
    if (name !== 'active.xml') check(s.title === 'ran', `control ${name}: document.title set by its script`);
    check(s.storage === 'written', `control ${name}: its script wrote localStorage (${s.storage})`);
  }
  await ctx.close();
});

const files = {};
await step('upload the active files; the server sniffs them as active types', async () => {
  for (const [name, p] of Object.entries(payloads)) {
    const r = await api('POST', `/api/v1/files/upload?filename=${name}`, {
      token,
      body: new TextEncoder().encode(p.body),
      headers: { 'Content-Type': 'text/plain' },
    });
    check(r.status === 201, `${name} uploaded (HTTP ${r.status})`);
    const f = r.doc.data;
    check(f.content_type.startsWith(p.type), `${name} stored as ${f.content_type}`);
    const share = await api('POST', `/api/v1/files/${f.id}/shares`, { token, body: {} });
    check(share.status === 201, `${name} shared`);
    const signed = await api('GET', `/api/v1/files/${f.id}/signed_url?disposition=inline`, { token });
    files[name] = { id: f.id, share: share.doc.data.url, signed: signed.doc.data.url };
  }
});

function urlsOf(name) {
  const f = files[name];
  return [
    [`${name} download`, `/api/v1/files/${f.id}/download`],
    [`${name} download inline`, `/api/v1/files/${f.id}/download?disposition=inline`],
    [`${name} signed inline`, f.signed],
    [`${name} share`, f.share],
  ];
}

hits.length = 0;
const { ctx, page } = await newContext({ args: browserArgs });
// The browser sends the bearer token itself, as a signed-in tab would with a cookie; the
// signed and share URLs need none.
await ctx.setExtraHTTPHeaders({ Authorization: `Bearer ${token}` });

await step('layer 1: every URL is a download, never a rendered page', async () => {
  for (const name of Object.keys(payloads)) {
    for (const [label, path] of urlsOf(name)) {
      const seen = [];
      const onResponse = (r) => {
        if (r.url() === `${base}${path}`) seen.push(r);
      };
      page.on('response', onResponse);
      await page.goto('about:blank');
      const [dl] = await Promise.all([
        page.waitForEvent('download', { timeout: 10000 }).catch(() => null),
        page.goto(`${base}${path}`).catch(() => null),
      ]);
      page.off('response', onResponse);
      const headers = seen[0] ? await seen[0].allHeaders() : {};
      check(dl !== null && dl.suggestedFilename() === name, `${label}: downloaded as ${dl ? dl.suggestedFilename() : 'nothing (rendered?)'}`);
      check(page.url() === 'about:blank', `${label}: nothing rendered (page at ${page.url()})`);
      check(/^attachment/.test(headers['content-disposition'] || ''), `${label}: Content-Disposition ${headers['content-disposition']}`);
      check(/sandbox/.test(headers['content-security-policy'] || '') && headers['x-content-type-options'] === 'nosniff', `${label}: CSP "${headers['content-security-policy']}", nosniff`);
      if (dl) await dl.cancel().catch(() => undefined);
    }
  }
  await settle();
  check(hits.length === 0, `layer 1: the listener saw nothing (${hits.join(', ')})`);
});

await step('layer 2: rendered anyway, the sandbox CSP runs no script and loads nothing', async () => {
  for (const name of Object.keys(payloads)) {
    for (const [label, path] of urlsOf(name)) {
      hits.length = 0;
      const url = `${base}${path}`;
      let csp = null;
      await page.route(url, async (route) => {
        const res = await route.fetch();
        const headers = { ...res.headers() };
        csp = headers['content-security-policy'] ?? null;
        delete headers['content-disposition'];
        await route.fulfill({ response: res, headers });
      });
      await page.goto(url);
      await settle();
      const s = await state(page);
      await page.unroute(url);
      check(csp !== null && csp.split(';').map((d) => d.trim()).includes('sandbox'), `${label}: served with CSP "${csp}"`);
      check(s.origin === 'null', `${label}: opaque origin (sandbox in effect), origin=${s.origin}`);
      check(s.storage === 'SecurityError', `${label}: no storage for the document (${s.storage})`);
      check(s.title !== 'ran', `${label}: document.title untouched ("${s.title}")`);
      check(hits.length === 0, `${label}: the listener saw nothing (${hits.join(', ')})`);
      if (name === 'active.html') await shot(page, `active-${label.replace(/\W+/g, '-')}`);
    }
  }
  // The server's origin kept no trace of any of it.
  await page.goto(`${base}/health`).catch(() => undefined);
  const own = await page.evaluate(() => window.localStorage.getItem('pwned')).catch(() => 'unreadable');
  check(own === null, `the server's origin has no localStorage written (${own})`);
});

await step('the listener never saw a request', async () => {
  await settle();
  check(hits.length === 0, `no script or resource reached the listener (${hits.join(', ')})`);
});

listener.close();
await finish();
