--- A chat's event stream: connects, parses Server-Sent Events (homie.sse),
-- and reconnects with Last-Event-ID when the connection drops, idles or ends.
-- Made by `homie.client.Client:events`.
-- @module homie.stream
local sse = require "homie.sse"
local util = require "homie.util"
local errors = require "homie.errors"
local retry = require "homie.retry"

local M = {}

--- An event stream. Each event is a table: `type` (`"message"` when the
-- server named none), `id`, `data` (a decoded table when it is JSON, else
-- the string) and `raw` (the data as sent). Iterate it with a generic `for`
-- (`for ev, err in stream do`), close it with `close` or `<close>`.
-- @type Stream
local Stream = {}
Stream.__index = Stream
Stream.__name = "homie.Stream"
M.Stream = Stream

local OPTIONS = { last_event_id = true, idle_timeout = true, max_reconnects = true,
  max_event_bytes = true, connect_timeout = true }

local SPEC_PATH, INTRO_PATH = "/v1/chats/%s/messages/events", "/v1/chats/%s/events"
local RECONNECT_CAP = 30

-- Called by client:events; `level` is the user's call, for error messages.
function M.new(client, chat_id, opts, level)
  opts = util.check_opts("events", opts, OPTIONS, level)
  if opts.last_event_id ~= nil then util.check_header_value("last_event_id", opts.last_event_id, level) end
  for _, k in ipairs({ "idle_timeout", "max_reconnects", "max_event_bytes", "connect_timeout" }) do
    if opts[k] ~= nil then util.check_span(k, opts[k], level) end
  end
  return setmetatable({
    client = client,
    transport = client.transport,
    chat_id = chat_id,
    last_id = opts.last_event_id,
    idle_timeout = opts.idle_timeout or 60,
    max_reconnects = opts.max_reconnects or 10,
    max_event_bytes = opts.max_event_bytes,
    connect_timeout = opts.connect_timeout or client.timeout,
    retry_ms = nil,      -- the server's last valid `retry:`
    failures = 0,        -- reconnects since the last delivered event
    -- Events parsed but not yet handed out, q[qhead..qtail]. The ends are
    -- kept explicitly: `#` is undefined once the front slots are nil.
    queue = {}, qhead = 1, qtail = 0,
    conn = nil, parser = nil,
    reconnect_at = nil,  -- when the next connection attempt may start
    over = false,        -- ended: closed by the caller, a 204, or an error
    reconnects = 0,      -- total, for the curious
  }, Stream)
end

-- `data` is decoded on its first read: a relay that forwards `raw` never
-- pays for JSON it does not look at.
local LazyEvent = { __index = function(ev, k)
  if k ~= "data" then return nil end
  local data = ev.raw
  local first = data:match("^%s*(.)")
  if first == "{" or first == "[" then
    local t = util.decode(data)
    if t ~= nil then data = t end
  end
  rawset(ev, "data", data)
  return data
end }

local function event_of(ev)
  return setmetatable({ type = ev.type, id = ev.id, raw = ev.data }, LazyEvent)
end

-- Ends the stream with an error the caller sees once.
function Stream:fail(err)
  self:close()
  return false, err
end

-- Stream errors count their connection attempts like every other error.
function Stream:error(fields)
  fields.attempts = fields.attempts or self.failures + 1
  return self.client:error(fields)
end

-- One connection attempt. Returns "open"; or "retry", wait, err (try again
-- after `wait` seconds); or "fatal", err; or "end" (a 204: no more).
function Stream:connect()
  local client, t = self.client, self.transport
  local intro = client._events_intro or self.trying_intro
  local path = (intro and INTRO_PATH or SPEC_PATH):format(self.chat_id)
  local more = { ["Accept"] = "text/event-stream", ["Cache-Control"] = "no-cache" }
  if self.last_id and self.last_id ~= "" then more["Last-Event-ID"] = self.last_id end
  local conn, h = t:open(client:request_for("GET", path, nil, true, more))
  local status
  if conn then status, h = conn:head(t:now() + self.connect_timeout) end
  if not status then
    if conn then conn:close() end
    local err = self:error({ kind = h.kind, message = h.message, retryable = h.retryable ~= false })
    if h.retryable == false then return "fatal", err end  -- a bad certificate stays bad
    return "retry", self:backoff(), err
  end
  if status == 200 then
    local ctype = (h["content-type"] or ""):lower()
    if not ctype:find("text/event-stream", 1, true) then
      conn:close()
      return "fatal", self:error({ kind = "protocol", status = status, request_id = h["x-request-id"],
        message = "expected text/event-stream, got content type " .. (h["content-type"] or "none") })
    end
    if self.trying_intro then client._events_intro = true end  -- remembered once it worked
    self.conn = conn
    self.parser = sse.parser({ max_event_bytes = self.max_event_bytes })
    client:log("homie: GET %s -> 200 stream open [request id %s]", path, tostring(h["x-request-id"]))
    return "open"
  end
  local body = conn:rest(t:now() + self.connect_timeout)
  conn:close()
  if status == 204 then return "end" end
  if status == 404 and not intro then
    -- The introduction's path, tried once; a chat that does not exist is
    -- a 404 there too, so the client only remembers it once it answers.
    self.trying_intro = true
    client:log("homie: GET %s -> 404, trying %s", path, INTRO_PATH)
    return "retry", 0, nil
  end
  local err = errors.from_response(status, h, body or "", util.decode, client._secret())
  err.attempts = self.failures + 1
  if retry.status_retryable(status) then
    err.retryable = true
    return "retry", retry.server_wait(h) or self:backoff(), err
  end
  return "fatal", err
end

-- The wait before the next attempt: the server's retry (else 1 s), doubled
-- per consecutive failure, capped, with jitter.
function Stream:backoff()
  local base = (self.retry_ms or 1000) / 1000
  return retry.jitter(math.min(base * 2 ^ self.failures, RECONNECT_CAP))
end

function Stream:drop()
  if self.conn then self.conn:close() end
  if self.parser then self.parser:close() end
  self.conn, self.parser = nil, nil
end

-- Counts one more consecutive failure and schedules the next attempt
-- `wait` seconds from now. Returns false, err once max_reconnects is passed.
function Stream:schedule(wait, err)
  self.failures = self.failures + 1
  self.reconnects = self.reconnects + 1
  if self.failures > self.max_reconnects then
    err.attempts = self.failures
    return self:fail(err)
  end
  self.reconnect_at = self.transport:now() + wait
  return true
end

-- Connects unless connected, waiting for a scheduled reconnect but never
-- past `deadline_at`. Returns true; nil, "timeout" (the reconnect stays
-- scheduled); nil at the end; or false, err.
function Stream:_open(deadline_at)
  local t = self.transport
  while not self.conn do
    if self.over then return nil end
    if self.reconnect_at then
      if deadline_at and deadline_at < self.reconnect_at then
        t:sleep(deadline_at - t:now())
        return nil, "timeout"
      end
      t:sleep(self.reconnect_at - t:now())
      self.reconnect_at = nil
    end
    local what, a, b = self:connect()
    if what == "open" then return true end
    if what == "fatal" then return self:fail(a) end
    if what == "end" then
      self.over = true
      return nil
    end
    local scheduled, fatal = self:schedule(a,
      b or self:error({ kind = "connection", message = "too many reconnects" }))
    if not scheduled then return scheduled, fatal end
  end
  return true
end

local function deadline(self, timeout, where)
  if timeout == nil then return nil end
  if type(timeout) ~= "number" or not (timeout >= 0) then  -- luacheck: ignore 581 (NaN fails too)
    util.fail(where .. ": timeout must be a non-negative number of seconds", 3)
  end
  return self.transport:now() + timeout  -- math.huge: no limit
end

--- Opens the connection now (otherwise the first read does), waiting at
-- most `timeout` seconds for a scheduled reconnect.
-- @tparam[opt] number timeout seconds (nil: no limit)
-- @return `true`; `nil, "timeout"`; `nil` at the end; or `false, err`
-- @raise on a negative or non-number timeout
-- @usage assert(stream:open(5))
function Stream:open(timeout)
  return self:_open(deadline(self, timeout, "open"))
end

--- The next event, waiting at most `timeout` seconds.
-- @tparam[opt] number timeout seconds (nil: no limit)
-- @return the event; `nil, "timeout"` (still open); `nil` at the end; or
--  `false, err` (then the stream is over)
-- @raise on a negative or non-number timeout
-- @usage local ev, why = stream:next_event(0.5)
function Stream:next_event(timeout)
  return self:_next(deadline(self, timeout, "next_event"))
end

function Stream:_next(deadline_at)
  local t = self.transport
  while true do
    if self.qhead <= self.qtail then
      local ev = self.queue[self.qhead]
      self.queue[self.qhead] = nil
      self.qhead = self.qhead + 1
      if self.qhead > self.qtail then self.qhead, self.qtail = 1, 0 end
      self.failures = 0
      return ev
    end
    if self.over then
      local fatal = self.fatal
      if fatal then  -- reported once, after the events queued before it
        self.fatal = nil
        return self:fail(fatal)
      end
      return nil
    end
    if not self.conn then
      local ok, err = self:_open(deadline_at)
      if not ok then return ok, err end
    end
    local idle_at = t:now() + self.idle_timeout
    local chunk, why = self.conn:read(util.earliest(deadline_at, idle_at))
    if chunk then
      self:feed(chunk)
    elseif why and why.idle and deadline_at and t:now() < idle_at then
      return nil, "timeout"
    else
      -- Idle past idle_timeout, a clean end, or a broken connection: resume.
      local reason = why and (why.idle and "idle" or why.message) or "ended"
      self.client:log("homie: event stream %s (%s); reconnecting after id %s", self.chat_id,
        reason, tostring(self.last_id))
      self:drop()
      local scheduled, fatal = self:schedule(self:backoff(), self:error({
        kind = why and not why.idle and why.kind or "connection",
        message = "event stream lost after " .. self.max_reconnects .. " reconnects (last: " .. reason .. ")",
        retryable = true }))
      if not scheduled then return scheduled, fatal end
    end
  end
end

function Stream:feed(chunk)
  -- An oversize event ends the stream at its place: the events before it
  -- are delivered, then the error, and nothing after it.
  local evs, err, others, before = self.parser:feed(chunk)
  local list, n = evs or others or {}, evs and #evs or before
  local q, tail = self.queue, self.qtail
  for i = 1, n do
    tail = tail + 1
    q[tail] = event_of(list[i])
  end
  self.qtail = tail
  if not evs then
    -- Resume from the last event delivered, not from what came after it.
    if n > 0 then self.last_id = list[n].id end
    self.fatal = self:error({ kind = "protocol", message = "event stream: " .. tostring(err), attempts = 1 })
    self.over = true
    self:drop()
    return
  end
  -- The parser is new per connection: its id is nil until this connection
  -- sends one, so keep ours then, unless an event shows an empty-id reset.
  local id = self.parser:last_event_id()
  if id then self.last_id = id elseif n > 0 then self.last_id = list[n].id end
  self.retry_ms = self.parser:retry() or self.retry_ms
end

--- How many events are parsed and waiting: that many `next_event(0)` calls
-- return at once, without reading the network.
-- @treturn integer
function Stream:queued() return self.qtail - self.qhead + 1 end

-- The generic-for form: for ev, err in stream do ... end
function Stream:__call()
  return self:_next(nil)
end

--- Closes the stream and its connection. Idempotent; also `__close` and `__gc`.
-- @usage stream:close()
function Stream:close()
  self.over = true
  self:drop()
end
Stream.__close = Stream.close
Stream.__gc = Stream.close

function Stream:__tostring() return "homie.Stream(" .. self.chat_id .. ")" end

return M
