-- A test-only transport over LuaSocket (plain Lua, blocking), proving that
-- homie.transport.h1 serves a runtime other than nginx: this file brings
-- only the sockets (connect, send, receive some by a deadline, finish into
-- a small pool), the clock and the tasks, as transport/ngx.lua does with
-- cosockets (TLS by LuaSec). gather runs its tasks one after
-- another, so tasks that wait on each other cannot work here (the shared
-- cases that need that are skipped for it, spec/README.md says which).
--   homie.new{ transport = require("spec.support.socket_transport").new(), ... }
local socket = require "socket"
local h1 = require "homie.transport.h1"
local now = require("homie.sse").now

local M = {}

local READ_SIZE = 16384
local FOREVER = 86400

local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack

local Transport = {}
Transport.__index = Transport

function M.new()
  return setmetatable({ name = "socket", version = socket._VERSION, pool = {},
                        live = setmetatable({}, { __mode = "k" }) }, Transport)
end

function Transport.now() return now() end

function Transport.sleep(_, seconds)
  if seconds > 0 then socket.sleep(seconds) end
end

local function check_open(self)
  if self.closed then error("homie: attempt to use a closed client", 3) end
end

---------------------------------------------------------------------------
-- Connections: h1's socket interface.

local Conn = {}
Conn.__index = Conn

-- Seconds left until deadline_at, or nil when none are.
local function left(deadline_at)
  local s = deadline_at and (deadline_at - now()) or FOREVER
  if s <= 0 then return nil end
  return s
end

function Conn:send(data, deadline_at)
  local i = 1
  while i <= #data do
    local s = left(deadline_at)
    if not s then return nil, "timeout" end
    self.sock:settimeout(s)
    local last, err, partial = self.sock:send(data, i)
    if last then i = last + 1
    elseif err ~= "timeout" then return nil, err
    else i = partial + 1 end
  end
  return true
end

-- What has arrived, as soon as anything has (LuaSocket's receive(n) would
-- wait for all n bytes): wait until readable, then take what is there.
function Conn:receive(deadline_at)
  if self.eof then return nil, "closed" end
  if not self.sock:dirty() then
    local s = left(deadline_at)
    if not s then return nil, "timeout" end
    local ready = socket.select({ self.sock }, nil, s)
    if not ready[1] then return nil, "timeout" end
  end
  self.sock:settimeout(0)
  local data, err, partial = self.sock:receive(READ_SIZE)
  if data then return data end
  if partial and partial ~= "" then
    if err == "closed" then self.eof = true end
    return partial
  end
  if err == "timeout" then return nil, "timeout" end
  return nil, err
end

function Conn:finish(reuse)
  if self.done then return end
  self.done = true
  self.t.live[self] = nil
  if reuse and self.poolable and not self.t.closed then
    local idle = self.t.pool[self.key] or {}
    self.t.pool[self.key] = idle
    idle[#idle + 1] = self.sock
    return
  end
  self.sock:close()
end

-- TLS over a connected socket with LuaSec, by ends_at: the wrapped socket
-- or nil, fail. It verifies the chain (against ca_file/ca_path, else the
-- system bundle) but not the host name, which LuaSec leaves to its caller:
-- enough for loopback tests, not for the open network.
local SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
local function tls(sock, u, req, ends_at)
  local ssl = require "ssl"
  local verify = not req.insecure
  local wrapped, err = ssl.wrap(sock, { mode = "client", protocol = "any", options = { "all", "no_sslv2", "no_sslv3" },
    verify = verify and { "peer", "fail_if_no_peer_cert" } or "none",
    cafile = verify and (req.ca_file or (not req.ca_path and SYSTEM_CA) or nil) or nil,
    capath = verify and req.ca_path or nil })
  if not wrapped then return nil, h1.fail("connection", "TLS setup failed: " .. tostring(err), false, false) end
  wrapped:sni(u.host)
  while true do
    local s = left(ends_at)
    if not s then break end
    wrapped:settimeout(s)
    local ok
    ok, err = wrapped:dohandshake()
    if ok then return wrapped end
    if err ~= "wantread" and err ~= "wantwrite" and err ~= "timeout" then
      wrapped:close()
      local message = ("TLS handshake with %s:%d failed: %s"):format(u.host, u.port, tostring(err))
      return nil, h1.fail("connection", message, false, not tostring(err):find("certificate", 1, true))
    end
  end
  wrapped:close()
  return nil, h1.fail("timeout", ("TLS handshake with %s:%d timed out"):format(u.host, u.port), false)
end

function Transport:connect(u, req, fresh, ends_at)
  local key = table.concat({ u.scheme, u.host, u.port, tostring(req.insecure), tostring(req.ca_file),
                             tostring(req.ca_path) }, "|")
  local conn = setmetatable({ t = self, key = key, poolable = not fresh, reused = false }, Conn)
  local idle = not fresh and self.pool[key]
  if idle and #idle > 0 then
    conn.sock, conn.reused = table.remove(idle), true
  else
    local s = left(ends_at)
    if not s then return nil, h1.fail("timeout", ("connecting to %s:%d timed out"):format(u.host, u.port), false) end
    local sock = socket.tcp()
    sock:settimeout(s)
    local ok, err = sock:connect(u.host, u.port)
    if not ok then
      sock:close()
      if err == "timeout" then
        return nil, h1.fail("timeout", ("connecting to %s:%d timed out"):format(u.host, u.port), false)
      end
      return nil, h1.fail("connection", ("cannot connect to %s:%d: %s"):format(u.host, u.port, tostring(err)), false)
    end
    sock:setoption("tcp-nodelay", true)
    if u.scheme == "https" then
      local f
      sock, f = tls(sock, u, req, ends_at)
      if not sock then return nil, f end
    end
    conn.sock = sock
  end
  self.live[conn] = true
  return conn
end

function Transport:request(req)
  check_open(self)
  local u, f = h1.prepare(req)
  if not u then return nil, f end
  return h1.request(self, u, req)
end

function Transport:open(req)
  check_open(self)
  local u, f = h1.prepare(req)
  if not u then return nil, f end
  return h1.open(self, u, req)
end

-- One task after another; a task that raises stops the rest.
function Transport:gather(fns)
  check_open(self)
  local results = {}
  for i, fn in ipairs(fns) do
    local r = pack(pcall(fn))
    if not r[1] then error(("homie: gather task %d failed: %s"):format(i, tostring(r[2])), 0) end
    results[i] = pack(unpack(r, 2, r.n))
  end
  return results
end

function Transport:close()
  if self.closed then return end
  self.closed = true
  for conn in pairs(self.live) do pcall(conn.finish, conn, false) end
  for _, idle in pairs(self.pool) do
    for _, sock in ipairs(idle) do sock:close() end
  end
  self.pool = {}
end

return M
