// An HTTP/2 client on Node's built-in http2 module, for the proxy tests.
// usage: node h2_client.js URL [COUNT] [METHOD] [BODY]
// Prints one JSON line: {"statuses":[...],"bodies":[...],"headers":{...}}.
'use strict';
const http2 = require('http2');

const [url, countArg, method = 'GET', body = ''] = process.argv.slice(2);
const count = Number(countArg || 1);
const u = new URL(url);
const session = http2.connect(u.origin, { rejectUnauthorized: false });
session.on('error', (e) => { console.error(String(e)); process.exit(2); });

const results = [];
let firstHeaders = null;
let done = 0;
for (let i = 0; i < count; i++) {
  const req = session.request({ ':method': method, ':path': u.pathname + u.search,
                                'x-test-index': String(i) });
  const chunks = [];
  let status = 0;
  req.on('response', (h) => { status = h[':status']; if (!firstHeaders) firstHeaders = h; });
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    results[i] = { status, body: Buffer.concat(chunks).toString('latin1') };
    if (++done === count) {
      session.close();
      console.log(JSON.stringify({
        statuses: results.map((r) => r.status),
        bodies: results.map((r) => r.body),
        headers: firstHeaders,
      }));
    }
  });
  req.on('error', (e) => { console.error(String(e)); process.exit(3); });
  if (body) req.write(body);
  req.end();
}
