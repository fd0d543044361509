-- A test-only transport over LuaSocket (plain Lua, TLS by LuaSec), proving
-- that homie.transport.h1 serves a runtime other than nginx: this file
-- brings only the sockets (connect, send, receive some by a deadline,
-- finish into a small pool), the clock and the tasks, as
-- transport/ngx.lua does with cosockets. gather runs its tasks as
-- coroutines that yield whenever they would wait (a socket to read, a
-- sleep) to one socket.select over all of them.
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

---------------------------------------------------------------------------
-- Waiting: inside gather a task yields what it waits for; outside it blocks.

local WAIT = {}                                   -- the yield marker
local tasks = setmetatable({}, { __mode = "k" })  -- coroutine -> true: gather's tasks (of any transport)
local owned = setmetatable({}, { __mode = "k" })  -- coroutine -> {conn = true}: closed when its gather fails

-- Until sock is readable (sock nil: only the time) or `at` passes; true
-- when readable.
local function wait(sock, at)
  if tasks[coroutine.running()] then return coroutine.yield(WAIT, sock, at) end
  local s = math.max(0, at - now())
  if not sock then
    socket.sleep(s)
    return false
  end
  return socket.select({ sock }, nil, s)[1] ~= nil
end

function Transport.sleep(_, seconds)
  if seconds > 0 then wait(nil, now() + seconds) end
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
  if not self.sock:dirty() and not wait(self.sock, deadline_at or now() + FOREVER) then return nil, "timeout" end
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
  local mine = owned[self.owner]
  if mine then mine[self] = nil end
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
  conn.owner = coroutine.running()
  local mine = owned[conn.owner] or {}
  owned[conn.owner], mine[conn] = mine, true
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

-- Resumes a task with `...`; files its end or what it now waits for.
local function step(i, task, results, ...)
  local ok, a, sock, at = coroutine.resume(task.co, ...)
  if not ok then return a end
  if coroutine.status(task.co) == "dead" then
    if not a[1] then return a[2] end
    task.done, results[i] = true, pack(unpack(a, 2, a.n))
  elseif a == WAIT then
    task.sock, task.at = sock, at
  else
    return "yielded outside homie"
  end
end

-- The tasks at once: each runs until it waits, then one select wakes those
-- whose socket is readable or whose time has come. A task that raises
-- stops the rest (their connections are closed) and gather raises.
function Transport:gather(fns)
  check_open(self)
  if type(fns) ~= "table" then error("homie: tasks must be a table", 2) end
  local list, results = {}, {}
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then error(("homie: gather task %d must be a function"):format(i), 2) end
    list[i] = { co = coroutine.create(function() return pack(pcall(fn)) end) }
    tasks[list[i].co] = true
  end
  local function failed(i, why)
    for _, task in ipairs(list) do
      for conn in pairs(owned[task.co] or {}) do pcall(conn.finish, conn, false) end
    end
    error(("homie: gather task %d failed: %s"):format(i, tostring(why)), 0)
  end
  for i, task in ipairs(list) do
    local why = step(i, task, results)
    if why then failed(i, why) end
  end
  while true do
    local socks, soonest = {}, math.huge
    for _, task in ipairs(list) do
      if not task.done then
        if task.sock then socks[#socks + 1] = task.sock end
        soonest = math.min(soonest, task.at)
      end
    end
    if soonest == math.huge then return results end
    local readable = socket.select(socks, nil, math.max(0, soonest - now()))
    local t = now()
    for i, task in ipairs(list) do
      local ready = not task.done and task.sock and readable[task.sock] ~= nil
      if ready or (not task.done and task.at <= t) then
        task.sock = nil
        local why = step(i, task, results, ready or false)
        if why then failed(i, why) end
      end
    end
  end
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
