-- The OpenResty transport (doc/transport.md): HTTP/1.1 (homie.transport.h1)
-- over ngx.socket.tcp, tasks on ngx.thread, time and sleep from ngx. Nothing
-- here blocks the nginx worker: every wait is a cosocket operation or ngx.sleep.
--
-- Pooling: idle connections live in nginx's own per-worker cosocket pools
-- (setkeepalive), named by scheme, host, port, SNI name and verify mode, so
-- a client made per request still reuses the connections of earlier
-- requests. The transport itself keeps no socket between calls; close()
-- closes its open streams and exchanges, and idle pooled connections are
-- left to nginx, which closes them after `keepalive_timeout`.
--
-- TLS sessions are kept per worker and location and offered on new
-- connections (below, "TLS sessions").
--
-- Trust: cosockets verify against `lua_ssl_trusted_certificate` (nginx.conf)
-- only; a per-request CA file cannot be handed to them. A request carrying
-- ca_file or ca_path over https therefore fails at once (kind "connection",
-- not retryable) rather than verify against something else than asked.
local h1 = require "homie.transport.h1"
local util = require "homie.util"
local phase = require "homie.transport.ngx_phase"

local ngx = ngx  -- luacheck: ignore (a global only inside nginx)
local M = {}

local READ_SIZE = 16384       -- bytes per receiveany: also the per-stream buffer bound
local FOREVER = 86400         -- "no deadline", in seconds (cosocket timeouts need a number)

M.available = phase.available

local Transport = {}
Transport.__index = Transport

-- opts: keepalive_timeout (seconds idle in the pool, default 30),
-- pool_size (idle connections per pool, default 32).
function M.new(opts)
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "keepalive_timeout" and k ~= "pool_size" then
      error(("homie: unknown option '%s' for the ngx transport"):format(tostring(k)), 2)
    end
  end
  local version = ngx and ngx.config and ngx.config.ngx_lua_version
  return setmetatable({
    name = "ngx",
    version = "ngx_lua " .. (version and ("%d.%d.%d"):format(math.floor(version / 1000000),
      math.floor(version / 1000) % 1000, version % 1000) or "?"),
    keepalive_ms = math.floor((opts.keepalive_timeout or 30) * 1000),
    pool_size = opts.pool_size or 32,
    live = setmetatable({}, { __mode = "k" }),  -- conn -> true: open exchanges and streams
  }, Transport)
end

function Transport.now(_)
  ngx.update_time()
  return ngx.now()
end

function Transport.sleep(_, seconds)
  phase.guard("sleep")
  if seconds > 0 then ngx.sleep(seconds) end
end

local function check_open(self, what)
  if self.closed then error("homie: attempt to use a closed client", 3) end
  phase.guard(what, 3)
end

local fail = h1.fail

---------------------------------------------------------------------------
-- Connections: a cosocket, its pool name, who owns it. The HTTP/1.1
-- exchange on it is homie.transport.h1's; this file gives it the socket
-- interface h1 names (connect, send, receive, finish).

local owned = setmetatable({}, { __mode = "k" })  -- coroutine -> {conn = true}: for gather's kill

local Conn = {}
Conn.__index = Conn

local collect  -- (conn): keeps the TLS session a connection ends with; below

-- Sets the cosocket's timeout to what is left until deadline_at; false when
-- nothing is left. Every socket operation gets this, never a fresh full
-- timeout, so a server dripping a byte at a time or sending endless
-- interim heads cannot stretch a call past its deadline. ngx.now() is
-- nginx's cached time, refreshed on each event-loop turn (no system call);
-- it lags by at most the Lua work of the current turn.
function Conn:arm(deadline_at)
  local left = deadline_at and (deadline_at - ngx.now()) or FOREVER
  local ms = math.floor(left * 1000)
  if ms < 1 then return false end
  -- The cached clock moves only between event-loop turns: within one turn
  -- the value is the same, and the call is skipped.
  if ms ~= self.ms then
    self.sock:settimeout(ms)
    self.ms = ms
  end
  return true
end

function Conn:send(data, deadline_at)
  if not self:arm(deadline_at) then return nil, "timeout" end
  return self.sock:send(data)
end

-- A read that filled the cosocket's buffer (lua_socket_buffer_size, one
-- page by default) most likely left more bytes in the kernel: those are
-- taken at once, up to READ_SIZE in all, so a fast stream costs its caller
-- one parse and one write per READ_SIZE rather than per page. Such a
-- follow-up read waits at most 1 ms (and never past deadline_at); its
-- timeout or error is left for the next receive to meet.
local PAGE = 4096

-- The bytes already waiting after n were read, or nil (none within 1 ms,
-- the deadline too close, or an error left for the next receive).
local function follow_up(self, sock, deadline_at, n)
  if deadline_at and deadline_at - ngx.now() < 0.001 then return nil end
  if self.ms ~= 1 then sock:settimeout(1); self.ms = 1 end
  return (sock:receiveany(READ_SIZE - n))
end

-- The first follow-up is written out before the loop: an answer of a few
-- pages (the usual JSON page) then takes no `repeat`, which LuaJIT counts
-- hot each time it is entered (homie.transport.http1's Reader:line says
-- why that costs), and is joined to the first page without a table.
function Conn:receive(deadline_at)
  if not self:arm(deadline_at) then return nil, "timeout" end
  local sock = self.sock
  local data, err = sock:receiveany(READ_SIZE)
  if not data or #data < PAGE then return data, err end
  local more = follow_up(self, sock, deadline_at, #data)
  if not more then return data end
  local n = #data + #more
  if #more < PAGE or n >= READ_SIZE then return data .. more end
  local parts = { data, more }
  repeat
    more = follow_up(self, sock, deadline_at, n)
    if not more then break end
    parts[#parts + 1] = more
    n = n + #more
  until #more < PAGE or n >= READ_SIZE
  return table.concat(parts)
end

-- Leaves the connection: into the pool when allowed, closed otherwise.
function Conn:finish(reuse)
  if self.done then return end
  self.done = true
  if self.origin then collect(self) end
  self.t.live[self] = nil
  local mine = owned[self.owner]
  if mine then mine[self] = nil end
  if reuse and self.poolable then
    local ok = self.sock:setkeepalive(self.t.keepalive_ms, self.t.pool_size)
    if ok then return end
  end
  self.sock:close()
end

local function tls_failure(err, u)
  local message = ("TLS handshake with %s:%d failed: %s"):format(u.host, u.port, tostring(err))
  if tostring(err):find("certificate", 1, true) then
    -- The one way out in nginx: cosockets trust nothing else.
    return fail("connection", message .. "; nginx verifies servers against the CA file named by "
      .. "lua_ssl_trusted_certificate (e.g. /etc/ssl/certs/ca-certificates.crt) in nginx.conf", false, false)
  end
  return fail("connection", message, false)
end

local function connect_failure(err, u)
  err = tostring(err)
  if err:find("no resolver defined", 1, true) then
    return fail("connection", ("cannot resolve %s: %s; add a `resolver` directive to nginx.conf"):format(u.host, err),
      false, false)
  end
  if err == "timeout" then
    return fail("timeout", ("connecting to %s:%d timed out"):format(u.host, u.port), false)
  end
  return fail("connection", ("cannot connect to %s:%d: %s"):format(u.host, u.port, err), false)
end

-- sock:sslhandshake, returning nil, err where lua-resty-core raises: its
-- sslhandshake (0.1.25, Debian 12's) asserts that a handshake which
-- completed at once also verified, so a certificate refused after an
-- immediate handshake (common on loopback) raises "assertion failed!"
-- instead of returning the verification error. Nothing else raises there
-- but programming errors, which are raised again.
-- `reused`: a session from an earlier handshake with the same origin,
-- offered for resumption (nil: none).
local function handshake(sock, reused, host, verify)
  local ok, session, err = pcall(sock.sslhandshake, sock, reused, host, verify)
  if ok then return session, err end
  if verify and tostring(session):find("assertion failed", 1, true) then
    return nil, "certificate verify failed (the handshake completed, verification did not)"
  end
  error(session, 0)
end

-- TLS sessions, per worker: the last one each origin (nginx location,
-- host, port, verify mode) handed back, offered on its next new
-- connection, so the fresh connection every send opens costs an
-- abbreviated handshake rather than a full one, as libcurl's session cache
-- gives the curl transport (doc/openresty.md, "Session resumption").
-- Module level, like the cosocket pools, because a client is often made
-- per request. One session per origin, at most MAX_ORIGINS origins: a new
-- origin past that evicts an arbitrary one (the next handshake there is
-- merely full). A handshake that fails drops its origin's session.
local MAX_ORIGINS = 64
local sessions, origins = {}, 0

-- Which trust configuration a handshake runs under. nginx sets
-- lua_ssl_trusted_certificate (and verify depth, CRL, client certificate)
-- per location, and a resumed handshake verifies nothing: a session made
-- where a CA is trusted, resumed in a location that trusts none, would
-- pass unverified. So sessions are kept per location: its configuration
-- array, the loc_conf field of ngx_http_request_t, which has led the
-- struct (signature, connection, ctx, main_conf, srv_conf, loc_conf) since
-- nginx 0.x. Timers run on a request copied from their creator's, so they
-- share its location's sessions. Without the FFI or a request: nil, and
-- no session is kept or offered.
local scope_of
do
  local ok, ffi = pcall(require, "ffi")
  local got, base = pcall(require, "resty.core.base")
  if ok and got and base.get_request then
    pcall(ffi.cdef, "typedef struct { uint32_t signature; void *connection; void **ctx; void **main_conf;"
      .. " void **srv_conf; void **loc_conf; } homie_ngx_request_head_t;")
    local head = ffi.typeof("homie_ngx_request_head_t *")
    scope_of = function()
      local r = base.get_request()
      if r == nil then return nil end
      return tostring(tonumber(ffi.cast("uintptr_t", ffi.cast(head, r).loc_conf)))
    end
  else
    scope_of = function() return nil end
  end
end

local function remember(origin, session)
  if sessions[origin] == nil then
    if origins >= MAX_ORIGINS then
      sessions[next(sessions)] = nil
      origins = origins - 1
    end
    origins = origins + 1
  end
  sessions[origin] = session
end

local function forget(origin)
  if sessions[origin] ~= nil then
    sessions[origin] = nil
    origins = origins - 1
  end
end

local function usable(session)
  return type(session) == "cdata" and session ~= nil
end

-- Takes the connection's session again when the connection is left (once
-- per handshake). Under TLS 1.3 the server sends its session ticket after
-- the handshake, so the session sslhandshake returned cannot resume (every
-- send was a full handshake); once the answer has been read, so has the
-- ticket, and sslhandshake on a connection already handshaked hands back
-- its current session without talking to the server (ngx_lua 0.10.23). A
-- closed socket gives an error, and the session kept stays. Under TLS 1.2
-- it is the same session again.
collect = function(conn)
  local origin = conn.origin
  conn.origin = nil
  local ok, session = pcall(conn.sock.sslhandshake, conn.sock, nil, conn.host, conn.verify)
  if ok and usable(session) then remember(origin, session) end
end

-- The options of sock:connect, made once per URL (h1's parsed URLs are
-- shared), verify mode and pool size. A fresh connection gets a pool of its
-- own name, so no pooled connection is handed to it, and no pool_size: it
-- never enters a pool, and a pool_size makes ngx_lua build (and drop) a
-- pool object for it on every connect.
-- Found by table look-ups alone (u, pool size, then one of four slots),
-- with no key string built per request.
local options_of = setmetatable({}, { __mode = "k" })  -- u -> pool_size -> slot -> options
local function connect_options(self, u, verify, fresh)
  local by = options_of[u]
  if not by then by = {}; options_of[u] = by end
  local slots = by[self.pool_size]
  if not slots then slots = {}; by[self.pool_size] = slots end
  local slot = (verify and 1 or 3) + (fresh and 1 or 0)
  local o = slots[slot]
  if not o then
    local pool = table.concat({ u.scheme, u.host, u.port, u.host, verify and "verify" or "noverify" }, "|")
    o = fresh and { pool = pool .. "|fresh" } or { pool = pool, pool_size = self.pool_size }
    slots[slot] = o
  end
  return o
end

-- h1's rt:connect: a connected (and, for https, verified) connection by
-- ends_at, or nil, fail. `fresh`: never a pooled one, and never pooled afterwards.
function Transport:connect(u, req, fresh, ends_at)
  local verify = not req.insecure
  -- Made with the fields every connection gets (one allocation, no rehash).
  local conn = setmetatable({ t = self, sock = ngx.socket.tcp(), poolable = not fresh,
                              owner = coroutine.running(), ms = false, reused = false, done = false,
                              origin = false }, Conn)
  if not conn:arm(ends_at) then return nil, connect_failure("timeout", u) end
  local sock = conn.sock
  local ok, err = sock:connect(u.host, u.port, connect_options(self, u, verify, fresh))
  if not ok then return nil, connect_failure(err, u) end
  conn.reused = sock:getreusedtimes() > 0
  self.live[conn] = true
  local mine = owned[conn.owner] or setmetatable({}, { __mode = "k" })
  owned[conn.owner], mine[conn] = mine, true
  if u.scheme == "https" and not conn.reused then
    local scope = scope_of()
    local origin = scope and (scope .. "|" .. u.host .. ":" .. u.port .. (verify and ":v" or ":n"))
    local session, herr
    if conn:arm(ends_at) then
      session, herr = handshake(sock, origin and sessions[origin], u.host, verify)
    else
      herr = "timeout"
    end
    -- A session is cdata; a handshake that made none returns a NULL
    -- pointer (== nil in LuaJIT, yet truthy).
    if origin and usable(session) then
      remember(origin, session)
      conn.origin, conn.host, conn.verify = origin, u.host, verify
    end
    if not session then
      if origin then forget(origin) end
      conn:finish(false)
      if herr == "timeout" then
        return nil, fail("timeout", ("TLS handshake with %s:%d timed out"):format(u.host, u.port), false)
      end
      return nil, tls_failure(herr, u)
    end
  end
  return conn
end

-- Checks the request and the URL; returns the parsed URL or nil, fail.
local function prepare(req)
  local u, f = h1.prepare(req, 1)
  if not u then return nil, f end
  if u.scheme == "https" and not req.insecure and (req.ca_file or req.ca_path) then
    return nil, fail("connection", "ca_file and ca_path cannot be honoured by nginx cosockets: name the CA file "
      .. "with lua_ssl_trusted_certificate in nginx.conf (and drop ca_file/ca_path), or use transport = \"curl\"",
      false, false)
  end
  return u
end

function Transport:request(req)
  check_open(self, "request")
  local u, f = prepare(req)
  if not u then return nil, f end
  return h1.request(self, u, req)
end

-- Streams are h1's; see doc/transport.md for head, read, rest and close.
function Transport:open(req)
  check_open(self, "open")
  local u, f = prepare(req)
  if not u then return nil, f end
  return h1.open(self, u, req)
end

---------------------------------------------------------------------------
-- Tasks

local pack, unpack = util.pack, util.unpack

local function run_task(i, fn)
  return i, pack(pcall(fn))
end

-- Closes the connections a task had open: ngx.thread.kill aborts its wait
-- but leaves its cosockets to the end of the request.
local function close_owned(co)
  local mine = owned[co]
  if not mine then return end
  for conn in pairs(mine) do pcall(conn.finish, conn, false) end
end

local function stop_all(threads, results)
  for i, co in pairs(threads) do
    if not results[i] then
      ngx.thread.kill(co)
      close_owned(co)
    end
  end
end

function Transport:gather(fns)
  check_open(self, "gather")
  if type(fns) ~= "table" then error("homie: tasks must be a table", 2) end
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then error(("homie: gather task %d must be a function"):format(i), 2) end
  end
  local threads, results, pending = {}, {}, 0
  for i, fn in ipairs(fns) do
    local co, err = ngx.thread.spawn(run_task, i, fn)
    if not co then
      stop_all(threads, results)
      error(("homie: gather could not start task %d: %s"):format(i, tostring(err)), 2)
    end
    threads[i], pending = co, pending + 1
  end
  while pending > 0 do
    local waiting = {}
    for i, co in pairs(threads) do
      if not results[i] then waiting[#waiting + 1] = co end
    end
    local ok, i, r = ngx.thread.wait(unpack(waiting))
    if not ok then
      stop_all(threads, results)
      error("homie: gather task failed: " .. tostring(i), 0)
    end
    pending = pending - 1
    if not r[1] then
      results[i] = true
      stop_all(threads, results)
      error(("homie: gather task %d failed: %s"):format(i, tostring(r[2])), 0)
    end
    results[i] = pack(unpack(r, 2, r.n))
  end
  return results
end

function Transport:close()
  if self.closed then return end
  self.closed = true
  for conn in pairs(self.live) do pcall(conn.finish, conn, false) end
end

return M
