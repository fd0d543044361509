-- homie.ngx.relay_events against nginx's own proxy_pass (proxy_buffering
-- off) of the same upstream stream, each in one nginx worker on loopback:
--   events/s:  a fast Homie-shaped stream (bench/gen_stream.lua, served as a
--              static file by a second nginx), timed from the request to
--              the last event's id, --rounds pairs (a row each side);
--   memory:    --shoppers streams held open at once (one event each, then
--              silence), the worker's RSS growth per stream, each side in a
--              fresh nginx.
-- Prints its two rows (bench/row.lua) and one line of key=value (medians).
-- Usage (from the repo root, open-file limit raised): lua5.4 bench/relay_bench.lua
--   [--mb 20] [--rounds 5] [--shoppers 2000]   (--shoppers 0: events/s only)
local common = require "bench.common"
local row = require "bench.row"
local nginx = require "spec.support.nginx"
local socket = require "socket"

local opts = { mb = 20, rounds = 5, shoppers = 2000 }
for i = 1, #arg, 2 do
  local k = arg[i]:match("^%-%-(.+)$")
  assert(k and opts[k] and tonumber(arg[i + 1]), "unknown or incomplete argument " .. tostring(arg[i]))
  opts[k] = tonumber(arg[i + 1])
end

local CHAT = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
local EVENTS = "/v1/chats/" .. CHAT .. "/messages/events"
local dir = assert(common.sh("mktemp -d /tmp/homie-relay-bench.XXXXXX")):gsub("%s+$", "")
assert(common.sh(("lua5.4 bench/gen_stream.lua %s %d"):format(common.q(dir .. "/stream.sse"), opts.mb)))
local stream = assert(io.open(dir .. "/stream.sse", "rb")):read("a")
local n_events, last_id = 0, nil
for id in stream:gmatch("\nid: (%d+)\n") do n_events, last_id = n_events + 1, id end
stream = nil  -- luacheck: ignore 311 (frees the copy)

-- The upstream: the file for the fast stream (a reconnect, which carries
-- Last-Event-ID, gets 204: nothing more), and a stream that sends one event
-- and stays silent for the memory figure.
local upstream = nginx.start{ worker_connections = opts.shoppers * 3 + 200,
  http = "lua_check_client_abort on;", server = ([[
  location ~ ^/fast/v1/chats/[^/]+/messages/events$ {
    if ($http_last_event_id) { return 204; }
    types { } default_type text/event-stream;
    root %s;
    try_files /stream.sse =404;
  }
  location ~ ^/idle/v1/chats/[^/]+/messages/events$ {
    content_by_lua_block {
      ngx.header["Content-Type"] = "text/event-stream"
      ngx.print("id: 1\ndata: {\"typing\":true}\n\n")
      ngx.flush(true)
      ngx.sleep(60)
    }
  }]]):format(dir) }

-- The worker under test: the relay at /relay?up=fast|idle, proxy_pass at /proxy/.
local function front()
  return nginx.start{ worker_connections = opts.shoppers * 3 + 200,
    http = "lua_check_client_abort on;",
    locations = { ["/relay"] = ([[
      local homie = require "homie"
      local client = homie.new{ api_key = "bench-key", base_url = "%s/" .. ngx.var.arg_up }
      require("homie.ngx").relay_events(client, "%s", { public = true })
    ]]):format(upstream.url, CHAT) },
    server = ([[
      location /proxy/ {
        proxy_pass %s/;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
      }]]):format(upstream.url) }
end

local function worker_rss_kb(app)
  local master = assert(common.sh("cat " .. common.q(app.prefix .. "/nginx.pid"))):match("%d+")
  local worker = assert(common.sh("ps -o pid= --ppid " .. master)):match("%d+")
  local f = assert(io.open("/proc/" .. worker .. "/status"))
  local kb = tonumber(f:read("a"):match("VmRSS:%s*(%d+)"))
  f:close()
  return kb
end

local function get(port, path)
  local c = assert(socket.connect("127.0.0.1", port))
  assert(c:send("GET " .. path .. " HTTP/1.1\r\nHost: shop\r\nAccept: text/event-stream\r\n\r\n"))
  return c
end

-- Seconds from the request to the last event's id (bounded at 60 s).
local function time_stream(port, path)
  local want = "id: " .. last_id .. "\n"
  local t0 = socket.gettime()
  local c = get(port, path)
  c:settimeout(0)  -- whatever has arrived: receive(n) with a timeout waits for all n bytes
  local tail = ""
  while socket.gettime() - t0 < 60 do
    socket.select({ c }, nil, 1)
    local data, err, partial = c:receive(65536)
    local got = data or partial
    if got and got ~= "" then
      local s = tail .. got
      if s:find(want, 1, true) then
        local t = socket.gettime() - t0
        c:close()
        return t
      end
      tail = s:sub(-64)
    end
    if err == "closed" then break end
  end
  c:close()
  error(path .. ": the last event never came")
end

-- Holds `n` streams open until each has its first event; returns the
-- worker's RSS growth per stream (KB), then closes them all.
local function per_stream_kb(app, path, n)
  io.stderr:write(("  %d streams open at once through %s ...\n"):format(n, path:match("^/(%a+)")))
  for _ = 1, 5 do time_stream(app.port, path:gsub("idle", "fast")) end  -- warm the worker
  collectgarbage()
  socket.sleep(0.5)
  local rss0 = worker_rss_kb(app)
  -- In waves of 100 (the listen backlogs are 511), each read to its first
  -- event before the next opens; select() cannot take this many sockets.
  local socks, deadline, left = {}, socket.gettime() + 120, n
  for first = 1, n, 100 do
    for i = first, math.min(n, first + 99) do socks[i] = get(app.port, path) end
    for i = first, math.min(n, first + 99) do
      local c = socks[i]
      while socket.gettime() < deadline do
        c:settimeout(math.max(0.01, deadline - socket.gettime()))
        local line = c:receive("*l")  -- a line at a time: receive(n) would wait for all n bytes
        if not line then break end
        if line:find("typing", 1, true) then left = left - 1 break end
      end
    end
  end
  if left > 0 then io.stderr:write(app:error_log():sub(-1500), upstream:error_log():sub(-1500)) end
  assert(left == 0, left .. " streams never got their first event")
  socket.sleep(0.5)
  local kb = (worker_rss_kb(app) - rss0) / n
  for _, c in ipairs(socks) do c:close() end
  return kb
end

local app
local ok, err = pcall(function()
  app = front()
  io.stderr:write(("  %d events, relay and proxy_pass, %d rounds ...\n"):format(n_events, opts.rounds))
  -- Each round times both sides back to back: the pair is one ratio, and
  -- the median round is judged (a busy moment spoils one pair, not both).
  local relay_eps, proxy_eps = {}, {}
  for i = 1, opts.rounds do
    relay_eps[i] = n_events / time_stream(app.port, "/relay?up=fast")
    proxy_eps[i] = n_events / time_stream(app.port, "/proxy/fast" .. EVENTS)
  end
  app:stop()
  row{ name = "relay_events, one worker", unit = "events/s", rounds = relay_eps,
    peer = "nginx proxy_pass, buffering off", peer_rounds = proxy_eps, better = "higher", target = 0.5 }
  local relay_kb, proxy_kb = 0 / 0, 0 / 0  -- --shoppers 0: events/s only
  if opts.shoppers > 0 then
    app = front()
    proxy_kb = per_stream_kb(app, "/proxy/idle" .. EVENTS, opts.shoppers)
    app:stop()
    app = front()
    relay_kb = per_stream_kb(app, "/relay?up=idle", opts.shoppers)
    app:stop()
  end
  if opts.shoppers > 0 then
    row{ name = ("  memory per stream, %d at once"):format(opts.shoppers), unit = "KB", rounds = { relay_kb },
      peer = "nginx proxy_pass", peer_rounds = { proxy_kb }, better = "lower", target = 2 }
  end
  local ratios = {}
  for i = 1, #relay_eps do ratios[i] = relay_eps[i] / proxy_eps[i] end
  print(("events=%d relay_eps=%.0f proxy_eps=%.0f ratio=%.2f shoppers=%d relay_kb=%.1f proxy_kb=%.1f")
    :format(n_events, row.median(relay_eps), row.median(proxy_eps), row.median(ratios), opts.shoppers,
      relay_kb, proxy_kb))
end)
if app then app:stop() end
upstream:stop()
os.execute("rm -rf " .. common.q(dir))
if not ok then error(err, 0) end
