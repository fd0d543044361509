// eventsource-parser 3.x over FILE in 64 KiB chunks; prints the best of ITERS
// runs as key=value pairs for bench/sse_bench.lua (MB = 10^6 bytes).
// Timed: UTF-8 decoding of each chunk (the parser takes strings, so a Node
// program must decode) plus parsing; parse_mbps times parsing alone.
// usage: node sse_bench.mjs FILE [ITERS]
import { readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';

const [file, itersArg] = process.argv.slice(2);
const iters = Number(itersArg || 3);
const bytes = readFileSync(file);
const CHUNK = 65536;
const chunks = [];
for (let off = 0; off < bytes.length; off += CHUNK) chunks.push(bytes.subarray(off, off + CHUNK));

function run(decodeEach, strings) {
  const c = { events: 0, chunk: 0, typing: 0, message: 0, other: 0, data_bytes: 0, last_id: '-' };
  const parser = createParser({
    onEvent(ev) {
      c.events++;
      c.data_bytes += ev.data.length; // the stream is ASCII: length == bytes
      const t = ev.event || 'message';
      if (t === 'chunk') c.chunk++;
      else if (t === 'typing') c.typing++;
      else if (t === 'message') c.message++;
      else c.other++;
      if (ev.id !== undefined) c.last_id = ev.id;
    },
  });
  const t0 = process.hrtime.bigint();
  if (decodeEach) {
    const dec = new TextDecoder('utf-8');
    for (const ch of chunks) parser.feed(dec.decode(ch, { stream: true }));
  } else {
    for (const s of strings) parser.feed(s);
  }
  parser.reset({ consume: false });
  c.seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return c;
}

let best = null, bestParse = Infinity;
const dec = new TextDecoder('utf-8');
const strings = chunks.map((ch) => dec.decode(ch, { stream: true }));
for (let i = 0; i < iters; i++) {
  const c = run(true);
  if (!best || c.seconds < best.seconds) best = c;
  bestParse = Math.min(bestParse, run(false, strings).seconds);
}
console.log(`bytes=${bytes.length} seconds=${best.seconds.toFixed(6)} mbps=${(bytes.length / best.seconds / 1e6).toFixed(1)} ` +
  `parse_mbps=${(bytes.length / bestParse / 1e6).toFixed(1)} events=${best.events} chunk=${best.chunk} typing=${best.typing} ` +
  `message=${best.message} other=${best.other} data_bytes=${best.data_bytes} last_id=${best.last_id} ` +
  `version=${JSON.parse(readFileSync(new URL('./node_modules/eventsource-parser/package.json', import.meta.url))).version}`);
