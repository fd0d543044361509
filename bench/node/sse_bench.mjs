// eventsource-parser 3.x over FILE in 64 KiB chunks, for bench/sse_bench.lua.
// Prints key=value pairs (MB = 10^6 bytes). Like the Lua parsers, timed runs
// read the file chunk by chunk (a fresh Buffer each, as from a socket),
// decode it (the parser takes strings, so a Node program must) and feed it,
// counting events; the best of ITERS runs (CPU time) counts. One untimed run tallies
// types, data bytes and the last id for the cross-check. parse_mbps is
// parsing alone: file preloaded and decoded beforehand.
// usage: node sse_bench.mjs FILE [ITERS]
import { openSync, readSync, closeSync, readFileSync } from 'node:fs';
import { createParser } from 'eventsource-parser';

const [file, itersArg] = process.argv.slice(2);
const iters = Number(itersArg || 5);
const CHUNK = 65536;

function eachChunk(fn) {
  const fd = openSync(file, 'r');
  for (;;) {
    const buf = Buffer.allocUnsafe(CHUNK);
    const n = readSync(fd, buf, 0, CHUNK, null);
    if (n === 0) break;
    fn(n === CHUNK ? buf : buf.subarray(0, n));
  }
  closeSync(fd);
}

// The untimed, tallying run.
const c = { events: 0, chunk: 0, typing: 0, message: 0, other: 0, data_bytes: 0, last_id: '-' };
{
  const parser = createParser({
    onEvent(ev) {
      c.events++;
      c.data_bytes += ev.data.length; // the stream is ASCII: length == bytes
      const t = ev.event || 'message';
      if (t === 'chunk' || t === 'typing' || t === 'message') c[t]++;
      else c.other++;
      if (ev.id !== undefined) c.last_id = ev.id;
    },
  });
  const dec = new TextDecoder('utf-8');
  eachChunk((b) => parser.feed(dec.decode(b, { stream: true })));
}

// CPU time (user + system, as the Lua side's os.clock), so a core lent to
// another process on a shared machine counts for neither side.
function timed(feedAll) {
  let n = 0;
  const parser = createParser({ onEvent() { n++; } });
  const u0 = process.cpuUsage();
  feedAll(parser);
  const u = process.cpuUsage(u0);
  const s = (u.user + u.system) / 1e6;
  if (n !== c.events) throw new Error('timed and verified runs disagree');
  return s;
}

let best = Infinity, bestParse = Infinity, size = 0;
const all = readFileSync(file);
const dec0 = new TextDecoder('utf-8');
const strings = [];
for (let off = 0; off < all.length; off += CHUNK) strings.push(dec0.decode(all.subarray(off, off + CHUNK), { stream: true }));
for (let i = 0; i < iters; i++) {
  best = Math.min(best, timed((parser) => {
    const dec = new TextDecoder('utf-8');
    eachChunk((b) => parser.feed(dec.decode(b, { stream: true })));
  }));
  bestParse = Math.min(bestParse, timed((parser) => { for (const s of strings) parser.feed(s); }));
}
size = all.length;
const version = JSON.parse(readFileSync(new URL('./node_modules/eventsource-parser/package.json', import.meta.url))).version;
console.log(`bytes=${size} seconds=${best.toFixed(6)} mbps=${(size / best / 1e6).toFixed(1)} ` +
  `parse_mbps=${(size / bestParse / 1e6).toFixed(1)} events=${c.events} chunk=${c.chunk} typing=${c.typing} ` +
  `message=${c.message} other=${c.other} data_bytes=${c.data_bytes} last_id=${c.last_id} version=${version}`);
