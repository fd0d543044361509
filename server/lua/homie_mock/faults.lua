-- The fault queue and request counters, in lua_shared_dict `homie_ctl`
-- (cleared as a whole by POST /__mock/reset; chats live elsewhere).
-- The queue is one JSON array under "faults", FIFO; with one worker and no
-- yield between read and write, take() is atomic.
local cjson = require "cjson.safe"
local json = require "homie_mock.json"

local dict = ngx.shared.homie_ctl

local M = {}

-- Which requests a fault kind can apply to. "any" faults act before or
-- around handling; "rest" ones reshape a JSON body; "stream" ones an SSE stream.
local function scope(f)
  if f.status or f.stall or f.delay_ms or f.reset == "before_headers" then return "any" end
  if f.cut_after or f.stall_stream or f.garbage then return "stream" end
  return "rest"
end

local function count_kinds(f)
  local n = 0
  for _, k in ipairs({ "status", "delay_ms", "stall", "reset", "truncate", "malformed",
                       "drip_ms", "cut_after", "stall_stream", "garbage" }) do
    if f[k] ~= nil then n = n + 1 end
  end
  return n
end

local function is_nonneg(v) return type(v) == "number" and v >= 0 and v % 1 == 0 end

-- Checks a POST /__mock/faults body; returns the queue entry or nil, message.
function M.validate(spec)
  if type(spec) ~= "table" then return nil, "body must be a JSON object" end
  for _, k in ipairs({ "method", "path", "times" }) do
    if spec[k] == cjson.null then spec[k] = nil end  -- JSON null: not given
  end
  local f = spec.fault
  if type(f) ~= "table" then return nil, "fault must be an object" end
  if count_kinds(f) ~= 1 then
    return nil, "fault must have exactly one of status, delay_ms, stall, reset, truncate, malformed, drip_ms, cut_after, stall_stream, garbage"
  end
  if f.status ~= nil and not (is_nonneg(f.status) and f.status >= 200 and f.status <= 599) then
    return nil, "fault.status must be an integer between 200 and 599"
  end
  if f.headers ~= nil and type(f.headers) ~= "table" then return nil, "fault.headers must be an object" end
  if f.body ~= nil and type(f.body) ~= "string" and type(f.body) ~= "table" then
    return nil, "fault.body must be a string or an object"
  end
  if f.reset ~= nil and f.reset ~= "before_headers" and f.reset ~= "mid_body" then
    return nil, "fault.reset must be \"before_headers\" or \"mid_body\""
  end
  for _, k in ipairs({ "delay_ms", "drip_ms", "cut_after" }) do
    if f[k] ~= nil and not is_nonneg(f[k]) then return nil, "fault." .. k .. " must be a non-negative integer" end
  end
  for _, k in ipairs({ "stall", "truncate", "malformed", "stall_stream", "garbage" }) do
    if f[k] ~= nil and f[k] ~= true then return nil, "fault." .. k .. " must be true" end
  end
  if spec.method ~= nil and type(spec.method) ~= "string" then return nil, "method must be a string" end
  if spec.path ~= nil then
    if type(spec.path) ~= "string" then return nil, "path must be a string" end
    local _, _, err = ngx.re.find("", spec.path, "j")
    if err then return nil, "path is not a valid regex: " .. err end
  end
  local times = spec.times == nil and 1 or spec.times
  if not is_nonneg(times) or times < 1 then return nil, "times must be a positive integer" end
  return { method = spec.method and spec.method:upper(), path = spec.path, times = times,
           fault = f, scope = scope(f) }
end

local function load()
  return cjson.decode(dict:get("faults") or "[]") or {}
end

local function save(q)
  dict:set("faults", #q > 0 and json.encode(q) or "[]")
end

function M.push(entry)
  local q = load()
  q[#q + 1] = entry
  save(q)
end

-- Remaining uses over all queued faults.
function M.pending()
  local n = 0
  for _, e in ipairs(load()) do n = n + e.times end
  return n
end

-- Takes one use of the first queued fault matching this request, or nil.
function M.take(method, path, is_stream)
  local q = load()
  for i, e in ipairs(q) do
    local applies = e.scope == "any" or (e.scope == "stream") == (is_stream and true or false)
    if applies and (not e.method or e.method == method)
       and (not e.path or ngx.re.find(path, e.path, "j")) then
      e.times = e.times - 1
      if e.times <= 0 then table.remove(q, i) end
      save(q)
      return e.fault
    end
  end
  return nil
end

function M.count_request(method, route)
  dict:incr("req:" .. method .. " " .. route, 1, 0)
end

function M.count_message()
  dict:incr("messages_received", 1, 0)
end

function M.stats(streams_open)
  local requests = {}
  for _, k in ipairs(dict:get_keys(0)) do
    if k:sub(1, 4) == "req:" then requests[k:sub(5)] = dict:get(k) end
  end
  return {
    requests = requests,  -- encodes as {} when empty (a map, never an array)
    messages_received = dict:get("messages_received") or 0,
    faults_pending = M.pending(),
    streams_open = streams_open,
  }
end

function M.reset()
  dict:flush_all()
  dict:flush_expired()
end

return M
