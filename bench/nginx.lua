-- The benchmark's own nginx (bench/nginx.conf.in) in a fresh prefix,
-- daemonized on a free loopback port: start() -> { url, stop() }.
local mock = require "spec.support.mock"
local common = require "bench.common"

local M = {}
local sh, q = common.sh, common.q

function M.start()
  local prefix = assert(sh("mktemp -d /tmp/homie-bench.XXXXXX")):gsub("%s+$", "")
  os.execute("mkdir -p " .. q(prefix .. "/tmp"))
  local port, h2port, h1port, asksport = mock.free_port(), mock.free_port(), mock.free_port(), mock.free_port()
  local ca = mock.self_signed(prefix .. "/ca.pem", prefix .. "/key.pem")
  local nofile = tonumber((sh("ulimit -Hn") or "1024"):match("%d+")) or 1024
  local conf = assert(io.open("bench/nginx.conf.in")):read("a")
  local chat_json = assert(io.open("bench/static/chat.json")):read("a"):gsub("%s+$", "")
  local subst = {
    USER = (sh("id -u") or ""):match("^0") and "user root;" or "", PREFIX = prefix, PORT = port,
    H2PORT = h2port, H1PORT = h1port, ASKSPORT = asksport,
    ROOT = mock.root, NOFILE = nofile, CONNS = math.max(1024, nofile - 100), CHAT_JSON = chat_json,
  }
  conf = conf:gsub("@(%u[%u%d_]*)@", function(k) return tostring(assert(subst[k], k)) end)
  local f = assert(io.open(prefix .. "/nginx.conf", "w"))
  f:write(conf)
  f:close()
  local base = ("nginx -p %s -e %s -c %s"):format(q(prefix), q(prefix .. "/error.log"), q(prefix .. "/nginx.conf"))
  assert(os.execute(base), "bench nginx failed to start; see " .. prefix .. "/error.log")
  return {
    url = "http://127.0.0.1:" .. port,
    -- The concurrent asks' upstream (bench/asks_upstream.lua), and the
    -- master's pid (its worker's CPU is the upstream's).
    asks_url = "http://127.0.0.1:" .. asksport,
    pid = function()
      local pf = io.open(prefix .. "/nginx.pid")
      local pid = pf and pf:read("l")
      if pf then pf:close() end
      return pid
    end,
    -- The same server over TLS: h2 offered, or HTTP/1.1 only; ca_file trusts both.
    h2_url = "https://127.0.0.1:" .. h2port, h1_url = "https://127.0.0.1:" .. h1port, ca_file = ca,
    stop = function()
      os.execute(base .. " -s stop 2>/dev/null")
      for _ = 1, 50 do
        if not io.open(prefix .. "/nginx.pid") then break end
        os.execute("sleep 0.1")
      end
      os.execute("rm -rf " .. q(prefix))
    end,
  }
end


return M
