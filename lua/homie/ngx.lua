-- OpenResty helpers: relay a chat's event stream to a shopper's browser
-- (relay_events) and sign what a page may do with a chat (chat_token,
-- check_token, token_cookie). The API key stays in nginx: the browser talks
-- only to this relay. doc/openresty.md ("Security") is the spec of all of it.
local util = require "homie.util"
local observe = require "homie.observe"
local ngx_phase = require "homie.transport.ngx_phase"

local ngx = ngx  -- luacheck: ignore (a global only inside nginx)
local M = {}

---------------------------------------------------------------------------
-- Log lines: text from upstream or the browser is escaped (control bytes
-- and backslashes as \xNN) and cut, so it can never start a line of its own.

local function log_text(s, max)
  s = tostring(s)
  max = max or 300
  if #s > max then s = s:sub(1, max) .. "..." end
  return (s:gsub("[%z\1-\31\127\\]", function(c) return ("\\x%02x"):format(c:byte()) end))
end
M.log_text = log_text

---------------------------------------------------------------------------
-- Tokens: "v1.<purpose>.<expires>.<mac>". mac = base64url (no padding) of
-- HMAC-SHA1(secret, "homie-token/v1\n<purpose>\n<chat id>\n<expires>"),
-- exactly 27 characters. See doc/openresty.md for the whole spec.

local PURPOSES = { events = true, post = true }
local MIN_SECRET, MAX_TTL, DEFAULT_TTL = 32, 7 * 24 * 3600, 3600
local COOKIE = "homie_events"
local CLOCK_SLACK = 0.005  -- seconds; see the open loop of relay_events
M.MAX_TTL = MAX_TTL

-- The list of secrets (the first signs, any verifies); raises on a secret
-- too short to resist guessing.
local function secrets_of(secret, level)
  level = level + 1
  local list = secret
  if type(secret) == "string" then list = { secret }
  elseif type(secret) ~= "table" then
    util.fail("secret must be a string of at least " .. MIN_SECRET .. " bytes, or a list of them (got "
      .. type(secret) .. ")", level)
  end
  if list[1] == nil then util.fail("secret must name at least one secret", level) end
  for i, s in ipairs(list) do
    if type(s) ~= "string" or #s < MIN_SECRET then
      util.fail(("secret %d must be a string of at least %d bytes (got %s)"):format(i, MIN_SECRET,
        type(s) == "string" and #s .. " bytes" or type(s)), level)
    end
  end
  return list
end

local function check_purpose(purpose, level)
  if not PURPOSES[purpose] then
    util.fail(("purpose must be \"events\" or \"post\", got %s"):format(
      type(purpose) == "string" and ("%q"):format(purpose:sub(1, 40)) or type(purpose)), level + 1)
  end
end

local B64URL = { ["+"] = "-", ["/"] = "_", ["="] = "" }
local function sign(secret, purpose, chat_id, expires)
  local mac = ngx.hmac_sha1(secret, "homie-token/v1\n" .. purpose .. "\n" .. chat_id .. "\n" .. expires)
  return (ngx.encode_base64(mac):gsub("[+/=]", B64URL))
end

--- A token letting its bearer use chat_id for `purpose` ("events": follow
-- the chat through relay_events; "post": the shop's own handlers, checked
-- with check_token) for `ttl` seconds (default 3600, at most 7 days).
function M.chat_token(chat_id, secret, purpose, ttl)
  util.check_id("chat_id", chat_id, 2)
  local secrets = secrets_of(secret, 2)
  check_purpose(purpose, 2)
  if ttl ~= nil and (type(ttl) ~= "number" or not (ttl >= 1 and ttl <= MAX_TTL)) then
    util.fail("ttl must be a number of seconds from 1 to " .. MAX_TTL .. " (7 days), got " .. tostring(ttl), 2)
  end
  local expires = math.floor(ngx.time() + (ttl or DEFAULT_TTL))
  return "v1." .. purpose .. "." .. expires .. "." .. sign(secrets[1], purpose, chat_id, expires)
end

-- true, or false and why (for the shop's log, never for the browser).
local function verify(chat_id, secrets, token, purpose)
  if type(token) ~= "string" or #token > 100 then return false, "no token" end
  if type(chat_id) ~= "string" or not chat_id:match("^[%x-]+$") then return false, "bad chat id" end
  local p, expires, mac = token:match("^v1%.(%l+)%.(%d+)%.([%w_-]+)$")
  if not p or #mac ~= 27 or #expires > 12 then return false, "malformed token" end
  if p ~= purpose then return false, "token is for " .. p .. ", not " .. purpose end
  local now, exp = ngx.time(), tonumber(expires)
  if exp <= now then return false, "expired token" end
  if exp > now + MAX_TTL then return false, "token lives longer than 7 days" end
  -- Compared through one more HMAC, so the time taken says nothing about
  -- how much of the signature was right; every secret is tried.
  local ok = false
  for _, secret in ipairs(secrets) do
    local want = sign(secret, purpose, chat_id, expires)
    if ngx.hmac_sha1(secret, mac) == ngx.hmac_sha1(secret, want) then ok = true end
  end
  if not ok then return false, "bad signature" end
  return true
end

--- For the shop's own handlers (e.g. the one posting the shopper's text):
-- true when token was made by chat_token for chat_id and purpose and has
-- not expired; else false and why.
function M.check_token(chat_id, secret, token, purpose)
  local secrets = secrets_of(secret, 2)
  check_purpose(purpose, 2)
  return verify(chat_id, secrets, token, purpose)
end

--- A Set-Cookie value carrying an "events" token for chat_id, sent only to
-- `path` (the chat's relay location), HttpOnly, SameSite=Strict, Secure
-- unless opts.secure == false. relay_events reads it with opts.cookie.
function M.token_cookie(chat_id, secret, path, opts)
  opts = util.check_opts("token_cookie", opts, { ttl = true, secure = true }, 2)
  util.check_type("path", path, "string", 2)
  if not path:match("^/[%w%-%._~/%%]*$") then
    util.fail("path must be a URL path (letters, digits, - . _ ~ / %), got " .. ("%q"):format(path:sub(1, 80)), 2)
  end
  if opts.secure ~= nil then util.check_type("secure", opts.secure, "boolean", 2) end
  local ttl = opts.ttl or DEFAULT_TTL
  local ok, token = pcall(M.chat_token, chat_id, secret, "events", ttl)
  if not ok then error(token, 2) end
  return ("%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=Strict%s"):format(COOKIE, token, path,
    math.floor(ttl), opts.secure == false and "" or "; Secure")
end

-- Whether this request may follow chat_id: a valid "events" token when a
-- secret is set, a true answer when authorize is set, and one of them (or
-- public). Returns true, or false and why (for the log).
local function allowed(chat_id, opts)
  if opts.secret ~= nil then
    local token = opts.token
    if opts.cookie then token = ngx.var["cookie_" .. COOKIE] end
    local ok, why = verify(chat_id, opts.secrets, token, "events")
    if not ok then return false, why end
  end
  if opts.authorize ~= nil then
    local ok, answer = pcall(opts.authorize, chat_id)
    if not ok then return false, "authorize raised: " .. tostring(answer) end
    if answer ~= true then return false, "not authorized" end
  end
  if opts.secret == nil and opts.authorize == nil and opts.public ~= true then
    return false, "relay_events needs opts.secret (with opts.token or opts.cookie), opts.authorize, or opts.public = true"
  end
  return true
end

---------------------------------------------------------------------------
-- The relay

local OPTIONS = { token = true, cookie = true, secret = true, authorize = true, public = true,
  max_seconds = true, max_bytes = true, heartbeat = true, filter = true, idle_timeout = true,
  open_timeout = true, observe = true }

local function check(opts)
  opts = util.check_opts("relay_events", opts, OPTIONS, 3)
  if opts.secret ~= nil then opts.secrets = secrets_of(opts.secret, 3) end
  if opts.cookie ~= nil then util.check_type("cookie", opts.cookie, "boolean", 3) end
  if opts.cookie and opts.token ~= nil then util.fail("token and cookie = true exclude each other", 3) end
  for _, k in ipairs({ "authorize", "filter", "observe" }) do
    if opts[k] ~= nil then util.check_type(k, opts[k], "function", 3) end
  end
  for _, k in ipairs({ "max_seconds", "max_bytes", "heartbeat", "idle_timeout", "open_timeout" }) do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or not (v > 0 and v < math.huge)) then
      util.fail(k .. " must be a positive number", 3)
    end
  end
  return opts
end

-- Plain finds: LuaJIT compiles them, a pattern class would end the trace
-- (4x the cost per event).
local find = string.find
local function has_break(s) return find(s, "\n", 1, true) or find(s, "\r", 1, true) end

-- A field value with everything that could end a line removed.
local function field(v)
  if type(v) ~= "string" then v = tostring(v) end
  if has_break(v) or find(v, "\0", 1, true) then v = v:gsub("[%z\r\n]", "") end
  return v
end

-- Appends the event to `out` in the stream's own syntax: data split at
-- every CR, LF and CRLF into its own `data:` line, id and type cleaned.
-- An event as it came forwards `raw` (no JSON decoding); one a filter
-- rewrote is written from `data` (a table as JSON). Pieces go into `out`
-- unjoined: ngx.print takes the list, so event data is never copied here.
local function wire(out, ev, as_came)
  local data
  if as_came then data = ev.raw
  else
    data = ev.data
    if type(data) == "table" then data = util.encode(data)
    elseif data == nil then data = "" else data = tostring(data) end
  end
  local n = #out
  if ev.id ~= nil then
    out[n + 1], out[n + 2], out[n + 3] = "id: ", field(ev.id), "\n"
    n = n + 3
  end
  local t = ev.type
  if t ~= nil and t ~= "message" then
    t = field(t)
    if t ~= "" then
      out[n + 1], out[n + 2], out[n + 3] = "event: ", t, "\n"
      n = n + 3
    end
  end
  if not has_break(data) then
    out[n + 1], out[n + 2], out[n + 3] = "data: ", data, "\n\n"
    return
  end
  data = data:gsub("\r\n?", "\n")
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    out[n + 1], out[n + 2], out[n + 3] = "data: ", line, "\n"
    n = n + 3
  end
  out[n + 1] = "\n"
end

-- The event a filter's answer stands for: a table is an event, nil or
-- false drops it, anything else is the data of an unnamed event.
local function filtered(filter, ev)
  local ok, out = pcall(filter, ev)
  if not ok then return nil, out end
  if out == nil or out == false then return false end
  if type(out) ~= "table" then return { data = out } end
  return out
end

-- Sends bytes (a string or a list of strings) and flushes them to the
-- browser; false when it is gone.
local function send(s)
  if not ngx.print(s) then return false end
  return ngx.flush(true) == 1
end

local function refuse(status, why)
  ngx.status = status
  ngx.header["Content-Type"] = "text/plain"
  ngx.header["Cache-Control"] = "no-store"
  ngx.print("homie: ", why, "\n")
  return nil, why
end

local function stream_head()
  ngx.header["Content-Type"] = "text/event-stream"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.header["X-Accel-Buffering"] = "no"
end

-- The browser's Last-Event-ID, passed upstream only when it could be one
-- of the ids this relay wrote.
local function last_event_id()
  local id = ngx.var.http_last_event_id
  if id and #id <= 256 and not id:find("[%z\1-\31\127]") then return id end
  return nil
end

-- How long a browser waits before trying again after a passing failure.
local RETRY_MS = 5000

-- The answer when the upstream stream could not be opened (see the table
-- in doc/openresty.md): not found is the shopper's 404; a failure that may
-- pass is a 200 stream that only says `retry:`, so the page's EventSource
-- tries again; anything else is the shop's problem, a 502.
-- `streaming`: the 200 stream head already went out (upstream was slower
-- than a heartbeat), so the answer can only be the stream's end: a comment
-- saying why, and `retry:` so the page's EventSource waits before trying.
local function not_opened(opened, err, streaming)
  local status, why
  if opened == nil and err == nil then  -- a 204: the chat has nothing to stream
    if not streaming then ngx.status = 204 end
    return "upstream ended"
  elseif type(err) == "table" and err.kind == "not_found" then
    status, why = 404, "no such chat"
  elseif err == "timeout" or (type(err) == "table" and err.retryable) then
    ngx.log(ngx.WARN, "homie: relay's upstream stream is unavailable: ", log_text(err))
    if not streaming then stream_head() end
    send(("retry: %d\n: upstream unavailable\n\n"):format(RETRY_MS))
    return nil, "upstream unavailable"
  else
    ngx.log(ngx.ERR, "homie: relay's upstream stream refused: ", log_text(err))
    status, why = 502, "event stream unavailable"
  end
  if not streaming then return refuse(status, why) end
  send(("retry: %d\n: %s\n\n"):format(RETRY_MS, why))
  return nil, why
end

---------------------------------------------------------------------------
-- Observation: a "relay" record when the relay starts and one when it ends
-- (doc/openresty.md, "Metrics"). Nothing is built without a hook.

-- Why a relay ended, as the end record says it: one word per outcome, so
-- a metric label has few values.
local END_REASONS = { ["client closed"] = "browser_gone", max_seconds = "max_seconds",
  max_bytes = "max_bytes", ["upstream ended"] = "upstream_ended", ["filter failed"] = "filter_failed" }

local function upstream_error(err)
  return "upstream_error:" .. (type(err) == "table" and tostring(err.kind) or tostring(err))
end

local function hook_failed(fmt, ...)
  ngx.log(ngx.ERR, log_text(fmt:format(...)))
end

-- The relay's hook: its own `observe` option, else its client's. The
-- client's session is reached through the stream it made.
local function hook_of(opts, events)
  if opts.observe then return opts.observe end
  local session = type(events) == "table" and rawget(events, "session")
  return type(session) == "table" and session.observe or nil
end

-- The end record; `r` holds the relay's running counts.
local function report_end(hook, start, reason, r, now)
  observe.emit(hook, { type = "relay", phase = "end", chat_id = start.chat_id, trace_id = start.trace_id,
    reason = reason, status = ngx.status, events = r.events, bytes = r.bytes,
    duration = now - r.started_at, first_event = r.first_at and r.first_at - r.started_at,
    reconnects = r.stream.reconnects }, hook_failed)
end

-- The content handler for a browser's EventSource on chat_id. Returns why
-- it ended ("client closed", "max_seconds", "max_bytes", "upstream ended",
-- "upstream failed", "filter failed"), or nil, why when it refused or
-- could not open the upstream stream (doc/openresty.md has the table).
function M.relay_events(client, chat_id, opts)
  opts = check(opts)
  if type(client) ~= "table" or type(client.events) ~= "function" or type(client.now) ~= "function" then
    util.fail("relay_events needs a homie client as its first argument", 2)
  end
  if type(chat_id) ~= "string" or not pcall(util.check_id, "chat_id", chat_id) then
    return refuse(400, "malformed chat id")
  end
  local ok, why = allowed(chat_id, opts)
  if not ok then
    local level = why:find("relay_events needs", 1, true) and ngx.ERR or ngx.INFO
    ngx.log(level, "homie: relay refused chat ", chat_id, ": ", log_text(why))
    return refuse(403, "forbidden")
  end

  local started_at = client:now()
  local heartbeat = opts.heartbeat or 15
  local open_timeout = opts.open_timeout or 10
  local filter = opts.filter
  local events = client:events(chat_id, { last_event_id = last_event_id(), idle_timeout = opts.idle_timeout,
                                          connect_timeout = open_timeout, observe = opts.observe })
  -- Unfiltered, each upstream read comes as one string of well-formed
  -- events (the parser rewrites them): no table or string per event.
  if not filter then events:_as_wire() end
  local sent, relayed, first_at = 0, 0, nil  -- bytes and events to the browser, when the first went
  local hook, start, ended = hook_of(opts, events), nil, false
  -- Sends the end record, once (the abort handler and the loop may both end it).
  local function observed_end(reason)
    if not start or ended then return end
    ended = true
    report_end(hook, start, reason, { events = relayed, bytes = sent, first_at = first_at,
      started_at = started_at, stream = events }, client:now())
  end
  if hook then
    start = { type = "relay", phase = "start", chat_id = chat_id,
              trace_id = observe.trace_id((ngx_phase.incoming_trace())) }
    observe.emit(hook, start, hook_failed)
  end
  -- A browser that leaves is noticed at once when lua_check_client_abort is
  -- on: exiting ends the request, and nginx closes the upstream socket.
  ngx.on_abort(function()
    events:close()
    observed_end("browser_gone")
    ngx.exit(499)
  end)

  local function deliver(s)
    if type(s) == "table" then
      for i = 1, #s do sent = sent + #s[i] end
    else
      sent = sent + #s
    end
    return send(s)
  end
  -- Opening waits for upstream's answer up to a heartbeat with nothing
  -- sent, so a refusal still gets its own status. Past that the stream
  -- head goes out and heartbeats keep the page's connection alive until
  -- upstream answers or open_timeout (or max_seconds) is over.
  -- nginx's clocks tick in milliseconds and ngx.sleep truncates to them, so
  -- a wait that ends at open_until can read a millisecond or two short of
  -- it: less than CLOCK_SLACK left counts as none (no head, no heartbeat).
  local open_until = started_at + math.min(open_timeout, opts.max_seconds or open_timeout)
  local opened, err = events:open(math.min(heartbeat, open_timeout, opts.max_seconds or heartbeat))
  local streaming = false
  while opened == nil and err == "timeout" and open_until - client:now() > CLOCK_SLACK do
    if not streaming then stream_head() end
    if not deliver(streaming and ": keep-alive\n\n" or ": homie relay\n\n") then
      events:close()
      observed_end("browser_gone")
      return "client closed"
    end
    streaming = true
    local slice = math.max(0, math.min(heartbeat, open_until - client:now()))
    local slice_end = client:now() + slice
    opened, err = events:open(slice)
    -- An attempt that cannot resume says timeout at once: the slice is
    -- waited out all the same, so heartbeats keep their pace.
    if opened == nil and err == "timeout" and slice_end > client:now() then ngx.sleep(slice_end - client:now()) end
  end
  if not opened then
    events:close()
    local r1, r2 = not_opened(opened, err, streaming)
    observed_end((opened == nil and err == nil) and "upstream_ended" or upstream_error(err))
    return r1, r2
  end

  if not streaming then stream_head() end
  local reason
  if not streaming and not deliver(": homie relay\n\n") then reason = "client closed" end
  while not reason do
    local wait, capped = heartbeat, false
    if opts.max_seconds then
      local left = started_at + opts.max_seconds - client:now()
      if left <= 0 then reason = "max_seconds"; break end
      -- Rounded up to nginx's millisecond, so the wait cannot end short
      -- of max_seconds on the clock the end record's duration is read on.
      if left < heartbeat then wait, capped = math.ceil(left * 1000) / 1000, true end
    end
    local ev, e = events:next_event(wait)
    if ev and ev.wire then
      -- One upstream read's events, ev.n of them, in one write.
      if not deliver(ev.wire) then reason = "client closed"
      else
        relayed = relayed + ev.n
        if hook and not first_at then first_at = client:now() end
      end
      if opts.max_bytes and sent >= opts.max_bytes then reason = reason or "max_bytes" end
    elseif ev then
      -- Every event parsed from the same read goes out in one write. Events
      -- are counted per read: those the filter kept.
      local out, n = {}, 0
      repeat
        local fev, ferr = filtered(filter, ev)
        if fev == nil then
          ngx.log(ngx.ERR, "homie: relay's filter raised: ", log_text(ferr))
          reason = "filter failed"
          break
        end
        if fev then
          wire(out, fev, fev == ev and rawget(ev, "data") == nil)
          n = n + 1
        end
        ev = events:queued() > 0 and events:next_event(0) or nil
      until not ev
      if #out > 0 then
        if not deliver(out) then reason = "client closed"
        else
          relayed = relayed + n
          if hook and not first_at then first_at = client:now() end
        end
      end
      if opts.max_bytes and sent >= opts.max_bytes then reason = reason or "max_bytes" end
    elseif ev == nil and e == "timeout" then
      -- A wait shorter than the heartbeat was the rest of max_seconds: the
      -- loop's top ends the relay once the clock says so (a timer and the
      -- clock tick apart, so it can read a millisecond short).
      if not capped and not deliver(": keep-alive\n\n") then reason = "client closed" end
    elseif ev == nil then
      reason = "upstream ended"
    else
      ngx.log(ngx.WARN, "homie: relay's event stream failed: ", log_text(e))
      reason = "upstream failed"
      observed_end(upstream_error(e))
    end
  end
  events:close()
  observed_end(END_REASONS[reason])
  return reason
end

return M
