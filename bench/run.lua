-- `make bench` (through bench/run): every workload in one go, one table.
-- Starts the emulator (bin/homie-mock) and the benchmark's own nginx
-- (bench/nginx.conf.in, static JSON and idle streams) on loopback, runs each
-- workload in its own process, and prints workload, homie's figure, the
-- named peer's figure from the same run, the ratio and the target.
-- Options: --rounds 3 (request-path rounds; medians), --seconds 1.5 (per
-- request-path figure), --idle 10000, --sse-mb 50, --only NAME[,NAME]
-- (request, asks, idle, sse, openresty, relay).
local common = require "bench.common"
local mock = require "spec.support.mock"

local opts = { rounds = 3, seconds = 1.5, idle = 10000, ["sse-mb"] = 50, only = "request,asks,idle,sse,openresty,relay" }
for i = 1, #arg, 2 do
  local k = arg[i]:match("^%-%-(.+)$")
  assert(k and opts[k] ~= nil and arg[i + 1], "unknown or incomplete argument " .. tostring(arg[i]))
  opts[k] = tonumber(arg[i + 1]) or arg[i + 1]
end
local only = {}
for w in opts.only:gmatch("[^,]+") do only[w] = true end
local LUA = arg[-1] or "lua5.4"

local sh, q = common.sh, common.q
local function kv(s)
  local t = {}
  for k, v in (s or ""):gmatch("([%w_]+)=(%S+)") do t[k] = tonumber(v) or v end
  return t
end
local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local rows = {}
local function row(workload, homie, peer, peer_fig, ratio, target, note)
  rows[#rows + 1] = { workload, homie, peer, peer_fig, ratio and ("%.2fx"):format(ratio) or "-", target,
    note or "" }
end

local nginx = require("bench.nginx").start()
local emu = mock.start{ chunk_delay_ms = 30 }
local ok, err = pcall(function()
  local function lua(script, ...)
    local args = { LUA, script }
    for _, a in ipairs({ ... }) do args[#args + 1] = q(a) end
    local out, all = sh(table.concat(args, " "))
    if not out then io.stderr:write(script, " failed:\n", all or "", "\n") end
    return out and kv(out)
  end

  if only.request then
    io.stderr:write("request path ...\n")
    local f = {}
    local function add(name, v) f[name] = f[name] or {}; f[name][#f[name] + 1] = v end
    for _ = 1, opts.rounds do
      for _, m in ipairs({ "get", "post" }) do
        add("homie " .. m, lua("bench/request_bench.lua", "homie", m, nginx.url, opts.seconds, emu.api_key).rps)
        local c = kv(sh(("bench/build/curl_loop %s %s %s %s"):format(m,
          q(nginx.url .. (m == "get" and "/v1/chats/a6c7f84b-1dab-4914-92d7-920f7266133d/messages" or "/v1/chats")),
          opts.seconds, q(emu.api_key))))
        add("transport " .. m, lua("bench/request_bench.lua", "transport", m, nginx.url, opts.seconds, emu.api_key).rps)
        add("curl " .. m, c.rps)
        add("socket " .. m, lua("bench/request_bench.lua", "socket", m, nginx.url, opts.seconds, emu.api_key).rps)
      end
    end
    for _, m in ipairs({ "get", "post" }) do
      local h, c, s = median(f["homie " .. m]), median(f["curl " .. m]), median(f["socket " .. m])
      local t = median(f["transport " .. m])
      local what = m == "get" and "list_messages loop, keep-alive (req/s)" or "create_chat loop, fresh conns (req/s)"
      row(what, ("%.0f"):format(h), "raw libcurl C loop", ("%.0f"):format(c), h / c, ">= 0.9x")
      row(what, ("%.0f"):format(h), "LuaSocket socket.http", ("%.0f"):format(s), h / s, "-")
      row(("  its transport:request alone (req/s)"), ("%.0f"):format(t), "raw libcurl C loop", ("%.0f"):format(c),
        t / c, ">= 0.9x")
    end
  end

  if only.asks then
    for _, n in ipairs({ 100, 1000 }) do
      io.stderr:write(("%d concurrent asks ...\n"):format(n))
      local a = lua("bench/asks_bench.lua", emu.url, emu.api_key, n)
      local what = ("%d concurrent asks via gather (s)"):format(n)
      if not a then
        row(what, "failed", "one ask alone", "-", nil, "<= 2x", "see stderr")
      else
        row(what, ("%.3f"):format(a.together), "one ask alone", ("%.3f"):format(a.alone), a.together / a.alone,
          "<= 2x", a.failed > 0 and ("%d asks failed (emulator worker_connections 1000)"):format(a.failed) or nil)
        row(("  peak RSS, %d asks (MB)"):format(n), ("%.1f"):format(a.peak_kb / 1024), "-", "-", nil, "<= 64 MB",
          ("%.1f KB per ask above the start"):format((a.peak_kb - a.rss0_kb) / n))
      end
    end
  end

  if only.idle then
    io.stderr:write(("%d idle streams + 100 active ...\n"):format(opts.idle))
    local a = lua("bench/idle_bench.lua", emu.url, emu.api_key, nginx.url, opts.idle, 100)
    local what = ("100 asks beside %d idle streams (s)"):format(opts.idle)
    if not a then
      row(what, "failed", "100 asks alone", "-", nil, "<= 1.2x", "see stderr")
    else
      row(what, ("%.3f"):format(a.with_idle), "100 asks alone", ("%.3f"):format(a.alone), a.with_idle / a.alone,
        "<= 1.2x")
      row("  memory per idle stream (KB)", ("%.1f"):format(a.per_stream_kb), "-", "-", nil, "<= 16 KB")
    end
  end

  if only.sse then
    io.stderr:write("SSE parser ...\n")
    local out, all = sh(("%s bench/sse_bench.lua --mb %s --engine bench/build/sse_engine_bench --node-dir bench/node")
      :format(LUA, opts["sse-mb"]))
    if not out then
      row("SSE parser", "failed", "-", "-", nil, "-", "see stderr")
      io.stderr:write(all or "", "\n")
    else
      local function mbps(name) return tonumber(out:match(name:gsub("%p", "%%%0") .. "%s+([%d.]+)")) end
      local feed, each = mbps("Lua parser feed()"), mbps("Lua parser each()")
      local node, pure = mbps("eventsource-parser (Node)"), mbps("pure-Lua baseline")
      local parse_only = tonumber(out:match("parse%-only speed.-: ([%d.]+) MB/s"))
      row("SSE feed() (MB/s)", ("%.0f"):format(feed), "eventsource-parser + decode", ("%.0f"):format(node),
        feed / node, ">= 1.0x")
      row("SSE each() (MB/s)", ("%.0f"):format(each), "eventsource-parser parse-only", ("%.0f"):format(parse_only),
        each / parse_only, ">= 1.0x")
      row("SSE each() (MB/s)", ("%.0f"):format(each), "pure-Lua parser", ("%.0f"):format(pure), each / pure, "-")
    end
  end

  -- The OpenResty proof (bench/openresty.lua, its own emulator and nginx):
  -- shoppers at once in one nginx worker against one alone.
  if only.openresty then
    io.stderr:write("OpenResty: shoppers in one nginx worker ...\n")
    local out, all = sh(LUA .. " bench/openresty.lua")
    if not out then io.stderr:write(all or "", "\n") end
    for name, alone, n, together in (out or ""):gmatch("(%S+)%s+one alone%s+([%d.]+) s%s+(%d+) at once%s+([%d.]+) s") do
      row(("%s shoppers, one nginx worker, transport %s (s)"):format(n, name), together, "one shopper alone", alone,
        tonumber(together) / tonumber(alone), name == "ngx" and "<= 1.5x" or "-",
        name == "curl" and "libcurl blocks the worker: the peer" or nil)
    end
    if not out then row("OpenResty shoppers", "failed", "-", "-", nil, "<= 1.5x", "see stderr") end
  end

  -- The relay against nginx's own proxy_pass (bench/relay_bench.lua, its own
  -- two nginx): events/s through one worker, memory per open stream.
  if only.relay then
    io.stderr:write("OpenResty relay against proxy_pass ...\n")
    local r = lua("bench/relay_bench.lua")
    if not r then
      row("relay_events vs proxy_pass", "failed", "-", "-", nil, ">= 0.5x", "see stderr")
    else
      row("relay_events, one worker (events/s)", ("%.0f"):format(r.relay_eps), "nginx proxy_pass, buffering off",
        ("%.0f"):format(r.proxy_eps), r.relay_eps / r.proxy_eps, ">= 0.5x")
      row(("  memory per stream, %d at once (KB)"):format(r.shoppers), ("%.1f"):format(r.relay_kb),
        "nginx proxy_pass", ("%.1f"):format(r.proxy_kb), r.relay_kb / r.proxy_kb, "<= 2x")
    end
  end
end)
emu:stop()
nginx.stop()
if not ok then error(err, 0) end

local head = { "workload", "homie", "peer", "peer figure", "ratio", "target", "note" }
local w = {}
for i, h in ipairs(head) do
  w[i] = #h
  for _, r in ipairs(rows) do w[i] = math.max(w[i], #tostring(r[i])) end
end
local function line(r)
  local cells = {}
  for i = 1, #head do cells[i] = (i == 2 or i == 4 or i == 5) and ("%" .. w[i] .. "s"):format(r[i])
    or ("%-" .. w[i] .. "s"):format(r[i]) end
  print((table.concat(cells, " | "):gsub("%s+$", "")))
end
line(head)
local sep = {}
for i = 1, #head do sep[i] = ("-"):rep(w[i]) end
print(table.concat(sep, "-|-"))
for _, r in ipairs(rows) do line(r) end
print(("%s, %s; request path: median of %d rounds of %.1f s; loopback; 2 shared cores, so figures vary")
  :format(_VERSION, "libcurl " .. require("homie.curl").version(), opts.rounds, opts.seconds))
