-- GET /v1/chats/{chatId}/messages/events and /v1/chats/{chatId}/events.
-- Each connection polls the chat's event log in the shared dict and writes
-- every event once its due time has come, in id order; POSTs fill the log.
local chats = require "homie_mock.chats"
local config = require "homie_mock.config"
local store = require "homie_mock.store"

local M = {}

local POLL = 0.01        -- seconds between looks at the log
local STALL_LIMIT = 120  -- seconds a stalled stream is kept open

-- Noise for the "garbage" fault: no data/id/event/retry field, so a correct
-- SSE parser ignores all of it and dispatches nothing extra.
local GARBAGE = table.concat({
  "this line has no colon\n",
  "x-noise: 8f3a\001\127 random bytes\n",
  "\255\254\195\040 invalid utf-8 \192\n",
  ": a comment with \237\160\128 bad bytes\n",
  "\n",
})

local function write(s)
  ngx.print(s)
  return ngx.flush(true)
end

local function run(req, fault)
  local cfg = config.get()
  local chat_id = req.chat_id
  -- Read the log position before the headers go out: once a client sees the
  -- 200, any message it sends is guaranteed to reach this stream.
  local next_id = store.last_event_id(chat_id) + 1
  local resume = tonumber(ngx.var.http_last_event_id or "")
  if resume and resume >= 0 and resume % 1 == 0 then
    next_id = math.min(resume + 1, next_id)
  end

  ngx.status = 200
  ngx.header["Content-Type"] = "text/event-stream"
  ngx.header["Cache-Control"] = "no-cache"
  ngx.header["X-Accel-Buffering"] = "no"
  -- A fresh connection also learns the current position (an id with no
  -- data dispatches nothing), so a client cut off before its first event
  -- can still resume without losing what was sent in between.
  local opening = resume and "retry: 1000\n\n" or ("retry: 1000\nid: %d\n\n"):format(next_id - 1)
  if not write(opening) then return end

  local aborted = false
  ngx.on_abort(function() aborted = true end)

  if fault and fault.stall_stream then
    local until_t = ngx.now() + STALL_LIMIT
    while not aborted and ngx.now() < until_t and not ngx.worker.exiting() do ngx.sleep(0.1) end
    return "abort"
  end
  if fault and fault.garbage and not write(GARBAGE) then return end

  local sent = 0
  local last_write = ngx.now()
  local deadline = ngx.now() + cfg.max_stream_seconds
  while not aborted and ngx.now() < deadline and not ngx.worker.exiting() do
    local last = store.last_event_id(chat_id)
    local wrote = false
    while next_id <= last do
      local due, frame = store.event(chat_id, next_id)
      if due and due > ngx.now() then break end
      if frame then
        ngx.print(frame)
        if fault and fault.garbage then ngx.print(GARBAGE) end
        sent, wrote = sent + 1, true
      end
      next_id = next_id + 1
      if fault and fault.cut_after and sent >= fault.cut_after then
        ngx.flush(true)
        return "abort"
      end
    end
    if not wrote and ngx.now() - last_write >= cfg.heartbeat then
      ngx.print(": ping\n\n")
      wrote = true
    end
    if wrote then
      if not ngx.flush(true) then return end
      last_write = ngx.now()
    end
    ngx.sleep(POLL)
  end
end

function M.serve(req, fault)
  chats.require_chat(req)
  store.stream_opened()
  -- run() never calls ngx.exit (it would end the handler before the gauge
  -- is decremented); it returns "abort" when the connection must be dropped.
  local ok, action = pcall(run, req, fault)
  store.stream_closed()
  if not ok then ngx.log(ngx.ERR, "stream failed: ", action) end
  if action == "abort" then return ngx.exit(444) end
  return ngx.exit(ngx.OK)
end

return M
