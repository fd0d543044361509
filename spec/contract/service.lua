-- The SSE contract suite's test service for plain Lua (the curl transport):
-- the harness (LaunchDarkly's sse-contract-tests, ../shared/tools) asks it
-- over HTTP to open streams with `client:stream(url)` and it reports every
-- event and every failed connection back to the harness's callback URL.
-- Only homie's public API drives the streams. One Lua thread: the control
-- server is polled (LuaSocket, non-blocking) between short stream reads.
--
--   lua5.4 spec/contract/service.lua PORT
local socket = require "socket"
local cjson = require "cjson"
local homie = require "homie"

local port = tonumber(arg[1]) or 8000
local CAPABILITIES = { "comments", "headers", "last-event-id", "read-timeout", "restart", "bom",
  "server-directed-shutdown-request" }

-- The key is a placeholder: it goes only to this base_url, which nothing uses.
local client = homie.new{ api_key = "contract-service", base_url = "http://127.0.0.1:9" }
local transport = client.transport
local streams, next_id, running = {}, 0, true

-- POSTs one report to the stream's callback URL (numbered from 1).
local function report(st, body)
  st.n = st.n + 1
  local json = cjson.encode(body)
  local resp, fail = transport:request({ method = "POST", url = st.callback .. "/" .. st.n,
    headers = { ["Content-Type"] = "application/json" }, body = json, idempotent = true,
    connect_timeout = 5, max_body = 65536, deadline_at = transport:now() + 5 })
  if not resp then io.stderr:write("service: callback failed: ", fail.message, "\n") end
end

-- JSON null reads as absent.
local function given(v) if v ~= cjson.null then return v end end

local function open_stream(o)
  for k, v in pairs(o) do o[k] = given(v) end
  next_id = next_id + 1
  local st = { n = 0, callback = o.callbackUrl }
  local ok, stream = pcall(client.stream, client, o.streamUrl, {
    last_event_id = o.lastEventId,
    headers = o.headers,
    idle_timeout = o.readTimeoutMs and o.readTimeoutMs / 1000 or nil,
    reconnect_delay = o.initialDelayMs and o.initialDelayMs / 1000 or nil,
    max_reconnects = 1000,
    -- homie bounds an event at 1 MiB by default (documented); the suite's
    -- large-message cases send more, as a user expecting big events would.
    max_event_bytes = 16 * 1024 * 1024,
    on_error = function(err) report(st, { kind = "error", error = tostring(err) }) end,
    on_comment = function(text) report(st, { kind = "comment", comment = text }) end,
  })
  if not ok then return nil, tostring(stream) end
  st.stream = stream
  streams[next_id] = st
  return next_id
end

-- Reads one HTTP request from a control connection: method, path, body.
local function read_request(c)
  c:settimeout(5)
  local line = c:receive("*l")
  if not line then return nil end
  local method, path = line:match("^(%u+) (%S+)")
  local len = 0
  while true do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local n = h:lower():match("^content%-length:%s*(%d+)")
    if n then len = tonumber(n) end
  end
  local body = len > 0 and c:receive(len) or ""
  return method, path, body
end

local function answer(c, status, body, extra)
  body = body or ""
  c:send(("HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s"):format(
    status, #body, extra or "", body))
  c:close()
end

local function handle(c)
  local method, path, body = read_request(c)
  if not method then return c:close() end
  if method == "GET" and path == "/" then
    return answer(c, 200, cjson.encode({ capabilities = CAPABILITIES, name = "homie-lua-curl" }),
      "Content-Type: application/json\r\n")
  elseif method == "DELETE" and path == "/" then
    running = false
    return answer(c, 204)
  elseif method == "POST" and path == "/" then
    local ok, o = pcall(cjson.decode, body)
    if not ok or type(o) ~= "table" then return answer(c, 400, "bad JSON") end
    local id, err = open_stream(o)
    if not id then return answer(c, 400, err) end
    return answer(c, 201, "", ("Location: /streams/%d\r\n"):format(id))
  end
  local id = tonumber(path:match("^/streams/(%d+)$") or "")
  local st = id and streams[id]
  if not st then return answer(c, 404) end
  if method == "DELETE" then
    st.stream:close()
    streams[id] = nil
    return answer(c, 204)
  elseif method == "POST" then
    local ok, o = pcall(cjson.decode, body)
    if ok and type(o) == "table" and o.command == "restart" then
      st.stream:restart()
      return answer(c, 204)
    end
    return answer(c, 400, "unknown command")
  end
  return answer(c, 405)
end

-- Hands out whatever each stream has now, without waiting.
local function pump()
  for id, st in pairs(streams) do
    while true do
      local ev, why = st.stream:next_event(0)
      if ev then
        report(st, { kind = "event", event = { type = ev.type, data = ev.raw, id = ev.id } })
      else
        if ev == false then report(st, { kind = "error", error = tostring(why) }) end
        if why ~= "timeout" then streams[id] = nil end
        break
      end
    end
  end
end

local server = assert(socket.bind("127.0.0.1", port))
server:settimeout(0)
io.stderr:write("service: listening on 127.0.0.1:", port, "\n")
while running do
  local c = server:accept()
  if c then handle(c) else
    pump()
    socket.sleep(0.002)
  end
end
for _, st in pairs(streams) do st.stream:close() end
client:close()
