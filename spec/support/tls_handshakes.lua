-- Counts TLS handshakes on the server side: a real nginx with two TLS
-- listeners on loopback, one offering TLS 1.2 only and one TLS 1.3 only,
-- logging `$ssl_session_reused` ("r" resumed, "." full) per request. Sends
-- (POSTs with idempotent = false, so a fresh connection each) go out
-- through the ngx transport, inside the same nginx, or through the curl
-- transport, from this Lua 5.4 process. Used by
-- spec/integration/tls_resume_spec.lua and bench/tls_bench.lua.
--   local hs = require "spec.support.tls_handshakes"
--   local lab = hs.start()                       -- { v12 = port, v13 = port }
--   lab:ngx_sends(lab.v13, 20) -> full, resumed   (counted on the server)
--   lab:curl_sends(lab.v12, 20) -> full, resumed
--   lab:stop()
-- The certificate is self-signed for IP 127.0.0.1, made by openssl in the
-- nginx prefix for this run only; both clients verify against it.
local cjson = require "cjson"
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"

local sh, shq = mock.sh, mock.shq

local M = {}

-- The location the ngx transport's sends run in: /t/sends?port=P&n=N.
local SENDS = [[
  local cjson = require "cjson"
  local t = require("homie.transport.ngx").new()
  local port, n = tonumber(ngx.var.arg_port), tonumber(ngx.var.arg_n)
  local failures = {}
  for _ = 1, n do
    local resp, f = t:request({ method = "POST", url = "https://127.0.0.1:" .. port .. "/send",
      headers = { ["content-type"] = "application/json" }, body = '{"message":"hi"}',
      deadline_at = t:now() + 10, connect_timeout = 5, max_body = 65536, idempotent = false })
    if not resp then failures[#failures + 1] = f.message end
  end
  t:close()
  ngx.say(cjson.encode({ failures = failures }))
]]

local function tls_server(port, protocol, cert, key, log, cache)
  return table.concat({
    " server {",
    "  listen 127.0.0.1:" .. port .. " ssl;",
    "  ssl_certificate " .. cert .. "; ssl_certificate_key " .. key .. ";",
    "  ssl_protocols " .. protocol .. ";",
    -- nginx's defaults, said out loud: tickets on, no server-side cache, so
    -- a resumption here is a ticket (TLS 1.2 or 1.3) the client handed back.
    "  ssl_session_tickets on;",
    cache and ("  ssl_session_cache " .. cache .. ";") or "",
    "  access_log " .. log .. " handshakes;",
    "  location / { return 200 '{}'; }",
    " }",
  }, "\n")
end

-- opts.client_protocols: lua_ssl_protocols for the ngx transport's side
-- (nginx's default when absent: TLSv1.2 TLSv1.3 on Debian 12's module).
function M.start(opts)
  opts = opts or {}
  local dir = sh("mktemp -d /tmp/homie-tls-hs.XXXXXX")
  assert(dir ~= "", "mktemp failed")
  local cert, key = mock.self_signed(dir .. "/cert.pem", dir .. "/key.pem")
  local log = dir .. "/handshakes.log"
  local v12, v13 = mock.free_port(), mock.free_port()
  local app = nginx.start{
    http = table.concat({
      ' log_format handshakes "$server_port $ssl_protocol $ssl_session_reused";',
      " lua_ssl_trusted_certificate " .. cert .. ";",
      opts.client_protocols and (" lua_ssl_protocols " .. opts.client_protocols .. ";") or "",
      tls_server(v12, "TLSv1.2", cert, key, log, opts.session_cache),
      tls_server(v13, "TLSv1.3", cert, key, log, opts.session_cache),
    }, "\n"),
    -- The same sends where another CA file is trusted (the system's): a
    -- session the first location made must not let them through.
    locations = { ["/t/sends"] = SENDS, ["/t/sends_elsewhere"] = { lua = SENDS,
      conf = "lua_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;" } },
  }
  return setmetatable({ app = app, dir = dir, cert = cert, log = log, v12 = v12, v13 = v13 }, { __index = M })
end

local function log_lines(path)
  local lines = {}
  for line in (mock.read_file(path) or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

-- Handshakes the server counted on `port` since the previous count:
-- full, resumed, and the protocols it logged (a set). nginx logs a request
-- after answering it, so the last line may trail the client's last
-- answer: with `want` lines expected, it waits (up to 5 s) for them.
function M:count(port, want)
  local lines = log_lines(self.log)
  local deadline = socket.gettime() + 5
  while want and #lines - (self.seen or 0) < want and socket.gettime() < deadline do
    socket.sleep(0.01)
    lines = log_lines(self.log)
  end
  self.seen = self.seen or 0
  local full, resumed, protocols = 0, 0, {}
  for i = self.seen + 1, #lines do
    local p, protocol, reused = lines[i]:match("^(%d+) (%S+) (%S+)$")
    if tonumber(p) == port then
      protocols[protocol] = true
      if reused == "r" then resumed = resumed + 1 else full = full + 1 end
    end
  end
  self.seen = #lines
  return full, resumed, protocols
end

-- n sends through the ngx transport in `location` (default /t/sends): the
-- failures' messages (a list).
function M:ngx_try(port, n, location)
  local status, _, body = self.app:request("GET", ("%s?port=%d&n=%d"):format(location or "/t/sends", port, n))
  local ok, out = pcall(cjson.decode, body or "")
  if status ~= 200 or not ok then
    error(("ngx sends failed (%s): %s\n--- error.log:\n%s"):format(tostring(status), tostring(body),
      self.app:error_log():sub(-2000)), 2)
  end
  return out.failures
end

-- n sends through the ngx transport, one transport for all of them (as a
-- client made once per worker); full, resumed.
function M:ngx_sends(port, n)
  self:count(port)
  local status, _, body = self.app:request("GET", ("/t/sends?port=%d&n=%d"):format(port, n))
  local ok, out = pcall(cjson.decode, body or "")
  if status ~= 200 or not ok or #out.failures > 0 then
    error(("ngx sends failed (%s): %s\n--- error.log:\n%s"):format(tostring(status), tostring(body),
      self.app:error_log():sub(-2000)), 2)
  end
  return self:count(port, n)
end

-- n sends through the curl transport (one transport, as one client); full, resumed.
function M:curl_sends(port, n)
  self:count(port)
  local t = require("homie.transport.curl").new()
  for i = 1, n do
    local resp, f = t:request({ method = "POST", url = "https://127.0.0.1:" .. port .. "/send",
      headers = { ["content-type"] = "application/json" }, body = '{"message":"hi"}',
      deadline_at = t.now() + 10, connect_timeout = 5, max_body = 65536, idempotent = false, ca_file = self.cert })
    if not resp then t:close(); error(("curl send %d failed: %s"):format(i, f.message), 2) end
  end
  t:close()
  return self:count(port, n)
end

function M:stop()
  self.app:stop()
  sh("rm -rf " .. shq(self.dir))
end

return M
