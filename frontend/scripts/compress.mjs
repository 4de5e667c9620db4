// Writes a .gz next to every compressible file of dist/ so the server can send it as is
// (it serves <file>.gz with Content-Encoding: gzip when the client accepts gzip), and prints
// the gzipped sizes of the JS and CSS: the bundle-size report.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const compressible = /\.(js|css|html|svg|json|txt|map)$/;
const totals = { js: 0, css: 0, jsRaw: 0, cssRaw: 0 };
const rows = [];

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      walk(p);
    } else if (compressible.test(name)) {
      const raw = readFileSync(p);
      const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
      writeFileSync(`${p}.gz`, gz);
      const kind = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : null;
      if (kind) {
        totals[kind] += gz.length;
        totals[`${kind}Raw`] += raw.length;
        rows.push([relative(dist, p), raw.length, gz.length]);
      }
    }
  }
}

walk(dist);
const kib = (n) => (n / 1024).toFixed(1);
rows.sort((a, b) => b[2] - a[2]);
for (const [name, raw, gz] of rows) {
  process.stdout.write(`${name.padEnd(48)} ${kib(raw).padStart(8)} KiB  gzip ${kib(gz).padStart(7)} KiB\n`);
}
// The entry chunk is what index.html loads before anything else.
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let initialGz = 0;
for (const f of initial) initialGz += gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
process.stdout.write(
  `bundle: js ${kib(totals.js)} KiB gzip (${kib(totals.jsRaw)} KiB raw), css ${kib(totals.css)} KiB gzip ` +
    `(${kib(totals.cssRaw)} KiB raw), initial (index.html) ${kib(initialGz)} KiB gzip\n`,
);
