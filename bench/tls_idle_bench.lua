-- Idle event streams over TLS: N streams held open (silent, on the
-- benchmark's nginx) from one client, all in one gather; the RSS they add,
-- per stream, and the sockets the process holds for them. Run once against
-- the port offering h2 and once against the HTTP/1.1-only one.
-- Prints "idle=N per_stream_kb=K sockets=S open_s=T".
-- usage: lua5.4 bench/tls_idle_bench.lua URL CA_FILE N
local common = require "bench.common"
local homie = require "homie"
local now = require("homie.sse").now
local url, ca, n = arg[1], arg[2], tonumber(arg[3])
assert(url and ca and n, "usage: tls_idle_bench.lua URL CA_FILE N")
local LIMIT = 60

local function sockets()
  local p = assert(io.popen("ls -l /proc/" .. common.pid() .. "/fd 2>/dev/null"))
  local c = select(2, p:read("a"):gsub("socket:", ""))
  p:close()
  return c
end

-- 10,000 handshakes at once (HTTP/1.1) queue at the server longer than the default 10 s.
local client = homie.new{ api_key = "bench", base_url = url, ca_file = ca, connect_timeout = LIMIT }
collectgarbage(); collectgarbage()
local rss0, sock0 = common.rss_kb(), sockets()
local t0, rss1, sock1, open_s = now(), nil, nil, nil
local results = client:gather(common.idle_tasks(client, url, n, LIMIT, function()
  open_s = now() - t0
  collectgarbage(); collectgarbage()
  rss1, sock1 = common.rss_kb(), sockets()
end, ca))
common.check_released(results, n)
print(("idle=%d per_stream_kb=%.2f sockets=%d open_s=%.2f"):format(n, (rss1 - rss0) / n, sock1 - sock0, open_s))
client:close()
