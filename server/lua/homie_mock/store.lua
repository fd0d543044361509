-- All emulator state lives in the lua_shared_dict `homie_state`, so it
-- outlives requests (one worker: every get/set pair without a yield between
-- them is atomic). Values are JSON strings, stored exactly as served.
--   chat:<id>        ChatDto JSON         org:<id>   owner organizationId
--   mn:<id>          message count        m:<id>:<i> MessageDto JSON (1-based)
--   en:<id>          last event id        ed:<id>    due time of the last event
--   e:<id>:<n>       "<due>\n<SSE frame>" for event n
local dict = ngx.shared.homie_state

local M = {}

M.KEEP_EVENTS = 2000  -- at least the last 1000 per chat are replayable

-- The next value of a counter. incr cannot make room in a full dict, but
-- set can (it forgets the least recently used entries): so set, then count.
-- Should even that fail, the router answers a 507 that says so.
local function next_of(key)
  local n, err = dict:incr(key, 1, 0)
  if not n and err == "no memory" then
    dict:set(key, 0)
    n, err = dict:incr(key, 1, 0)
  end
  if not n then error({ state_full = tostring(err) }) end
  return n
end

function M.put_chat(chat_json, id, org)
  dict:set("chat:" .. id, chat_json)
  dict:set("org:" .. id, org)
end

-- Returns the chat's JSON only when it exists and belongs to `org`.
function M.get_chat(id, org)
  if dict:get("org:" .. id) ~= org then return nil end
  return dict:get("chat:" .. id)
end

function M.add_message(chat_id, msg_json)
  local n = next_of("mn:" .. chat_id)
  dict:set("m:" .. chat_id .. ":" .. n, msg_json)
  return n
end

function M.message_count(chat_id)
  return dict:get("mn:" .. chat_id) or 0
end

function M.message(chat_id, i)
  return dict:get("m:" .. chat_id .. ":" .. i)
end

-- Appends events; each item is { delay = seconds after the previous one,
-- event = name or nil, data = JSON string }. Due times never go backwards,
-- so replies sent concurrently to one chat stream one after the other.
-- Returns the due time of the last event.
function M.append_events(chat_id, items)
  local due = math.max(ngx.now(), dict:get("ed:" .. chat_id) or 0)
  for _, item in ipairs(items) do
    due = due + (item.delay or 0)
    local n = next_of("en:" .. chat_id)
    local frame = "id: " .. n .. "\n"
      .. (item.event and ("event: " .. item.event .. "\n") or "")
      .. "data: " .. item.data .. "\n\n"
    dict:set("e:" .. chat_id .. ":" .. n, string.format("%.3f", due) .. "\n" .. frame)
    if n > M.KEEP_EVENTS then dict:delete("e:" .. chat_id .. ":" .. (n - M.KEEP_EVENTS)) end
  end
  dict:set("ed:" .. chat_id, due)
  return due
end

function M.last_event_id(chat_id)
  return dict:get("en:" .. chat_id) or 0
end

-- Returns due, frame for event n, or nil when it was never stored or evicted.
function M.event(chat_id, n)
  local v = dict:get("e:" .. chat_id .. ":" .. n)
  if not v then return nil end
  local nl = v:find("\n", 1, true)
  return tonumber(v:sub(1, nl - 1)), v:sub(nl + 1)
end

function M.stream_opened() return dict:incr("streams_open", 1, 0) end
function M.stream_closed() return dict:incr("streams_open", -1, 0) end
function M.streams_open() return dict:get("streams_open") or 0 end

return M
