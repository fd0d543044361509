-- The OpenResty transport (doc/transport.md): HTTP/1.1 over ngx.socket.tcp,
-- tasks on ngx.thread, time and sleep from ngx. Nothing here blocks the
-- nginx worker: every wait is a cosocket operation or ngx.sleep.
--
-- Pooling: idle connections live in nginx's own per-worker cosocket pools
-- (setkeepalive), named by scheme, host, port, SNI name and verify mode, so
-- a client made per request still reuses the connections of earlier
-- requests. The transport itself keeps no socket between calls; close()
-- closes its open streams and exchanges, and idle pooled connections are
-- left to nginx, which closes them after `keepalive_timeout`.
--
-- Trust: cosockets verify against `lua_ssl_trusted_certificate` (nginx.conf)
-- only; a per-request CA file cannot be handed to them. A request carrying
-- ca_file or ca_path over https therefore fails at once (kind "connection",
-- not retryable) rather than verify against something else than asked.
local http1 = require "homie.transport.http1"
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

local function fail(kind, message, sent, retryable)
  return { kind = kind, message = message, sent = sent, retryable = retryable ~= false }
end

---------------------------------------------------------------------------
-- Connections: a cosocket, its pool name, its reader, who owns it.

local owned = setmetatable({}, { __mode = "k" })  -- coroutine -> {conn = true}: for gather's kill

local Conn = {}
Conn.__index = Conn

-- Milliseconds until deadline_at (at least 1), capped by cap seconds.
local function ms_left(t, deadline_at, cap)
  local left = deadline_at and (deadline_at - t:now()) or FOREVER
  if cap and cap < left then left = cap end
  return math.max(1, math.floor(left * 1000))
end

function Conn:settle(deadline_at, cap)
  self.sock:settimeout(ms_left(self.t, deadline_at, cap))
end

-- Leaves the connection: into the pool when allowed, closed otherwise.
function Conn:finish(reuse)
  if self.done then return end
  self.done = true
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

-- A connected (and, for https, verified) connection, or nil, fail.
-- `fresh`: never a pooled one, and never pooled afterwards (see request).
local function connect(t, u, req, fresh)
  local verify = not req.insecure
  local pool = table.concat({ u.scheme, u.host, u.port, u.host, verify and "verify" or "noverify" }, "|")
  local sock = ngx.socket.tcp()
  local started = t:now()
  local budget = req.connect_timeout or 10
  -- connect_timeout covers connect and handshake; deadline_at bounds both.
  local ends = started + budget
  if req.deadline_at and req.deadline_at < ends then ends = req.deadline_at end
  sock:settimeout(ms_left(t, ends))
  local ok, err = sock:connect(u.host, u.port, {
    pool = fresh and (pool .. "|fresh") or pool, pool_size = t.pool_size })
  if not ok then return nil, connect_failure(err, u) end
  local conn = setmetatable({ t = t, sock = sock, poolable = not fresh, owner = coroutine.running(),
                              reused = sock:getreusedtimes() > 0 }, Conn)
  t.live[conn] = true
  local mine = owned[conn.owner] or setmetatable({}, { __mode = "k" })
  owned[conn.owner], mine[conn] = mine, true
  if u.scheme == "https" and not conn.reused then
    sock:settimeout(ms_left(t, ends))
    local session, herr = sock:sslhandshake(nil, u.host, verify)
    if not session then
      conn:finish(false)
      if herr == "timeout" then
        return nil, fail("timeout", ("TLS handshake with %s:%d timed out"):format(u.host, u.port), false)
      end
      return nil, tls_failure(herr, u)
    end
  end
  local reader = http1.reader(function()
    return sock:receiveany(READ_SIZE)
  end)
  conn.reader = reader
  return conn
end

-- A cosocket error (or an http1 parse error when kind is "protocol") as a fail.
local function io_failure(err, kind, what)
  if kind == "protocol" then return fail("protocol", what .. ": " .. tostring(err), true) end
  if err == "timeout" then return fail("timeout", what .. ": timed out", true) end
  return fail("connection", what .. ": " .. tostring(err), true)
end

-- Checks the request and the URL; returns the parsed URL or nil, fail.
local function prepare(req)
  if type(req) ~= "table" then error("homie: transport request must be a table", 3) end
  if type(req.method) ~= "string" or not req.method:match("^%u+$") then
    error("homie: transport request needs an upper-case method", 3)
  end
  if type(req.headers) ~= "table" then error("homie: transport request needs a headers table", 3) end
  if req.body ~= nil and type(req.body) ~= "string" then error("homie: transport request body must be a string", 3) end
  local u, why = http1.parse_url(req.url)
  if not u then return nil, fail("protocol", why, false, false) end
  if u.scheme == "https" and not req.insecure and (req.ca_file or req.ca_path) then
    return nil, fail("connection", "ca_file and ca_path cannot be honoured by nginx cosockets: name the CA file "
      .. "with lua_ssl_trusted_certificate in nginx.conf (and drop ca_file/ca_path), or use transport = \"curl\"",
      false, false)
  end
  return u
end

-- Connects and sends; returns conn or nil, fail. A request that must not be
-- sent twice (idempotent == false) gets a fresh connection, never a pooled
-- one: a pooled connection may have been closed by the server while idle,
-- and the send would then fail having possibly reached it (sent = true), a
-- failure nobody may retry. On a fresh connection a dead server shows as a
-- refused connect (sent = false), which is safe to retry. This transport
-- itself never re-sends anything.
local function start(t, u, req, deadline_at)
  local conn, f = connect(t, u, req, req.idempotent == false)
  if not conn then return nil, f end
  conn:settle(deadline_at)
  local _, err = conn.sock:send(http1.request_text(req.method, u, req.headers, req.body))
  if err then
    conn:finish(false)
    local fl = io_failure(err, nil, "sending the request")
    fl.sent = true
    return nil, fl
  end
  return conn
end

local function head_failure(err, kind, conn)
  local f = io_failure(err, kind, "reading the response head")
  f.sent = true
  -- A pooled connection the server closed before answering: the request
  -- was most likely never seen, but only idempotent ones get retried above.
  if conn.reused and err == "closed" then f.message = f.message .. " (a reused keep-alive connection)" end
  return f
end

-- Reads the head and prepares the body decoder; returns head or nil, fail.
local function read_head(conn, method, deadline_at)
  conn:settle(deadline_at)
  local head, err, kind = http1.read_head(conn.reader)
  if not head then return nil, head_failure(err, kind, conn) end
  local framing, length = http1.framing(method, head)
  if not framing then return nil, fail("protocol", length, true) end
  conn.keepalive = http1.keepalive(head, framing)
  conn.body = http1.body(conn.reader, framing, length)
  return head
end

-- The body to its end, at most max_body bytes; string or nil, fail.
local function read_all(conn, max_body, deadline_at)
  local parts, size = {}, 0
  while true do
    conn:settle(deadline_at)
    local data, err, kind = conn.body:next(READ_SIZE)
    if not data then
      if err then return nil, io_failure(err, kind, "reading the response body") end
      return table.concat(parts)
    end
    size = size + #data
    if max_body and size > max_body then
      return nil, fail("protocol", ("response body larger than max_body (%d bytes)"):format(max_body), true, false)
    end
    parts[#parts + 1] = data
  end
end

local function all_failed(conn, f)
  conn:finish(false)
  f.sent = true
  return nil, f
end

function Transport:request(req)
  check_open(self, "request")
  local u, f = prepare(req)
  if not u then return nil, f end
  local deadline_at = req.deadline_at
  local conn
  conn, f = start(self, u, req, deadline_at)
  if not conn then return nil, f end
  local head
  head, f = read_head(conn, req.method, deadline_at)
  if not head then return all_failed(conn, f) end
  if req.max_body and conn.body.mode == "length" and conn.body.left > req.max_body then
    return all_failed(conn, fail("protocol", ("response body larger than max_body (%d bytes): content-length %d")
      :format(req.max_body, conn.body.left), true, false))
  end
  local body
  body, f = read_all(conn, req.max_body, deadline_at)
  if not body then return all_failed(conn, f) end
  conn:finish(conn.keepalive)
  return { status = head.status, headers = head.headers, body = body }
end

---------------------------------------------------------------------------
-- Streams

local Stream = {}
Stream.__index = Stream

function Transport:open(req)
  check_open(self, "open")
  local u, f = prepare(req)
  if not u then return nil, f end
  -- deadline_at is ignored for streams; the send is bounded like the connect.
  local sending_by = self:now() + (req.connect_timeout or 10)
  local conn
  conn, f = start(self, u, req, sending_by)
  if not conn then return nil, f end
  return setmetatable({ t = self, conn = conn, method = req.method, max_body = req.max_body }, Stream)
end

local function closed_stream()
  return fail("connection", "the stream is closed", false, false)
end

function Stream:head(deadline_at)
  if self.status then return self.status, self.headers end
  if self.conn.done then return nil, self.failed or closed_stream() end
  local head, f = read_head(self.conn, self.method, deadline_at)
  if not head then
    self.failed = f
    self.conn:finish(false)
    return nil, f
  end
  self.status, self.headers = head.status, head.headers
  return self.status, self.headers
end

-- The connection to read the body from (reading the head first when
-- needed); false once the body is over; nil, fail when it cannot be read.
local function body_conn(self, deadline_at)
  if not self.status then
    local ok, f = self:head(deadline_at)
    if not ok then return nil, f end
  end
  if self.conn.body:done() then return false end
  if self.conn.done then return nil, self.failed or closed_stream() end
  return self.conn
end

function Stream:read(deadline_at)
  local conn, f0 = body_conn(self, deadline_at)
  if not conn then return nil, f0 end
  conn:settle(deadline_at)
  local data, err, kind = conn.body:next(READ_SIZE)
  if data then return data end
  if not err then
    conn:finish(conn.keepalive)
    return nil
  end
  if err == "timeout" and kind == nil then
    -- Nothing before the deadline: the reader kept any partial line, so the
    -- stream stays usable.
    local f = fail("timeout", "no data before the deadline", true)
    f.idle = true
    return nil, f
  end
  self.failed = io_failure(err, kind, "reading the stream")
  self.failed.sent = true
  conn:finish(false)
  return nil, self.failed
end

function Stream:rest(deadline_at)
  local conn, f0 = body_conn(self, deadline_at)
  if conn == false then return "" end
  if not conn then return nil, f0 end
  local body, f = read_all(conn, self.max_body, deadline_at)
  if not body then
    self.failed = f
    f.sent = true
    conn:finish(false)
    return nil, f
  end
  conn:finish(conn.keepalive)
  return body
end

function Stream:close()
  -- Pooled only when the body was read to its end (finish was called then).
  self.conn:finish(false)
end

---------------------------------------------------------------------------
-- Tasks

local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack

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
