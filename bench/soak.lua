-- Soak: 10,000 calls and 200 streams against the emulator with 10% of
-- requests given an injected fault. Every call must succeed or fail with a
-- kind its fault explains; each message send carries a unique text and the
-- server's history must hold no text twice and every successful send once;
-- file descriptors and memory must come back to where they started. Exits
-- non-zero otherwise.
-- Usage: lua5.4 bench/soak.lua [--calls 10000] [--streams 200] [--batch 50]
local common = require "bench.common"
local homie = require "homie"
local sse = require "homie.sse"
local mock = require "spec.support.mock"
local soak_recover = require "bench.soak_recover"

local calls, streams, batch = 10000, 200, 100
for i = 1, #arg, 2 do
  local v = tonumber(arg[i + 1])
  if arg[i] == "--calls" then calls = v elseif arg[i] == "--streams" then streams = v
  elseif arg[i] == "--batch" then batch = v end
end

-- Faults for calls, and the error kinds each may end in once retries are
-- exhausted or refused (a message send is never retried after it arrived).
local CALL_FAULTS = {
  { fault = { status = 503, headers = { ["retry-after-ms"] = "5" } }, kinds = { server = true } },
  { fault = { status = 500 }, kinds = { server = true } },
  { fault = { status = 429, headers = { ["Retry-After"] = "0" } }, kinds = { rate_limit = true } },
  { fault = { reset = "before_headers" }, kinds = { connection = true } },
  { fault = { reset = "mid_body" }, kinds = { connection = true } },
  { fault = { truncate = true }, kinds = { protocol = true } },
  { fault = { malformed = true }, kinds = { protocol = true } },
  { fault = { delay_ms = 20 }, kinds = {} },
}
local STREAM_FAULTS = { { cut_after = 3 }, { garbage = true }, { status = 503, headers = { ["Retry-After"] = "0" } } }

local server = mock.start{ chunk_delay_ms = 0 }
local function run()
  collectgarbage()
  local fds0, rss0, heap0 = common.open_fds(), common.rss_kb(), collectgarbage("count")
  local client = homie.new{ api_key = server.api_key, base_url = server.url, timeout = 5 }
  local chats = {}
  for i = 1, 20 do chats[i] = assert(client:create_chat{ chatbotId = common.BOT }) end

  local outcome, allowed = { ok = 0 }, {}
  local sends, sends_ok, received0 = 0, 0, server:stats().messages_received
  local sent = {}  -- text -> true (the call succeeded) or false (it failed)
  local flagged = 0  -- failed sends whose error says maybe_stored
  for _, f in ipairs(CALL_FAULTS) do for k in pairs(f.kinds) do allowed[k] = true end end
  local t0 = sse.now()
  local done = 0
  while done < calls do
    local n = math.min(batch, calls - done)
    -- 10% of this batch's requests, split like the calls (a fifth are
    -- sends): faults are matched by method, so reads, which reuse warm
    -- connections and arrive first, cannot take all of them.
    for k = 1, math.floor(n / 10) do
      local f = CALL_FAULTS[math.random(#CALL_FAULTS)]
      server:fault{ method = (k % 5 == 0) and "POST" or "GET", path = "^/v1/chats/[^/]+/messages$", fault = f.fault }
    end
    local tasks, texts = {}, {}
    for i = 1, n do
      local chat = chats[math.random(#chats)]
      if i % 5 == 0 then
        -- A unique text per send: the history then shows exactly which
        -- sends were stored, and how often.
        local text = ("hoodie in L? [soak send %d]"):format(done + i)
        tasks[i] = function() return chat:send(text, { currentUrl = common.PAGE }) end
        texts[i] = text
      else
        tasks[i] = function() return chat:list_messages{ size = 5 } end
      end
    end
    for i, r in ipairs(client:gather(tasks)) do
      if i % 5 == 0 then
        sends = sends + 1
        sent[texts[i]] = r[1] and true or false
        if r[1] then sends_ok = sends_ok + 1 elseif r[2].maybe_stored then flagged = flagged + 1 end
      end
      if r[1] then
        outcome.ok = outcome.ok + 1
      else
        local kind = r[2] and r[2].kind or "nothing"
        outcome[kind] = (outcome[kind] or 0) + 1
        if not allowed[kind] then error("unexpected failure: " .. tostring(r[2])) end
      end
    end
    done = done + n
  end
  local call_time = sse.now() - t0
  -- Every successful send stored once, and no send stored twice.
  local received = server:stats().messages_received - received0
  server:reset()
  -- The exact check, from the server's history: no text stored twice, every
  -- successful send stored once, nothing stored that was not sent. (A failed
  -- send may be stored once: the server can act and then lose the answer.)
  local stored, twice, lost, foreign, failed_stored = {}, 0, 0, 0, 0
  for _, chat in ipairs(chats) do
    for msg, err in chat:messages{ size = 100 } do
      if not msg then error("reading the history failed: " .. tostring(err)) end
      if msg.type == "question" then stored[msg.content] = (stored[msg.content] or 0) + 1 end
    end
  end
  for text, n in pairs(stored) do
    if sent[text] == nil then foreign = foreign + 1 end
    if n > 1 then twice = twice + 1 print("soak: stored " .. n .. " times: " .. text) end
    if sent[text] == false then failed_stored = failed_stored + 1 end
  end
  for text, ok in pairs(sent) do
    if ok and stored[text] ~= 1 then lost = lost + 1 print("soak: a successful send is not stored: " .. text) end
  end

  -- Streams: each asks one question while its stream may be cut or garbled.
  local stream_ok = 0
  t0 = sse.now()
  for _ = 1, streams / 10 do
    local f = STREAM_FAULTS[math.random(#STREAM_FAULTS)]
    server:fault{ method = "GET", path = "/events$", fault = f }
  end
  local tasks = {}
  for i = 1, streams do
    tasks[i] = function()
      local chat = assert(client:create_chat{ chatbotId = common.BOT })
      local chunks, final = {}, nil
      local reply = assert(chat:ask("blue hoodie?", { currentUrl = common.PAGE, on_event = function(ev)
        if ev.type == "chunk" then chunks[#chunks + 1] = ev.data.content end
        if ev.type == "message" and type(ev.data) == "table" and ev.data.type == "answer" then final = ev.data end
      end }))
      return final and final.id == reply.id and table.concat(chunks) == reply.content
    end
  end
  for i, r in ipairs(client:gather(tasks)) do
    if r[1] then stream_ok = stream_ok + 1 else print("stream " .. i .. " incomplete") end
  end
  local stream_time = sse.now() - t0
  local pending = server:stats().faults_pending
  server:reset()

  -- Sends that recover: through ask and send_message{reconcile}, counted
  -- from the histories (bench/soak_recover.lua prints and checks them).
  t0 = sse.now()
  soak_recover(server, client, { sends = math.max(10, math.floor(calls / 10)), batch = 50 })
  local recover_time = sse.now() - t0

  client:close()
  client, chats, tasks = nil, nil, nil  -- luacheck: ignore 311 (dropped so the collector can free them)
  collectgarbage()
  collectgarbage()
  local fds1, rss1, heap1 = common.open_fds(), common.rss_kb(), collectgarbage("count")

  local kinds = {}
  for k, v in pairs(outcome) do kinds[#kinds + 1] = k .. "=" .. v end
  table.sort(kinds)
  print(("soak: %d calls in %.1f s (%s)"):format(calls, call_time, table.concat(kinds, " ")))
  print(("soak: %d message sends (each a unique text), %d succeeded, %d stored by the server; "
    .. "from the history: %d stored twice, %d successful sends missing, %d failed sends stored once "
    .. "(plain send: no recovery; %d errors said maybe_stored), %d unknown texts")
    :format(sends, sends_ok, received, twice, lost, failed_stored, flagged, foreign))
  print(("soak: %d/%d streams complete with faults in %.1f s (%d stream faults left unconsumed)")
    :format(stream_ok, streams, stream_time, pending))
  print(("soak: recovery phase in %.1f s"):format(recover_time))
  print(("soak: fds %d -> %d, Lua heap %.0f -> %.0f KiB, RSS %d -> %d KiB (peak %d KiB)")
    :format(fds0, fds1, heap0, heap1, rss0, rss1, common.peak_rss_kb()))
  assert(twice == 0, "a message was stored twice")
  assert(lost == 0, "a successful send was not stored")
  assert(foreign == 0, "the history holds a text that was never sent")
  assert(received == sends_ok + failed_stored, "the server's count disagrees with its history")
  assert(failed_stored <= flagged, "a send was stored although its error said maybe_stored = false")
  assert(stream_ok == streams, "some streams lost events")
  assert(fds1 <= fds0, "file descriptors leaked")
  assert(heap1 < heap0 + 512, "Lua heap grew")
end
local ok, err = pcall(run)
server:stop()
if not ok then print("soak: FAILED: " .. tostring(err)) os.exit(1) end
print("soak: passed")
