-- A chat's event stream: connects, parses Server-Sent Events in C, and
-- reconnects with Last-Event-ID when the connection drops, idles or ends.
local sse = require "homie.sse"
local util = require "homie.util"
local errors = require "homie.errors"
local retry = require "homie.retry"
local sched = require "homie.sched"
local client_mod = require "homie.client"

local Client = client_mod.Client

local Stream = {}
Stream.__index = Stream
Stream.__name = "homie.Stream"

local OPTIONS = { last_event_id = true, idle_timeout = true, max_reconnects = true,
  max_event_bytes = true, connect_timeout = true }

local SPEC_PATH, INTRO_PATH = "/v1/chats/%s/messages/events", "/v1/chats/%s/events"
local RECONNECT_CAP = 30

function Client:events(chat_id, opts)
  util.check_id("chat_id", chat_id, 2)
  opts = util.check_opts("events", opts, OPTIONS, 2)
  if opts.last_event_id ~= nil then util.check_header_value("last_event_id", opts.last_event_id, 2) end
  for _, k in ipairs({ "idle_timeout", "max_reconnects", "max_event_bytes", "connect_timeout" }) do
    if opts[k] ~= nil and (type(opts[k]) ~= "number" or opts[k] < 0) then
      util.fail(k .. " must be a non-negative number", 2)
    end
  end
  return setmetatable({
    client = self,
    chat_id = chat_id,
    last_id = opts.last_event_id,
    idle_timeout = opts.idle_timeout or 60,
    max_reconnects = opts.max_reconnects or 10,
    max_event_bytes = opts.max_event_bytes,
    connect_timeout = opts.connect_timeout or self.timeout,
    retry_ms = nil,      -- the server's last valid `retry:`
    failures = 0,        -- reconnects since the last delivered event
    -- Events parsed but not yet handed out, q[qhead..qtail]. The ends are
    -- kept explicitly: `#` is undefined once the front slots are nil.
    queue = {}, qhead = 1, qtail = 0,
    conn = nil, parser = nil,
    over = false,        -- ended: closed by the caller, a 204, or an error
    reconnects = 0,      -- total, for the curious
  }, Stream)
end

local function event_of(ev)
  local data = ev.data
  local first = data:match("^%s*(.)")
  if first == "{" or first == "[" then
    local t = util.decode(data)
    if t ~= nil then data = t end
  end
  return { type = ev.type, id = ev.id, data = data, raw = ev.data }
end

-- Ends the stream with an error the caller sees once.
function Stream:fail(err)
  self:close()
  return false, err
end

function Stream:error(fields)
  return errors.new(fields, self.client._secret())
end

-- One connection attempt. Returns true when the stream is open; or nil,
-- wait (seconds before the next attempt); or false, err (give up);
-- or false, nil for a 204 (the server says: no more).
function Stream:connect()
  local client = self.client
  local intro = client._events_intro or self.trying_intro
  local path = (intro and INTRO_PATH or SPEC_PATH):format(self.chat_id)
  local extra = { "Accept: text/event-stream", "Cache-Control: no-cache" }
  if self.last_id and self.last_id ~= "" then extra[#extra + 1] = "Last-Event-ID: " .. self.last_id end
  local headers = client:headers(false, extra)
  local conn = client.transport:open(client:request_options("GET", client.base_url .. path, headers, nil, 0))
  local status, h = conn:head(sse.now() + self.connect_timeout)
  if not status then
    conn:close()
    if h.detail == "tls" then  -- a bad certificate stays bad
      return false, self:error({ kind = h.kind, message = h.message })
    end
    return nil, self:backoff(), self:error({ kind = h.kind, message = h.message, retryable = true })
  end
  if status == 200 then
    local ctype = (h["content-type"] or ""):lower()
    if not ctype:find("text/event-stream", 1, true) then
      conn:close()
      return false, self:error({ kind = "protocol", status = status, request_id = h["x-request-id"],
        message = "expected text/event-stream, got content type " .. (h["content-type"] or "none") })
    end
    if self.trying_intro then client._events_intro = true end  -- remembered once it worked
    self.conn = conn
    self.parser = sse.parser({ max_event_bytes = self.max_event_bytes })
    client:log("homie: GET %s -> 200 stream open [request id %s]", path, tostring(h["x-request-id"]))
    return true
  end
  local body = conn:rest(sse.now() + self.connect_timeout)
  conn:close()
  if status == 204 then return false, nil end
  if status == 404 and not intro then
    -- The introduction's path, tried once; a chat that does not exist is
    -- a 404 there too, so the client only remembers it once it answers.
    self.trying_intro = true
    client:log("homie: GET %s -> 404, trying %s", path, INTRO_PATH)
    return nil, 0
  end
  local err = errors.from_response(status, h, body, util.decode, client._secret())
  if status == 429 or status == 408 or status >= 500 then
    err.retryable = true
    return nil, retry.server_wait(h) or self:backoff(), err
  end
  return false, err
end

-- The wait before reconnect n: the server's retry (else 1 s), doubled per
-- consecutive failure, capped, with jitter.
function Stream:backoff()
  local base = (self.retry_ms or 1000) / 1000
  local w = math.min(base * 2 ^ self.failures, RECONNECT_CAP)
  return w * (1 - 0.25 * math.random())
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
  if self.failures > self.max_reconnects then return self:fail(err) end
  self.reconnect_at = sse.now() + wait
  return true
end

-- Opens the connection now (otherwise the first read does). Returns true,
-- or nil/false, err like the iterator. Waits for a scheduled reconnect, but
-- never past `deadline`: then it returns nil, "timeout" and the reconnect
-- stays scheduled for the next call.
function Stream:open(deadline)
  local multi = self.client.transport.multi
  while not self.conn do
    if self.over then return nil end
    if self.reconnect_at then
      local now = sse.now()
      if deadline and deadline < self.reconnect_at then
        sched.sleep(multi, deadline - now)
        return nil, "timeout"
      end
      sched.sleep(multi, self.reconnect_at - now)
      self.reconnect_at = nil
    end
    local ok, wait, err = self:connect()
    if ok then return true end
    if ok == false then
      if wait then return self:fail(wait) end
      self.over = true
      return nil
    end
    local scheduled, fatal = self:schedule(wait,
      err or self:error({ kind = "connection", message = "too many reconnects" }))
    if not scheduled then return scheduled, fatal end
  end
  return true
end

-- The next event, waiting at most until `deadline` (monotonic seconds, nil
-- for no limit). Returns the event; or nil, "timeout"; or nil at the end;
-- or false, err (then the stream is over).
function Stream:next_event(deadline)
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
      local ok, err = self:open(deadline)
      if not ok then return ok, err end
    end
    local limit = sse.now() + self.idle_timeout
    local wait_until = deadline and math.min(deadline, limit) or limit
    local chunk, why = self.conn:read(wait_until)
    if chunk then
      self:feed(chunk)
    elseif why == "idle" and deadline and sse.now() >= deadline and sse.now() < limit then
      return nil, "timeout"
    else
      -- Idle past idle_timeout, a clean end, or a broken connection: resume.
      self.client:log("homie: event stream %s (%s); reconnecting after id %s", self.chat_id,
        type(why) == "table" and why.message or why, tostring(self.last_id))
      self:drop()
      local scheduled, fatal = self:schedule(self:backoff(), self:error({
        kind = type(why) == "table" and why.kind or "connection",
        message = "event stream lost after " .. self.max_reconnects .. " reconnects",
        retryable = true }))
      if not scheduled then return scheduled, fatal end
    end
  end
end

function Stream:feed(chunk)
  -- On an oversized event, feed returns nil, err, and every other event of
  -- the chunk: those are still delivered, then the error.
  local evs, err, others = self.parser:feed(chunk)
  local list = evs or others or {}
  local q, tail = self.queue, self.qtail
  for _, ev in ipairs(list) do
    tail = tail + 1
    q[tail] = event_of(ev)
  end
  self.qtail = tail
  -- The parser is new per connection: its id is nil until this connection
  -- sends one, so keep ours then, unless an event shows an empty-id reset.
  local id = self.parser:last_event_id()
  if id then self.last_id = id elseif #list > 0 then self.last_id = list[#list].id end
  self.retry_ms = self.parser:retry() or self.retry_ms
  if not evs then
    self.fatal = self:error({ kind = "protocol", message = "event stream: " .. tostring(err) })
    self.over = true
    self:drop()
  end
end

-- The generic-for form: for ev, err in stream do ... end
function Stream:__call()
  return self:next_event(nil)
end

function Stream:close()
  self.over = true
  self:drop()
end
Stream.__close = Stream.close
Stream.__gc = Stream.close

function Stream:__tostring() return "homie.Stream(" .. self.chat_id .. ")" end

-- Chat conveniences.
local Chat = require "homie.chat"
function Chat:events(opts) return self:client():events(self.id, opts) end

return Stream
