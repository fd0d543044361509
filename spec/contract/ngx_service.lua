-- The SSE contract suite's test service inside nginx (the ngx transport):
-- the same protocol as spec/contract/service.lua. Each stream runs in its
-- own ngx.timer (a light thread that owns its cosockets); the control
-- handlers only set flags the stream's loop reads between short waits,
-- since a cosocket cannot be used from another request. One worker.
local cjson = require "cjson"
local homie = require "homie"

local M = {}

local CAPABILITIES = { "comments", "headers", "last-event-id", "read-timeout", "restart", "bom",
  "server-directed-shutdown-request" }

local streams, next_id = {}, 0

local function given(v) if v ~= cjson.null then return v end end

-- The stream's loop, in its timer: report events and failed connections.
local function run(premature, st, o)
  if premature then return end
  -- The key is a placeholder: it goes only to this base_url, which nothing uses.
  local client = homie.new{ api_key = "contract-service", base_url = "http://127.0.0.1:9", transport = "ngx" }
  local t = client.transport
  local n = 0
  local function report(body)
    n = n + 1
    t:request({ method = "POST", url = o.callbackUrl .. "/" .. n, body = cjson.encode(body),
      headers = { ["Content-Type"] = "application/json" }, idempotent = true,
      connect_timeout = 5, max_body = 65536, deadline_at = t:now() + 5 })
  end
  local stream = client:stream(o.streamUrl, {
    last_event_id = o.lastEventId,
    headers = o.headers,
    idle_timeout = o.readTimeoutMs and o.readTimeoutMs / 1000 or nil,
    reconnect_delay = o.initialDelayMs and o.initialDelayMs / 1000 or nil,
    max_reconnects = 1000,
    max_event_bytes = 16 * 1024 * 1024,  -- the suite's large messages; see service.lua
    on_error = function(err) report({ kind = "error", error = tostring(err) }) end,
    on_comment = function(text) report({ kind = "comment", comment = text }) end,
  })
  while not st.closed do
    if st.restart then
      st.restart = false
      stream:restart()
    end
    local ev, why = stream:next_event(0.05)
    if ev then
      report({ kind = "event", event = { type = ev.type, data = ev.raw, id = ev.id } })
    elseif ev == false then
      report({ kind = "error", error = tostring(why) })
      break
    elseif why ~= "timeout" then
      break
    end
  end
  stream:close()
  client:close()
end

local function answer(status, body, headers)
  ngx.status = status
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  if body then ngx.print(body) end
  return ngx.exit(status)
end

function M.root()
  local method = ngx.req.get_method()
  if method == "GET" then
    return answer(200, cjson.encode({ capabilities = CAPABILITIES, name = "homie-lua-ngx" }),
      { ["Content-Type"] = "application/json" })
  elseif method == "DELETE" then
    return answer(204)
  end
  ngx.req.read_body()
  local ok, o = pcall(cjson.decode, ngx.req.get_body_data() or "")
  if not ok or type(o) ~= "table" then return answer(400, "bad JSON") end
  for k, v in pairs(o) do o[k] = given(v) end
  next_id = next_id + 1
  local st = {}
  streams[next_id] = st
  local started, err = ngx.timer.at(0, run, st, o)
  if not started then return answer(500, "timer: " .. tostring(err)) end
  return answer(201, nil, { Location = "/streams/" .. next_id })
end

function M.stream(id)
  local st = streams[tonumber(id)]
  if not st then return answer(404) end
  local method = ngx.req.get_method()
  if method == "DELETE" then
    st.closed = true
    streams[tonumber(id)] = nil
    return answer(204)
  end
  ngx.req.read_body()
  local ok, o = pcall(cjson.decode, ngx.req.get_body_data() or "")
  if ok and type(o) == "table" and o.command == "restart" then
    st.restart = true
    return answer(204)
  end
  return answer(400, "unknown command")
end

return M
