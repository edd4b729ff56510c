// Benchmark driver for ELD (npm `eld`, large database, run under Node):
// reads one message per line from FILE, prints ELD's language per line on
// stdout ("und" when it gives none), timing and peak resident memory on
// stderr in the same format as parley_langid.c.
// usage: node eld_langid.mjs FILE [LANGS]   (with eld installed where Node
// finds it); LANGS ("en,es,...") sets ELD's language subset.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { eld } from 'eld/large';

if (process.argv[3]) eld.setLanguageSubset(process.argv[3].split(','));
const text = readFileSync(process.argv[2], 'utf8');
const lines = text.split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
const out = new Array(lines.length);
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < lines.length; i++) out[i] = eld.detect(lines[i]).language || 'und';
const dt = (performance.now() - t0) / 1000;
const cu = process.cpuUsage(c0);
const ct = (cu.user + cu.system) / 1e6; // all of Node's threads, as the other drivers count their process
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
const rss = process.resourceUsage().maxRSS / 1024;
process.stderr.write(`messages=${lines.length} bytes=${bytes} seconds=${dt.toFixed(4)} ` +
  `msgs_per_s=${Math.round(lines.length / dt)} mb_per_s=${(bytes / dt / 1e6).toFixed(2)} ` +
  `maxrss_mb=${rss.toFixed(1)} cpu_seconds=${ct.toFixed(4)} ` +
  `cpu_msgs_per_s=${Math.round(lines.length / ct)} cpu_mb_per_s=${(bytes / ct / 1e6).toFixed(2)}\n`);
