-- SSE parser benchmark (issue 3 §6): one generated Homie-shaped stream, fed
-- in the same 64 KiB chunks to the C engine alone, the Lua-facing parser
-- (feed() and each()), eventsource-parser 3.x on Node, and the pure-Lua
-- baseline. Every parser must count the same events; the run fails if not.
-- usage (from the repo root; `make bench-sse` does this):
--   lua5.4 bench/sse_bench.lua [--mb 100] [--cpath './?.so'] [--engine PATH]
--                              [--node-dir bench/node] [--keep FILE]
local opts = { mb = "100", cpath = "./?.so", engine = "bench/build/sse_engine_bench", ["node-dir"] = "bench/node" }
do
  local i = 1
  while arg[i] do
    local k = arg[i]:match("^%-%-(.+)$")
    assert(k and opts[k] ~= nil or k == "keep", "unknown argument " .. tostring(arg[i]))
    opts[k] = assert(arg[i + 1], "missing value for " .. arg[i])
    i = i + 2
  end
end
package.cpath = opts.cpath .. ";" .. package.cpath
package.path = "./bench/?.lua;" .. package.path
local core = require "homie.core"
local pure = require "pure_sse"

local CHUNK = 65536
local function sh(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("a")
  local ok = f:close()
  return ok and out or nil, out
end
local function kv(line)
  local t = {}
  for k, v in line:gmatch("(%S+)=(%S+)") do t[k] = tonumber(v) or v end
  return t
end

-- 1. the stream, generated deterministically into a temp file
local file = opts.keep or os.tmpname()
io.stderr:write(("generating %s MB stream in %s ...\n"):format(opts.mb, file))
local gen = kv(assert(sh(("lua5.4 bench/gen_stream.lua %q %s"):format(file, opts.mb))))
local f = assert(io.open(file, "rb"))
local all = f:read("a")
f:close()
local chunks = {}
for i = 1, #all, CHUNK do chunks[#chunks + 1] = all:sub(i, i + CHUNK - 1) end
all = nil
collectgarbage()

local results, order = {}, {}
local function record(name, r) results[name] = r; order[#order + 1] = name end

local function new_counts()
  return { events = 0, chunk = 0, typing = 0, message = 0, other = 0, data_bytes = 0, last_id = "-" }
end
local function tally(c, t, d, id)
  c.events = c.events + 1
  c.data_bytes = c.data_bytes + #d
  if c[t] then c[t] = c[t] + 1 else c.other = c.other + 1 end
  if id then c.last_id = id end
end

-- Best of `iters` runs of fn(counts) -> seconds (CPU time; the runs are CPU-bound).
local function timeit(iters, fn)
  local best, counts = math.huge, nil
  for _ = 1, iters do
    local c = new_counts()
    collectgarbage(); collectgarbage()
    local t0 = os.clock()
    fn(c)
    local dt = os.clock() - t0
    if dt < best then best, counts = dt, c end
  end
  counts.seconds = best
  counts.mbps = gen.bytes / best / 1e6
  return counts
end

-- 2. the C engine alone (a separate driver: no Lua in the loop)
local eng = assert(sh(("%s %q 5"):format(opts.engine, file)), "engine bench failed")
record("C engine (sse.c)", kv(eng))

-- 3. the Lua-facing parser: feed() builds a table per event, each() does not
record("Lua parser feed()", timeit(3, function(c)
  local p = core.sse_parser()
  for i = 1, #chunks do
    local evs = assert(p:feed(chunks[i]))
    for j = 1, #evs do local e = evs[j]; tally(c, e.type, e.data, e.id) end
  end
  p:finish()
end))
record("Lua parser each()", timeit(3, function(c)
  local p = core.sse_parser()
  local function on(t, d, id) tally(c, t, d, id) end
  for i = 1, #chunks do assert(p:each(chunks[i], on)) end
  p:finish()
end))

-- 4. eventsource-parser on Node, installed on demand (no lock file kept)
local nd = opts["node-dir"]
if not io.open(nd .. "/node_modules/eventsource-parser/package.json") then
  io.stderr:write("npm install in " .. nd .. " ...\n")
  assert(sh(("cd %q && npm install --no-audit --no-fund --no-package-lock >&2"):format(nd)), "npm install failed")
end
local node = assert(sh(("node %q %q 3"):format(nd .. "/sse_bench.mjs", file)), "node bench failed")
record("eventsource-parser (Node)", kv(node))

-- 5. the pure-Lua baseline (one run: it is slow)
record("pure-Lua baseline", timeit(1, function(c)
  local p = pure.new()
  for i = 1, #chunks do
    local evs = p:feed(chunks[i])
    for j = 1, #evs do local e = evs[j]; tally(c, e.type, e.data, e.id) end
  end
  p:finish()
end))
if not opts.keep then os.remove(file) end

-- Report
print(("stream: %.1f MB, %d events (chunk %d, tool %d, typing %d, message %d), %d pings, %d-byte chunks")
  :format(gen.bytes / 1e6, gen.events, gen.chunk, gen.tool, gen.typing, gen.message, gen.ping, CHUNK))
print(("%-28s %10s %12s %9s %8s %8s %8s %12s %9s"):format("parser", "MB/s", "events/s", "events", "chunk", "typing",
  "message", "data bytes", "last id"))
local ref, mismatch = results[order[1]], false
for _, name in ipairs(order) do
  local r = results[name]
  print(("%-28s %10.1f %12.0f %9d %8d %8d %8d %12d %9s"):format(name, r.mbps, r.events / r.seconds, r.events,
    r.chunk, r.typing, r.message, r.data_bytes, r.last_id))
  for _, k in ipairs { "events", "chunk", "typing", "message", "other", "data_bytes", "last_id" } do
    if tostring(r[k]) ~= tostring(ref[k]) then
      mismatch = true
      print(("  MISMATCH: %s %s = %s, C engine %s"):format(name, k, tostring(r[k]), tostring(ref[k])))
    end
  end
end
local nodep = results["eventsource-parser (Node)"]
local feed, each = results["Lua parser feed()"], results["Lua parser each()"]
print(("eventsource-parser %s; its parse-only speed (strings decoded beforehand): %.1f MB/s")
  :format(nodep.version, nodep.parse_mbps))
print("ratios:")
print(("  Lua parser / eventsource-parser: feed() %.2fx, each() %.2fx (vs its parse-only: %.2fx, %.2fx)")
  :format(feed.mbps / nodep.mbps, each.mbps / nodep.mbps, feed.mbps / nodep.parse_mbps, each.mbps / nodep.parse_mbps))
print(("  C engine / 3 GB/s target:        %.2fx"):format(results["C engine (sse.c)"].mbps / 3000))
print(("  Lua parser / pure-Lua baseline:  feed() %.1fx, each() %.1fx")
  :format(feed.mbps / results["pure-Lua baseline"].mbps, each.mbps / results["pure-Lua baseline"].mbps))
print(("%s; %s"):format(_VERSION, jit and jit.version or "no JIT"))
if mismatch then
  io.stderr:write("FAIL: parsers disagree on the event counts\n")
  os.exit(1)
end
