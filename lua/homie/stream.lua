--- A chat's event stream: connects, parses Server-Sent Events (homie.sse),
-- and reconnects with Last-Event-ID when the connection drops, idles or ends.
-- Made by `homie.client.Client:events`.
-- @module homie.stream
local sse = require "homie.sse"
local util = require "homie.util"
local policy = require "homie.policy"
local clock = require "homie.clock"
local session_mod = require "homie.session"
local observe = require "homie.observe"

local M = {}

--- An event stream. Each event is a table: `type` (`"message"` when the
-- server named none), `id`, `data` (a decoded table when it is JSON, else
-- the string) and `raw` (the data as sent). `id` is the stream's last event
-- id when the event came, as an EventSource reports it: it persists across
-- events and reconnects until the server sends another `id:` (an empty
-- `id:` resets it to `""`, and then no `Last-Event-ID` is sent). Iterate it with a generic `for`
-- (`for ev, err in stream do`), close it with `close` or `<close>`.
-- @type Stream
local Stream = {}
Stream.__index = Stream
Stream.__name = "homie.Stream"
M.Stream = Stream

local OPTIONS = { last_event_id = true, idle_timeout = true, max_reconnects = true,
  max_event_bytes = true, connect_timeout = true, reconnect_delay = true, headers = true,
  on_error = true, on_comment = true, observe = true, traceparent = true, tracestate = true }

local SPEC_PATH, INTRO_PATH = "/v1/chats/%s/messages/events", "/v1/chats/%s/events"
local REDIRECTS = session_mod.REDIRECTS

-- Called by client:events (a chat's stream) and client:stream (any URL,
-- `url`) with the client's session.
function M.new(session, chat_id, opts, url)
  opts = util.check_opts(url and "stream" or "events", opts, OPTIONS)
  if opts.on_error ~= nil then util.check_type("on_error", opts.on_error, "function") end
  if opts.on_comment ~= nil then util.check_type("on_comment", opts.on_comment, "function") end
  if opts.observe ~= nil then util.check_type("observe", opts.observe, "function") end
  if opts.traceparent ~= nil then session_mod.check_traceparent(opts.traceparent) end
  if opts.tracestate ~= nil then util.check_header_value("tracestate", opts.tracestate) end
  local headers = {}
  for k, v in pairs(util.check_type("headers", opts.headers or {}, "table")) do
    headers[tostring(k)] = util.check_header_value("headers[" .. tostring(k) .. "]", v)
  end
  if opts.last_event_id ~= nil then util.check_header_value("last_event_id", opts.last_event_id) end
  for _, k in ipairs({ "idle_timeout", "max_reconnects", "max_event_bytes", "connect_timeout",
      "reconnect_delay" }) do
    if opts[k] ~= nil then util.check_span(k, opts[k]) end
  end
  -- Only what an idle stream holds is in the constructor, which sizes the
  -- table's hash for its fields (nil ones too): 8 slots, room for the
  -- fields a connection adds. Options left out are set below only when
  -- given, state that starts at a default reads it from Stream (see
  -- "Defaults" below) until the stream changes it, and what the session
  -- knows (its transport, its timeout) is read from it: an idle stream's
  -- table is a quarter of the size it would be with every field in it.
  local self = setmetatable({
    session = session,
    chat_id = chat_id,
    -- One parser for the stream's life: finish() at each drop keeps its last
    -- event id and retry, as an EventSource keeps them across reconnects.
    -- Comments are parsed out only when someone listens (queued as strings,
    -- so they reach on_comment in stream order with the events).
    parser = sse.parser({ max_event_bytes = opts.max_event_bytes, comments = opts.on_comment ~= nil }),
    idle_timeout = opts.idle_timeout,
    max_reconnects = opts.max_reconnects,
    conn = nil,
    heard_at = nil,      -- when the connection last gave bytes (idle_timeout counts from it)
    pending = nil,       -- a connection whose head is still due: { conn, head_at, path }
  }, Stream)
  self.connect_timeout = opts.connect_timeout  -- else the session's timeout
  self.last_id = opts.last_event_id
  -- Observation (doc/observe.md): the hook, the trace headers of every
  -- attempt (`call`, below); with a hook, when the first attempt began
  -- (began_at) and the route and trace id of the last one.
  self.hook = opts.observe or session.observe
  if url then
    self.url = url       -- a stream of any URL (or where redirects led)
    self.cross_origin = url:match("^(https?://[^/]+)") ~= session.base_url:match("^(https?://[^/]+)")
  end
  if next(headers) then self.headers = headers end
  self.on_error, self.on_comment = opts.on_error, opts.on_comment
  -- The server's last valid `retry:`, else the caller's first delay.
  if opts.reconnect_delay then self.retry_ms = opts.reconnect_delay * 1000 end
  if opts.traceparent or opts.tracestate then
    self.call = { traceparent = opts.traceparent, tracestate = opts.tracestate }
  end
  return self
end

-- Defaults: a stream's state before it changes it (a stream's own field,
-- once set, hides these). Events parsed but not yet handed out are
-- queue[qhead..qtail], the queue made with the first one; the ends are kept
-- explicitly: `#` is undefined once the front slots are nil.
Stream.idle_timeout = 60
Stream.max_reconnects = 10
Stream.qhead, Stream.qtail = 1, 0
Stream.over = false      -- ended: closed by the caller, a 204, or an error
Stream.failures = 0      -- reconnects since the last delivered event
Stream.reconnects = 0    -- total, for the curious
Stream.delivered = 0     -- events handed out

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

local function event_of(ev, id)
  return setmetatable({ type = ev.type, id = id, raw = ev.data }, LazyEvent)
end

-- Hands the hook a stream record (only called when there is a hook).
function Stream:_record(phase, reason, extra)
  local r = extra or {}
  r.type, r.phase, r.reason, r.chat_id, r.route = "stream", phase, reason, self.chat_id, self.route
  r.events, r.reconnects, r.trace_id = self.delivered, self.reconnects, self.trace_id
  local now = self.session.transport:now()
  r.duration = now - (self.began_at or now)
  self.session:emit(self.hook, r)
end

-- Closes the stream; a stream that ever connected records its end once,
-- with `reason` ("closed", "final", "ended" or "error:<kind>").
function Stream:_finish(reason)
  if self.hook and self.began_at and not self.recorded_end then
    self.recorded_end = true
    self:_record("end", reason)
  end
  self:_shut()
end

-- Ends the stream with an error the caller sees once.
function Stream:fail(err)
  self:_finish("error:" .. tostring(err.kind))
  return false, err
end

-- Stream errors count their connection attempts like every other error.
function Stream:error(fields)
  fields.attempts = fields.attempts or self.failures + 1
  return self.session:error(fields)
end

-- The request of one connection attempt, following `self.url` when a
-- redirect moved the stream.
function Stream:request(path)
  local session = self.session
  local more = { ["Accept"] = "text/event-stream", ["Cache-Control"] = "no-cache" }
  if self.headers then
    for k, v in pairs(self.headers) do more[k] = v end
  end
  if self.last_id and self.last_id ~= "" then more["Last-Event-ID"] = self.last_id end
  local req = session:request("GET", path, nil, true, more, self.call)
  if self.url then
    req.url = self.url
    if self.cross_origin then req.headers = session_mod.keyless(req.headers) end
  end
  if self.hook then
    self.route = observe.route(path ~= "" and path or (req.url:match("^https?://[^/]+(/[^?#]*)") or "/"))
    self.trace_id = observe.trace_id(req.headers["traceparent"])
  end
  return req
end

-- One connection attempt, waiting for its head until the attempt's own
-- `connect_timeout` but never past the caller's `deadline_at`. Returns
-- "open"; "wait" (the caller's time ran out first: the attempt goes on
-- and the next read resumes it); "retry", wait, err (try again after
-- `wait` seconds); "fatal", err; or "end" (a 204: no more).
function Stream:connect(deadline_at)
  local session = self.session
  local t, connect_timeout = session.transport, self.connect_timeout or session.timeout
  local p = self.pending
  if not p then
    local intro = session.events_intro or self.trying_intro
    local path = self.chat_id and (intro and INTRO_PATH or SPEC_PATH):format(self.chat_id) or ""
    local head_at = t:now() + connect_timeout
    local req = self:request(path)
    if self.hook then self.began_at = self.began_at or t:now() end
    req.deadline_at = clock.earliest(head_at, deadline_at)
    local conn, f = t:open(req)
    if not conn then return self:failed_attempt(f) end
    p = { conn = conn, head_at = head_at, path = path, intro = intro, sent_at = head_at - connect_timeout }
    self.pending = p
  end
  local conn, path = p.conn, p.path
  local status, h = conn:head(clock.earliest(p.head_at, deadline_at))
  if not status and h.kind == "timeout" and not h.lost and deadline_at and deadline_at < p.head_at
      and t:now() < p.head_at then
    return "wait"
  end
  self.pending = nil
  if not status then
    conn:close()
    return self:failed_attempt(h)
  end
  if status == 200 then
    local ctype = (h["content-type"] or ""):lower()
    if not ctype:find("text/event-stream", 1, true) then
      conn:close()
      return "fatal", self:error({ kind = "protocol", status = status, request_id = h["x-request-id"],
        message = "expected text/event-stream, got content type " .. (h["content-type"] or "none") })
    end
    if self.trying_intro then session.events_intro = true end  -- remembered once it worked
    self.conn, self.heard_at = conn, t:now()
    self.redirects = nil
    session:log("homie: GET %s -> 200 stream open in %.0f ms [request id %s]", path,
      (t:now() - p.sent_at) * 1000, tostring(h["x-request-id"]))
    if self.hook then self:_record("open", nil, { status = 200, request_id = h["x-request-id"] }) end
    return "open"
  end
  local body = conn:rest(clock.earliest(t:now() + connect_timeout, deadline_at))
  conn:close()
  if status == 204 then return "end" end
  if status == 301 or status == 302 or status == 303 or status == 307 or status == 308 then
    return self:redirected(status, h)
  end
  if status == 404 and not p.intro and not self.url and self.chat_id then
    -- The introduction's path, tried once; a chat that does not exist is
    -- a 404 there too, so the session only remembers it once it answers.
    self.trying_intro = true
    session:log("homie: GET %s -> 404, trying %s", path, INTRO_PATH)
    return "retry", 0, nil
  end
  session:log("homie: GET %s -> %d in %.0f ms [request id %s]", path, status, (t:now() - p.sent_at) * 1000,
    tostring(h["x-request-id"]))
  local err = session:error_from(status, h, body)
  err.attempts = self.failures + 1
  if policy.status_retryable(status) then
    err.retryable = true
    return "retry", session.policy:server_wait(h) or self:backoff(), err
  end
  return "fatal", err
end

-- A failed attempt (no head): try again, unless trying cannot help.
function Stream:failed_attempt(f)
  local err = self:error({ kind = f.kind, message = f.message, retryable = f.retryable ~= false })
  if f.retryable == false then return "fatal", err end  -- a bad certificate stays bad
  return "retry", self:backoff(), err
end

-- A 3xx: the stream moves to its Location (up to REDIRECTS hops in a row).
function Stream:redirected(status, h)
  self.redirects = (self.redirects or 0) + 1
  local from = self.url or (self.session.base_url .. SPEC_PATH:format(self.chat_id))
  local to, why, same = session_mod.follow(from, h["location"])
  if to and self.redirects > REDIRECTS then to, why = nil, "more than " .. REDIRECTS .. " redirects" end
  if not to then
    return "fatal", self:error({ kind = "protocol", status = status, request_id = h["x-request-id"],
      message = "event stream: " .. why, location = h["location"] })
  end
  self.session:log("homie: event stream %s -> %d, following to %s", self.chat_id or self.url, status, to)
  self.url, self.cross_origin = to, self.cross_origin or not same
  return "retry", 0, nil
end

-- The wait before the next attempt (the session's policy).
function Stream:backoff()
  return self.session.policy:reconnect_wait(self.failures, self.retry_ms)
end

function Stream:drop()
  if self.conn then self.conn:close() end
  if self.pending then self.pending.conn:close() end
  if self.parser then self.parser:finish() end
  self.conn, self.pending = nil, nil
end

-- Counts one more consecutive failure and schedules the next attempt
-- `wait` seconds from now. Returns false, err once max_reconnects is passed.
function Stream:schedule(wait, err)
  if err and self.on_error then self.on_error(err) end
  self.failures = self.failures + 1
  self.reconnects = self.reconnects + 1
  if self.failures > self.max_reconnects then
    err.attempts = self.failures
    return self:fail(err)
  end
  self.reconnect_at = self.session.transport:now() + wait
  return true
end

-- Connects unless connected, waiting for a scheduled reconnect but never
-- past `deadline_at`. Returns true; nil, "timeout" (the reconnect stays
-- scheduled, or the attempt in flight goes on); nil at the end; or false, err.
function Stream:_open(deadline_at)
  local t = self.session.transport
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
    local what, a, b = self:connect(deadline_at)
    if what == "open" then return true end
    if what == "wait" then return nil, "timeout" end
    if what == "fatal" then return self:fail(a) end
    if what == "end" then
      self:_finish("ended")
      return nil
    end
    -- A redirect or the introduction's path (no error): straight on, not a
    -- failure; both are bounded (REDIRECTS hops, one fallback).
    if b then
      local scheduled, fatal = self:schedule(a, b)
      if not scheduled then return scheduled, fatal end
      if self.hook then self:_record("reconnect", b.kind, { status = b.status, retry_in = a }) end
    end
    if deadline_at and t:now() >= deadline_at and (self.reconnect_at or 0) > deadline_at then
      return nil, "timeout"
    end
  end
  return true
end

local function deadline(self, timeout, where)
  if timeout == nil then return nil end
  if type(timeout) ~= "number" or not (timeout >= 0) then  -- luacheck: ignore 581 (NaN fails too)
    util.fail(where .. ": timeout must be a non-negative number of seconds")
  end
  return self.session.transport:now() + timeout  -- math.huge: no limit
end

--- Connects and reconnects again now, keeping the last event id (an
-- EventSource's restart): for a stream that looks stuck to its owner.
-- A closed stream stays closed.
-- @usage stream:restart()
function Stream:restart()
  if self.over then return end
  self:drop()
  self.reconnect_at = nil
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
  local t = self.session.transport
  while true do
    while self.qhead <= self.qtail do
      local ev = self.queue[self.qhead]
      self.queue[self.qhead] = nil
      self.qhead = self.qhead + 1
      if self.qhead > self.qtail then self.qhead, self.qtail = 1, 0 end
      if type(ev) ~= "string" then
        self.failures = 0
        -- a relay's wire item stands for ev.n events
        self.delivered = self.delivered + (ev.n or 1)
        return ev
      end
      self.on_comment(ev)  -- a comment (queued only when on_comment is set)
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
    -- Silence counts from the last bytes, not from this call: a caller
    -- polling in short slices still sees an idle connection dropped.
    local idle_at = self.heard_at + self.idle_timeout
    local chunk, why = self.conn:read(util.earliest(deadline_at, idle_at))
    if chunk then
      self.heard_at = t:now()
      self:feed(chunk)
    elseif why and why.idle and deadline_at and deadline_at < idle_at then
      -- The caller's deadline bounded that read. Which bound it was is
      -- decided from the bounds, not the clock: on nginx's millisecond clock
      -- a read ends a hair before its bound, and idleness read as the
      -- caller's timeout would never reconnect.
      return nil, "timeout"
    else
      -- Idle past idle_timeout, a clean end, or a broken connection: resume.
      local reason = why and (why.idle and "idle" or why.message) or "ended"
      self.session:log("homie: event stream %s (%s); reconnecting after id %s", self.chat_id or self.url,
        reason, tostring(self.last_id))
      self:drop()
      local wait = self:backoff()
      local scheduled, fatal = self:schedule(wait, self:error({
        kind = why and not why.idle and why.kind or "connection",
        message = "event stream lost after " .. self.max_reconnects .. " reconnects (last: " .. reason .. ")",
        retryable = true }))
      if not scheduled then return scheduled, fatal end
      if self.hook then self:_record("reconnect", why and why.idle and "idle" or "dropped", { retry_in = wait }) end
    end
  end
end

-- For homie.ngx's relay: from now on each read's complete events come as
-- one item { wire = bytes, n = events } (sse.parser's wire: the events
-- rewritten as well-formed SSE, with the ids this stream reports), not as
-- n event tables. Internal; comments are not kept in this mode.
function Stream:_as_wire()
  self.wire = true
end

-- Queues one read's events as a single wire item. Returns ok, err as the
-- parser's wire does (err: an oversize event, after the events before it).
-- The queue, made when the first event comes (an idle stream has none).
function Stream:_queue()
  local q = self.queue
  if not q then
    q = {}
    self.queue = q
  end
  return q
end

function Stream:feed_wire(chunk)
  local bytes, n, saw, e2, e3 = self.parser:wire(chunk, self.saw_id and "" or self.last_id)
  local err
  if not bytes then err, bytes, n, saw = n, saw, e2, e3 end
  if n > 0 then
    self.qtail = self.qtail + 1
    self:_queue()[self.qtail] = { wire = bytes, n = n }
  end
  if saw then self.saw_id = true end
  return not err, err
end

function Stream:feed(chunk)
  -- An oversize event ends the stream at its place: the events before it
  -- are delivered, then the error, and nothing after it.
  local ok, err
  if self.wire then ok, err = self:feed_wire(chunk)
  else ok, err = self:feed_events(chunk) end
  if not ok then
    self.fatal = self:error({ kind = "protocol", message = "event stream: " .. tostring(err), attempts = 1 })
    self.over = true
    self:drop()
    return
  end
  -- An id-only block moves the id without an event.
  local pid = self.parser:last_event_id()
  if pid ~= nil then self.last_id, self.saw_id = pid, true
  elseif self.saw_id then self.last_id = "" end
  self.retry_ms = self.parser:retry() or self.retry_ms
end

function Stream:feed_events(chunk)
  local evs, err, others, before = self.parser:feed(chunk)
  local list, n = evs or others or {}, evs and #evs or before
  if n == 0 then return evs ~= nil, err end
  local q, tail, id = self:_queue(), self.qtail, self.last_id
  for i = 1, n do
    local ev = list[i]
    tail = tail + 1
    if type(ev) == "string" then  -- a comment, kept in its place
      q[tail] = ev
    else
      -- The parser keeps the id across reconnects and reports a reset (an
      -- empty `id:`) as nil; before this stream saw any `id:`, nil means none
      -- yet and the caller's last_event_id stands.
      if ev.id ~= nil then id, self.saw_id = ev.id, true
      elseif self.saw_id then id = "" end
      q[tail] = event_of(ev, id)
    end
  end
  self.qtail, self.last_id = tail, id
  return evs ~= nil, err
end

--- How many events are parsed and waiting: that many `next_event(0)` calls
-- return at once, without reading the network. With `on_comment`, queued
-- comments count too (they are handed out on the way to the next event).
-- @treturn integer
function Stream:queued() return self.qtail - self.qhead + 1 end

-- The generic-for form: for ev, err in stream do ... end
function Stream:__call()
  return self:_next(nil)
end

-- Closing without a record (also the finalizer: no user code from __gc).
function Stream:_shut()
  self.over = true
  self:drop()
  if self.parser then self.parser:close() end
  self.parser = nil
end
Stream.__gc = Stream._shut

--- Closes the stream and its connection. Idempotent; also `__close` and `__gc`.
-- @usage stream:close()
function Stream:close() self:_finish("closed") end
Stream.__close = function(self) self:_finish("closed") end

function Stream:__tostring() return "homie.Stream(" .. (self.chat_id or self.url) .. ")" end

util.guard_methods(Stream, "stream", function(v) return getmetatable(v) == Stream end,
  { "open", "next_event", "restart", "close" })

return M
