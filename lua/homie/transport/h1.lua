-- One HTTP/1.1 exchange over any runtime's sockets: the request text, the
-- response head, the body framing and the keep-alive decision, bounded by
-- the caller's absolute deadlines (doc/transport.md "Time" and "Framing").
-- The runtime (transport/ngx.lua; spec/support/socket_transport.lua over
-- LuaSocket) brings the sockets, TLS, pools and tasks through two calls:
--
--   rt:connect(u, req, fresh, ends_at) -> conn | nil, fail
--     a connected (for https: verified) socket to u.host:u.port, by
--     ends_at; `fresh`: never a pooled one, and never pooled afterwards.
--   conn:send(bytes, deadline_at)      -> true | nil, err
--   conn:receive(deadline_at)          -> some bytes (at most a bounded
--     read) | nil, err, where err is "timeout" once deadline_at has passed
--     and "closed" at the peer's close
--   conn:finish(reuse)                 -> into the pool when reuse (and the
--     runtime allows it), closed otherwise; idempotent
--   conn.reused                        -> true when it came from a pool
--   conn.done                          -> true once finished (by us, or by
--     the runtime closing everything)
--
-- Nothing here reads a clock: every wait is the runtime's, given the
-- absolute time it must end by. Runs on Lua 5.1-5.4 and LuaJIT.
local http1 = require "homie.transport.http1"

local M = {}

local READ_SIZE = 16384  -- decoded bytes handed up per read

function M.fail(kind, message, sent, retryable)
  return { kind = kind, message = message, sent = sent, retryable = retryable ~= false }
end
local fail = M.fail

-- A socket error (or an http1 parse error when kind is "protocol") as a fail.
local function io_failure(err, kind, what)
  if kind == "protocol" then return fail("protocol", what .. ": " .. tostring(err), true) end
  if err == "timeout" then return fail("timeout", what .. ": timed out", true) end
  return fail("connection", what .. ": " .. tostring(err), true)
end

-- Methods seen to be upper-case words: a request's method is checked by a
-- table look-up, not a pattern (which LuaJIT does not compile), once a
-- method has passed. Bounded like http1's memos.
local METHODS_MAX = 64
local upper_methods, n_methods = {}, 0
local function upper_method(m)
  if upper_methods[m] then return true end
  if type(m) ~= "string" or not m:match("^%u+$") then return false end
  if n_methods >= METHODS_MAX then upper_methods, n_methods = {}, 0 end
  upper_methods[m], n_methods = true, n_methods + 1
  return true
end

-- Checks the request (raising for programming errors, at the level of the
-- caller of the transport method; `depth`: how many functions lie between
-- that method and this one) and its URL; returns the parsed URL or nil, fail.
function M.prepare(req, depth)
  local level = 3 + (depth or 0)
  if type(req) ~= "table" then error("homie: transport request must be a table", level) end
  if not upper_method(req.method) then
    error("homie: transport request needs an upper-case method", level)
  end
  if type(req.headers) ~= "table" then error("homie: transport request needs a headers table", level) end
  if req.body ~= nil and type(req.body) ~= "string" then error("homie: transport request body must be a string", level) end
  local u, why = http1.parse_url(req.url)
  if not u then return nil, fail("protocol", why, false, false) end
  return u
end

local Exchange = {}
Exchange.__index = Exchange

-- The reader's source: the exchange's connection, asked only when the
-- reader's buffer runs dry, and always with the deadline of the read in
-- progress. One function for every exchange (no closure made per request:
-- LuaJIT compiles no trace through the making of one).
local function fill(ex)
  return ex.conn:receive(ex.until_at)
end

-- Connects by connect_by and sends by send_by; returns an exchange or nil, fail. A
-- request that must not be sent twice (idempotent == false) gets a fresh
-- connection, never a pooled one: a pooled connection may have been closed
-- by the server while idle, and the send would then fail having possibly
-- reached it (sent = true), a failure nobody may retry. On a fresh
-- connection a dead server shows as a refused connect (sent = false), which
-- is safe to retry. Nothing here ever re-sends.
local function start(rt, u, req, connect_by, send_by)
  local conn, f = rt:connect(u, req, req.idempotent == false, connect_by)
  if not conn then return nil, f end
  -- Every field an exchange gets, made with it (one allocation, no
  -- rehash); until_at is set by head, some and all before any read.
  local ex = setmetatable({ conn = conn, until_at = false, reader = false, keepalive = false, body = false },
    Exchange)
  ex.reader = http1.reader(fill, ex)
  local ok, err = conn:send(http1.request_text(req.method, u, req.headers, req.body), send_by)
  if not ok then
    conn:finish(false)
    local fl = io_failure(err, nil, "sending the request")
    fl.sent = true
    return nil, fl
  end
  return ex
end

-- Leaves the connection: pooled only when the answer was read to its end,
-- its framing was certain, the server allows keep-alive and no byte the
-- server sent is left unread (it would desync the next answer).
function Exchange:finish()
  local reuse = self.keepalive and self.body:done() and self.reader:pending() == 0
  self.conn:finish(reuse)
end

-- Reads the head by deadline_at and prepares the body decoder; head or nil, fail.
function Exchange:head(method, deadline_at)
  self.until_at = deadline_at
  local head, err, kind = http1.read_head(self.reader)
  if not head then
    local f = io_failure(err, kind, "reading the response head")
    f.sent = true
    -- A pooled connection the server closed before answering: the request
    -- was most likely never seen, but only idempotent ones get retried above.
    if self.conn.reused and err == "closed" then f.message = f.message .. " (a reused keep-alive connection)" end
    return nil, f
  end
  local framing, length, doubtful = http1.framing(method, head)
  if not framing then return nil, fail("protocol", length, true) end
  self.keepalive = http1.keepalive(head, framing, doubtful)
  self.body = http1.body(self.reader, framing, length)
  return head
end

-- The next decoded bytes by deadline_at; nil at the end; nil, err, kind.
function Exchange:some(deadline_at)
  self.until_at = deadline_at
  return self.body:next(READ_SIZE)
end

local function too_large(max_body)
  return fail("protocol", ("response body larger than max_body (%d bytes)"):format(max_body), true, false)
end

-- The body to its end by deadline_at, at most max_body bytes; string or nil, fail.
function Exchange:all(max_body, deadline_at)
  if max_body and self.body.mode == "length" and self.body.left > max_body then
    return nil, fail("protocol", ("response body larger than max_body (%d bytes): content-length %d")
      :format(max_body, self.body.left), true, false)
  end
  self.until_at = deadline_at
  -- The first piece outside the loop: a body read in one piece (the usual
  -- answer) is not copied again, nor given a table of parts, and takes no
  -- `while`, which LuaJIT counts hot on every entry (http1's Reader:line).
  local data, err, kind = self.body:next(READ_SIZE)
  if not data then
    if err then return nil, io_failure(err, kind, "reading the response body") end
    return ""
  end
  if max_body and #data > max_body then return nil, too_large(max_body) end
  if self.body:done() then return data end
  local parts, size = { data }, #data
  while true do
    data, err, kind = self.body:next(READ_SIZE)
    if not data then
      if err then return nil, io_failure(err, kind, "reading the response body") end
      return table.concat(parts)
    end
    size = size + #data
    if max_body and size > max_body then return nil, too_large(max_body) end
    parts[#parts + 1] = data
  end
end

local function all_failed(ex, f)
  ex.conn:finish(false)
  f.sent = true
  return nil, f
end

-- connect_timeout bounds connecting (and TLS), deadline_at everything.
local function connect_ends(rt, req)
  local ends = rt:now() + (req.connect_timeout or 10)
  if req.deadline_at and req.deadline_at < ends then ends = req.deadline_at end
  return ends
end

-- One whole exchange; resp or nil, fail. u: M.prepare's answer.
function M.request(rt, u, req)
  local deadline_at = req.deadline_at
  local ex, f = start(rt, u, req, connect_ends(rt, req), deadline_at)
  if not ex then return nil, f end
  local head
  head, f = ex:head(req.method, deadline_at)
  if not head then return all_failed(ex, f) end
  local body
  body, f = ex:all(req.max_body, deadline_at)
  if not body then return all_failed(ex, f) end
  ex:finish()
  return { status = head.status, headers = head.headers, body = body }
end

---------------------------------------------------------------------------
-- Streams

local Stream = {}
Stream.__index = Stream

-- Starts a streaming exchange: connect and send end by the connect bound
-- (and by req.deadline_at when given); the head and body are read by the
-- deadlines given to head, read and rest.
function M.open(rt, u, req)
  local by = connect_ends(rt, req)
  local ex, f = start(rt, u, req, by, by)
  if not ex then return nil, f end
  return setmetatable({ ex = ex, method = req.method, max_body = req.max_body }, Stream)
end

local function closed_stream()
  return fail("connection", "the stream is closed", false, false)
end

-- Whether the stream can read no more: it ended, failed, was closed, or
-- its runtime closed the connection.
local function over(self) return self.ended or self.ex.conn.done end

function Stream:head(deadline_at)
  if self.status then return self.status, self.headers end
  if over(self) then return nil, self.failed or closed_stream() end
  local head, f = self.ex:head(self.method, deadline_at)
  if not head then
    -- Not a byte yet: the head may still come, and a later call waits for
    -- it again (a caller waiting in slices, as the relay between its
    -- heartbeats). A head cut anywhere else cannot resume.
    if f.kind == "timeout" and self.ex.reader.buf == "" then return nil, f end
    f.lost = true  -- this head cannot be waited for again (doc/transport.md)
    self.failed, self.ended = f, true
    self.ex.conn:finish(false)
    return nil, f
  end
  self.status, self.headers = head.status, head.headers
  return self.status, self.headers
end

-- The exchange to read the body from (reading the head first when needed);
-- false once the body is over; nil, fail when it cannot be read.
function Stream:body_exchange(deadline_at)
  if not self.status then
    local ok, f = self:head(deadline_at)
    if not ok then return nil, f end
  end
  if self.ex.body:done() then return false end
  if over(self) then return nil, self.failed or closed_stream() end
  return self.ex
end

function Stream:read(deadline_at)
  local ex, f0 = self:body_exchange(deadline_at)
  if not ex then return nil, f0 end
  local data, err, kind = ex:some(deadline_at)
  if data then return data end
  if not err then
    self.ended = true
    ex:finish()
    return nil
  end
  if err == "timeout" and kind == nil then
    -- Nothing before the deadline: the reader kept any partial line, so the
    -- stream stays usable.
    local f = fail("timeout", "no data before the deadline", true)
    f.idle = true
    return nil, f
  end
  self.failed, self.ended = io_failure(err, kind, "reading the stream"), true
  self.failed.sent = true
  ex.conn:finish(false)
  return nil, self.failed
end

function Stream:rest(deadline_at)
  local ex, f0 = self:body_exchange(deadline_at)
  if ex == false then return "" end
  if not ex then return nil, f0 end
  local body, f = ex:all(self.max_body, deadline_at)
  self.ended = true
  if not body then
    self.failed = f
    f.sent = true
    ex.conn:finish(false)
    return nil, f
  end
  ex:finish()
  return body
end

function Stream:close()
  -- Pooled only when the body was read to its end (finish was called then).
  self.ended = true
  self.ex.conn:finish(false)
end

return M
