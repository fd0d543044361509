-- SSE parser benchmark (issue 3 §6): one generated Homie-shaped stream, fed
-- in the same 64 KiB chunks to the C engine alone, the Lua-facing parser
-- (feed() and each()), eventsource-parser 3.x on Node, and the pure-Lua
-- baseline. Every parser must count the same events; the run fails if not.
-- usage (from the repo root; `make bench-sse` does this):
--   lua5.4 bench/sse_bench.lua [--mb 100] [--shape messages|chunks] [--cpath './?.so']
--                              [--engine PATH] [--node-dir bench/node] [--keep FILE]
-- (--shape: bench/gen_stream.lua's stream shapes)
local opts = { mb = "100", shape = "messages", cpath = "./?.so", engine = "bench/build/sse_engine_bench",
  ["node-dir"] = "bench/node" }
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
local sse = require "homie.sse"
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
local lua = arg[-1] or "lua5.4" -- the interpreter running this script
local gen = kv(assert(sh(("%s bench/gen_stream.lua %q %s %s"):format(lua, file, opts.mb, opts.shape))))

local results, order = {}, {}
local function record(name, r) results[name] = r; order[#order + 1] = name end

-- Each parser reads the file in 64 KiB chunks inside the timed loop, as a
-- streaming program receives fresh chunks from a socket. (Holding all 100 MB
-- as Lua strings instead would make Lua's GC cycles, which are paced by the
-- live heap, 100x rarer than in a real client, and slow every Lua parser.)
local function chunks(fn)
  local f = assert(io.open(file, "rb"))
  while true do
    local ch = f:read(CHUNK)
    if not ch then break end
    fn(ch)
  end
  f:close()
end

local function new_counts()
  return { events = 0, chunk = 0, typing = 0, message = 0, other = 0, data_bytes = 0, last_id = "-" }
end
local function tally(c, t, d, id)
  c.events = c.events + 1
  c.data_bytes = c.data_bytes + #d
  if c[t] then c[t] = c[t] + 1 else c.other = c.other + 1 end
  if id then c.last_id = id end
end

-- A parser is `make(on_event) -> feed(chunk), finish()`. One untimed run
-- tallies everything for the cross-check; timed runs only count events
-- (`count(chunk) -> n`), so the timing is the parser's, not the tally's.
-- Time is CPU time (os.clock); the best of `iters` runs counts.
local function measure(name, iters, verify, count)
  local c = new_counts()
  verify(c)
  local best, n = math.huge, 0
  for _ = 1, iters do
    collectgarbage(); collectgarbage()
    n = 0
    local t0 = os.clock()
    chunks(function(ch) n = n + count(ch) end)
    best = math.min(best, os.clock() - t0)
  end
  assert(n == c.events, name .. ": timed and verified runs disagree")
  c.seconds, c.mbps = best, gen.bytes / best / 1e6
  record(name, c)
end

-- 2. the C engine alone (a separate driver, data preloaded: no Lua, no reads)
local eng = assert(sh(("%s %q 5"):format(opts.engine, file)), "engine bench failed")
record("C engine (sse.c)", kv(eng))

-- 3. the Lua-facing parser: feed() builds a table per event, each() does not
local each_parse_only
do
  local p
  measure("Lua parser feed()", 5, function(c)
    p = sse.parser()
    chunks(function(ch)
      local evs = assert(p:feed(ch))
      for j = 1, #evs do local e = evs[j]; tally(c, e.type, e.data, e.id) end
    end)
    p:finish()
  end, function(ch) return #p:feed(ch) end)
  local k = 0
  local function on() k = k + 1 end
  measure("Lua parser each()", 5, function(c)
    p = sse.parser()
    chunks(function(ch) assert(p:each(ch, function(t, d, id) tally(c, t, d, id) end)) end)
    p:finish()
  end, function(ch) k = 0; p:each(ch, on); return k end)
  -- each() parse-only, as Node's parse-only figure: the chunks read
  -- beforehand (a live heap the size of the stream, which also makes
  -- Lua's GC cycles rarer), so no reading is timed.
  local pre = {}
  chunks(function(ch) pre[#pre + 1] = ch end)
  local best = math.huge
  for _ = 1, 5 do
    collectgarbage(); collectgarbage()
    p = sse.parser()
    local t0 = os.clock()
    for i = 1, #pre do p:each(pre[i], on) end
    best = math.min(best, os.clock() - t0)
  end
  each_parse_only = gen.bytes / best / 1e6
end

-- 3b. the floor under feed() and each(): the same Lua values made without
-- parsing (bench/sse_values.c; skipped when that module is not built). Each
-- chunk's events are parsed once, untimed, and packed into C memory outside
-- Lua's heap; the timed runs read the file as the parsers do and build, per
-- chunk, what feed() returns (values) or what each() passes (calls).
local floor_ok, floor = pcall(function()
  package.cpath = "bench/build/?.so;" .. package.cpath
  return require "sse_values"
end)
if floor_ok then
  local packs, p = {}, sse.parser()
  chunks(function(ch)
    local t, d, id, n = {}, {}, {}, 0
    assert(p:each(ch, function(a, b, c) n = n + 1; t[n], d[n], id[n] = a, b, c or false end))
    packs[#packs + 1] = floor.pack(t, d, id, n, ch)
  end)
  local at = 0
  local function next_pack() at = at % #packs + 1; return packs[at] end
  measure("feed()'s values alone", 5, function(c)
    local i = 0
    chunks(function(ch)
      i = i + 1
      local evs = floor.values(packs[i], ch)
      for j = 1, #evs do local e = evs[j]; tally(c, e.type, e.data, e.id) end
    end)
  end, function(ch) return #floor.values(next_pack(), ch) end)
  local k = 0
  local function on() k = k + 1 end
  measure("each()'s values alone", 5, function(c)
    local i = 0
    chunks(function(ch) i = i + 1; floor.calls(packs[i], ch, function(t, d, id) tally(c, t, d, id) end) end)
  end, function(ch) k = 0; floor.calls(next_pack(), ch, on); return k end)
end

-- 4. eventsource-parser on Node, installed on demand (no lock file kept)
local nd = opts["node-dir"]
if not io.open(nd .. "/node_modules/eventsource-parser/package.json") then
  io.stderr:write("npm install in " .. nd .. " ...\n")
  assert(sh(("cd %q && npm install --no-audit --no-fund --no-package-lock >&2"):format(nd)), "npm install failed")
end
local node = assert(sh(("node %q %q 5"):format(nd .. "/sse_bench.mjs", file)), "node bench failed")
record("eventsource-parser (Node)", kv(node))

-- 5. the pure-Lua baseline (fewer runs: it is slow)
do
  local p
  measure("pure-Lua baseline", 2, function(c)
    p = pure.new()
    chunks(function(ch)
      local evs = p:feed(ch)
      for j = 1, #evs do local e = evs[j]; tally(c, e.type, e.data, e.id) end
    end)
    p:finish()
  end, function(ch) return #p:feed(ch) end)
end

-- Reading the file alone, for scale: it is inside every Lua and Node figure.
local read_s = math.huge
for _ = 1, 3 do
  local t0 = os.clock()
  chunks(function() end)
  read_s = math.min(read_s, os.clock() - t0)
end
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
print(("eventsource-parser %s; its parse-only speed (file preloaded, strings decoded beforehand): %.1f MB/s")
  :format(nodep.version, nodep.parse_mbps))
print(("reading the file in 64 KiB chunks alone (Lua): %.1f MB/s"):format(gen.bytes / read_s / 1e6))
print(("Lua parser each() parse-only (chunks read beforehand): %.1f MB/s"):format(each_parse_only))
print("ratios:")
print(("  Lua parser / eventsource-parser: feed() %.2fx, each() %.2fx (vs its parse-only: %.2fx, %.2fx)")
  :format(feed.mbps / nodep.mbps, each.mbps / nodep.mbps, feed.mbps / nodep.parse_mbps, each.mbps / nodep.parse_mbps))
if results["feed()'s values alone"] then
  local vf, ve = results["feed()'s values alone"], results["each()'s values alone"]
  print(("  the floor, values alone / eventsource-parser: feed()'s %.2fx, each()'s %.2fx (vs its parse-only: %.2fx, %.2fx)")
    :format(vf.mbps / nodep.mbps, ve.mbps / nodep.mbps, vf.mbps / nodep.parse_mbps, ve.mbps / nodep.parse_mbps))
  print(("  Lua parser / its floor:          feed() %.2fx, each() %.2fx"):format(feed.mbps / vf.mbps, each.mbps / ve.mbps))
end
print(("  C engine / 3 GB/s target:        %.2fx"):format(results["C engine (sse.c)"].mbps / 3000))
print(("  Lua parser / pure-Lua baseline:  feed() %.1fx, each() %.1fx")
  :format(feed.mbps / results["pure-Lua baseline"].mbps, each.mbps / results["pure-Lua baseline"].mbps))
do -- the same ratio for parsing alone: both loops spend read_s reading the file
  local pl = results["pure-Lua baseline"].seconds - read_s
  print(("  ... parsing alone (the %.3f s of reading subtracted from both): feed() %.1fx, each() %.1fx")
    :format(read_s, pl / (feed.seconds - read_s), pl / (each.seconds - read_s)))
end
print(("%s; %s"):format(_VERSION, jit and jit.version or "no JIT"))
if mismatch then
  io.stderr:write("FAIL: parsers disagree on the event counts\n")
  os.exit(1)
end
