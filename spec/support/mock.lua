-- Test helper: starts bin/homie-mock on a free loopback port and talks to
-- its /__mock/ control API. Lua 5.4 + luasocket (luasec for https).
--   local server = mock.start{ api_keys = {...}, heartbeat = 15, chunk_delay_ms = 0, workers = 1 (benchmarks),
--                              tls_cert = nil, tls_key = nil,
--                              tls = true (--tls: its own certificate, h2), no_http2 = true, h2_max_streams = N,
--                              max_requests = N }
--   server.ca_file (with tls = true): the certificate to trust
--   server.url, server.port, server.api_key, server:control(m, path, body),
--   server:fault(t), server:stats(), server:reset(), server:stop()
local socket = require "socket"
local cjson = require "cjson"

local M = {}

local function shq(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function run(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  return (out:gsub("%s+$", ""))
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The repo root, from this file's own path, so any cwd works.
local function repo_root()
  local src = debug.getinfo(1, "S").source:sub(2)
  local dir = src:match("^(.*)/spec/support/[^/]*$") or "."
  return run("cd " .. shq(dir) .. " && pwd")
end
M.root = repo_root()
-- Shared with the other spec helpers: shell quoting, a command's output,
-- whole-file reads.
M.shq, M.sh, M.read_file = shq, run, read_file

-- Alive and not a zombie (the launcher is reparented; nobody may reap it).
local function alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if not stat then return false end
  return stat:match("^%d+ %b() (%a)") ~= "Z"
end
M.alive = alive

-- A self-signed certificate for IP 127.0.0.1 (P-256, valid one day) made
-- by openssl at `cert` with its key at `key`: what every spec and bench
-- serving TLS on loopback trusts by name. Returns cert, key.
function M.self_signed(cert, key)
  run(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 "
    .. "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>&1"):format(shq(key), shq(cert)))
  assert(read_file(cert), "openssl made no certificate at " .. cert)
  return cert, key
end

function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

-- A loopback port nobody listens on, for the rest of this process: it stays
-- bound (not listening, no SO_REUSEADDR), so a connection to it is refused
-- and no server started later can take it, as one did take a free_port()
-- a spec used as its dead port (a CI run got a 404 where it expected
-- "connection refused").
local dead = {}
function M.dead_port()
  local s = assert(socket.tcp())
  assert(s:bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  dead[#dead + 1] = s
  return tonumber(port)
end

local Server = {}
Server.__index = Server

-- Servers not yet stopped, held until stop() or the exit guard runs.
local running = {}  -- luacheck: ignore 241

function M.start(opts)
  opts = opts or {}
  local keys = opts.api_keys or { "homie-test-key" }
  local port = opts.port or M.free_port()
  local tmpdir = run("mktemp -d /tmp/homie-mock-spec.XXXXXX")
  assert(tmpdir ~= "", "mktemp failed")
  local args = { shq(M.root .. "/bin/homie-mock"), "--port", port,
                 "--heartbeat", opts.heartbeat or 15, "--chunk-delay-ms", opts.chunk_delay_ms or 0 }
  if opts.state_mb then args[#args + 1] = "--state-mb " .. opts.state_mb end
  for _, k in ipairs(keys) do args[#args + 1] = "--api-key " .. shq(k) end
  if opts.tls_cert then
    args[#args + 1] = "--tls-cert " .. shq(opts.tls_cert) .. " --tls-key " .. shq(opts.tls_key)
  end
  if opts.tls then args[#args + 1] = "--tls" end
  if opts.no_http2 then args[#args + 1] = "--no-http2" end
  if opts.h2_max_streams then args[#args + 1] = "--h2-max-streams " .. opts.h2_max_streams end
  if opts.max_requests then args[#args + 1] = "--max-requests " .. opts.max_requests end
  local log = tmpdir .. "/launcher.log"
  -- TMPDIR puts the launcher's nginx prefix under our tmpdir, so stop() can
  -- prove it was removed (rmdir of tmpdir fails otherwise).
  -- The popen'd shell records its pid and execs the launcher, which thus
  -- stays our child: closing the handle in stop() reaps it (no zombie).
  -- HOMIE_MOCK_WATCH_PID=$PPID (this Lua process): the launcher stops by
  -- itself if we die without running stop() (e.g. busted killed).
  local workers = opts.workers and ("HOMIE_MOCK_WORKERS=" .. math.floor(opts.workers) .. " ") or ""
  local handle = assert(io.popen("echo $$ >" .. shq(tmpdir .. "/pid") .. "; " .. workers
    .. "HOMIE_MOCK_WATCH_PID=$PPID TMPDIR=" .. shq(tmpdir)
    .. " exec " .. table.concat(args, " ") .. " >" .. shq(log) .. " 2>&1 </dev/null", "r"))
  local pid
  for _ = 1, 500 do
    pid = tonumber(read_file(tmpdir .. "/pid") or "")
    if pid then break end
    socket.sleep(0.01)
  end
  local tls = opts.tls_cert ~= nil or opts.tls == true
  local self = setmetatable({
    port = port, api_key = keys[1], api_keys = keys, pid = pid, tmpdir = tmpdir, log = log, handle = handle,
    url = (tls and "https" or "http") .. "://127.0.0.1:" .. port, tls = tls,
  }, Server)
  running[self] = true
  -- Stopped when the Lua state closes, if nobody did (an error at a
  -- script's top level). Made after the popen handle, so it runs first:
  -- finalizers run in reverse order of creation, and the handle's (pclose)
  -- would wait for a launcher that only stops once this process is gone.
  self.guard = setmetatable({}, { __gc = function() pcall(Server.stop, self) end })
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local out = read_file(log) or ""
    if out:find("homie-mock listening on", 1, true) and (not opts.tls or out:find("CA file: .-\n")) then
      self.ca_file = out:match("homie%-mock CA file: ([^\n]+)")
      return self
    end
    if not alive(pid) then break end
    socket.sleep(0.02)
  end
  local out = read_file(log) or ""
  self:stop()
  error("homie-mock did not start on port " .. port .. ":\n" .. out, 2)
end

-- The nginx prefix the launcher created (nil once it is gone).
function Server:prefix()
  local dir = run("ls -d " .. shq(self.tmpdir) .. "/homie-mock.* 2>/dev/null | head -n1")
  return dir ~= "" and dir or nil
end

function Server:stop()
  if self.stopped then return end
  self.stopped = true
  running[self] = nil
  if self.pid and alive(self.pid) then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
    local deadline = socket.gettime() + 10
    while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.02) end
    if alive(self.pid) then os.execute("kill -KILL " .. self.pid .. " 2>/dev/null") end
  end
  if self.handle then self.handle:close() end
  os.remove(self.tmpdir .. "/pid")
  os.remove(self.log)
  os.remove(self.tmpdir)  -- fails (and stays, as evidence) if the prefix was left
end

-- One HTTP/1.1 request on a fresh connection to host:port (TLS without
-- verification when tls); returns status, headers (lower-case), body.
function M.request(host, port, tls, method, path, body, headers)
  local sock = assert(socket.tcp())
  sock:settimeout(10)
  assert(sock:connect(host, port))
  if tls then
    local ssl = require "ssl"
    sock = assert(ssl.wrap(sock, { mode = "client", protocol = "any", verify = "none" }))
    assert(sock:dohandshake())
  end
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port,
                  "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then
    lines[#lines + 1] = "Content-Type: application/json"
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  assert(sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
  local status_line = assert(sock:receive("*l"))
  local status = tonumber(status_line:match("^HTTP/1%.%d (%d+)"))
  local hdrs = {}
  while true do
    local line = assert(sock:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then hdrs[k:lower()] = v end
  end
  local data
  if hdrs["content-length"] then
    data = assert(sock:receive(tonumber(hdrs["content-length"])))
  elseif (hdrs["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
    local chunks = {}
    while true do
      local size = tonumber(assert(sock:receive("*l")):match("^%x+"), 16)
      if size == 0 then break end
      chunks[#chunks + 1] = assert(sock:receive(size))
      assert(sock:receive("*l"))
    end
    data = table.concat(chunks)
  else
    local chunks = {}
    while true do
      local s, _, partial = sock:receive(8192)
      chunks[#chunks + 1] = s or partial
      if not s then break end
    end
    data = table.concat(chunks)
  end
  sock:close()
  return status, hdrs, data
end

function Server:request(method, path, body, headers)
  return M.request("127.0.0.1", self.port, self.tls, method, path, body, headers)
end

function Server:control(method, path, body)
  -- Every POST carries JSON: the control API refuses any other type.
  local status, _, data = self:request(method, path, body and cjson.encode(body) or (method == "POST" and "{}" or nil))
  if not status or status >= 300 then
    error(("%s %s -> %s: %s"):format(method, path, tostring(status), tostring(data)), 2)
  end
  return cjson.decode(data)
end

function Server:fault(t) return self:control("POST", "/__mock/faults", t) end
function Server:stats() return self:control("GET", "/__mock/stats") end
function Server:reset() return self:control("POST", "/__mock/reset") end

return M
