-- OpenResty helpers: relay a chat's event stream to a shopper's browser
-- (relay_events) and sign the chat id the page may follow (chat_token).
-- The API key stays in nginx: the browser talks only to this relay.
local util = require "homie.util"

local ngx = ngx  -- luacheck: ignore (a global only inside nginx)
local M = {}

---------------------------------------------------------------------------
-- Tokens: "<expires>.<signature>", the signature an HMAC-SHA1 of the chat
-- id and the expiry time under the shop's secret, base64url without padding.

local function sign(chat_id, secret, expires)
  local mac = ngx.encode_base64(ngx.hmac_sha1(secret, "homie-chat\n" .. chat_id .. "\n" .. expires))
  return (mac:gsub("[+/=]", { ["+"] = "-", ["/"] = "_", ["="] = "" }))
end

-- A token letting a page follow chat_id for ttl seconds (default 3600).
function M.chat_token(chat_id, secret, ttl)
  util.check_id("chat_id", chat_id, 2)
  util.check_type("secret", secret, "string", 2)
  if secret == "" then util.fail("secret must not be empty", 2) end
  if ttl ~= nil and (type(ttl) ~= "number" or not (ttl > 0 and ttl < math.huge)) then
    util.fail("ttl must be a positive number of seconds", 2)
  end
  local expires = math.floor(ngx.time() + (ttl or 3600))
  return expires .. "." .. sign(chat_id, secret, expires)
end

-- True when token was made by chat_token for this chat and has not expired.
local function token_ok(chat_id, secret, token)
  if type(token) ~= "string" or type(chat_id) ~= "string" then return false end
  local expires, mac = token:match("^(%d+)%.([%w_-]+)$")
  if not expires or tonumber(expires) <= ngx.time() then return false end
  -- Compared through one more HMAC, so the time taken says nothing about
  -- how much of the signature was right.
  local want = sign(chat_id, secret, expires)
  return ngx.hmac_sha1(secret, mac) == ngx.hmac_sha1(secret, want)
end

-- For the shop's other handlers (e.g. the one posting the shopper's text):
-- true when token lets its bearer use chat_id.
function M.check_token(chat_id, secret, token)
  util.check_type("secret", secret, "string", 2)
  return token_ok(chat_id, secret, token)
end

-- Whether this request may follow chat_id: a valid token when a secret is
-- set, a true answer when authorize is set, and one of them (or public).
local function allowed(chat_id, opts)
  if opts.secret ~= nil and not token_ok(chat_id, opts.secret, opts.token) then return false, "bad or expired token" end
  if opts.authorize ~= nil and opts.authorize(chat_id) ~= true then return false, "not authorized" end
  if opts.secret == nil and opts.authorize == nil and opts.public ~= true then
    return false, "relay_events needs opts.secret (with opts.token), opts.authorize, or opts.public = true"
  end
  return true
end

---------------------------------------------------------------------------
-- The relay

local OPTIONS = { token = true, secret = true, authorize = true, public = true, max_seconds = true,
  max_bytes = true, heartbeat = true, filter = true, idle_timeout = true }

local function check(opts)
  opts = util.check_opts("relay_events", opts, OPTIONS, 3)
  if opts.secret ~= nil then util.check_type("secret", opts.secret, "string", 3) end
  if opts.secret == "" then util.fail("secret must not be empty", 3) end
  for _, k in ipairs({ "authorize", "filter" }) do
    if opts[k] ~= nil then util.check_type(k, opts[k], "function", 3) end
  end
  for _, k in ipairs({ "max_seconds", "max_bytes", "heartbeat", "idle_timeout" }) do
    local v = opts[k]
    if v ~= nil and (type(v) ~= "number" or v ~= v or v <= 0) then util.fail(k .. " must be a positive number", 3) end
  end
  return opts
end

-- The event in the stream's own syntax. Events a filter returned are
-- written from `data` (a table is sent as JSON), the others as they came.
local function wire(ev, rewritten)
  local data = ev.data
  if not rewritten and type(ev.raw) == "string" then data = ev.raw
  elseif type(data) == "table" then data = util.encode(data)
  else data = tostring(data == nil and "" or data) end
  local out = {}
  if ev.id ~= nil then out[#out + 1] = "id: " .. tostring(ev.id):gsub("[\r\n]", "") .. "\n" end
  if ev.type ~= nil and ev.type ~= "message" then
    out[#out + 1] = "event: " .. tostring(ev.type):gsub("[\r\n]", "") .. "\n"
  end
  for line in (data .. "\n"):gmatch("([^\n]*)\n") do
    out[#out + 1] = "data: " .. line:gsub("\r$", "") .. "\n"
  end
  out[#out + 1] = "\n"
  return table.concat(out)
end

-- Sends bytes and flushes them to the browser; false when it is gone.
local function send(s)
  if not ngx.print(s) then return false end
  return ngx.flush(true) == 1
end

local function refuse(status, why)
  ngx.status = status
  ngx.header["Content-Type"] = "text/plain"
  ngx.header["Cache-Control"] = "no-store"
  ngx.print(why, "\n")
  return nil, why
end

-- Status for the browser when the upstream stream cannot be opened. The
-- key's own problems (401/403) are the shop's, not the shopper's: 502.
local UPSTREAM_STATUS = { not_found = 404, rate_limit = 503, server = 502 }

-- The content handler for a browser's EventSource on chat_id. Returns the
-- reason it ended ("client closed", "max_seconds", "max_bytes", "upstream
-- ended"), or nil, why when it refused or failed.
function M.relay_events(client, chat_id, opts)
  opts = check(opts)
  if type(client) ~= "table" or type(client.events) ~= "function" then
    util.fail("relay_events needs a homie client as its first argument", 2)
  end
  if type(chat_id) ~= "string" or not pcall(util.check_id, "chat_id", chat_id) then
    return refuse(400, "homie: malformed chat id")
  end
  local ok, why = allowed(chat_id, opts)
  if not ok then
    if why:find("relay_events needs", 1, true) then ngx.log(ngx.ERR, "homie: ", why) end
    return refuse(403, "homie: forbidden")
  end

  local t = client.transport
  local started_at = t:now()
  local heartbeat = opts.heartbeat or 15
  local events = client:events(chat_id, { last_event_id = ngx.var.http_last_event_id,
                                          idle_timeout = opts.idle_timeout })
  local opened, err = events:open(heartbeat)
  if not opened then
    ngx.log(ngx.WARN, "homie: relay could not open the event stream: ", tostring(err))
    return refuse(UPSTREAM_STATUS[err.kind] or 502, "homie: event stream unavailable")
  end
  -- A browser that leaves is noticed at once when lua_check_client_abort is
  -- on: exiting ends the request, and nginx closes the upstream socket.
  ngx.on_abort(function()
    events:close()
    ngx.exit(499)
  end)

  ngx.header["Content-Type"] = "text/event-stream"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.header["X-Accel-Buffering"] = "no"
  local sent = 0
  local function deliver(s)
    sent = sent + #s
    return send(s)
  end
  local reason
  if not deliver(": homie relay\n\n") then reason = "client closed" end
  while not reason do
    local wait = heartbeat
    if opts.max_seconds then
      local left = started_at + opts.max_seconds - t:now()
      if left <= 0 then reason = "max_seconds"; break end
      if left < wait then wait = left end
    end
    local ev, e = events:next_event(wait)
    if ev then
      local out = ev
      if opts.filter then out = opts.filter(ev) end
      if out ~= nil and not deliver(wire(out, opts.filter ~= nil)) then reason = "client closed" end
      if opts.max_bytes and sent >= opts.max_bytes then reason = reason or "max_bytes" end
    elseif ev == nil and e == "timeout" then
      -- A wait shorter than the heartbeat was the rest of max_seconds.
      if wait < heartbeat then reason = "max_seconds"
      elseif not deliver(": keep-alive\n\n") then reason = "client closed" end
    elseif ev == nil then
      reason = "upstream ended"
    else
      ngx.log(ngx.WARN, "homie: relay's event stream failed: ", tostring(e))
      reason = "upstream failed"
    end
  end
  events:close()
  return reason
end

return M
