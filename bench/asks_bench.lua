-- Concurrent conversations: N chat:ask calls at once through one gather,
-- against the emulator's paced replies; peer: one conversation alone, in the
-- same process. Run once per N, in its own process, so the peak RSS is this
-- workload's. Prints "alone=S together=S failed=K rss0_kb=R peak_kb=P".
-- usage: lua5.4 bench/asks_bench.lua BASE_URL API_KEY N
local common = require "bench.common"
local homie = require "homie"
local now = require("homie.sse").now
local base, key, n = arg[1], arg[2], tonumber(arg[3])
assert(base and key and n, "usage: asks_bench.lua BASE_URL API_KEY N")

local client = homie.new{ api_key = key, base_url = base }
local chats = {}
for i = 1, n do chats[i] = assert(client:create_chat{ chatbotId = common.BOT }) end

-- One conversation; returns the events it saw, or nil, err.
local function converse(chat)
  local events = 0
  local reply, err = chat:ask("Does the blue hoodie come in size L?",
    { currentUrl = common.PAGE, timeout = 30, on_event = function() events = events + 1 end })
  if not reply then return nil, err end
  return events
end

local alone = {}
for r = 1, 3 do
  local t0 = now()
  assert(converse(chats[r]))
  alone[r] = now() - t0
end
table.sort(alone)

collectgarbage()
local rss0 = common.rss_kb()
local tasks = {}
for i = 1, n do tasks[i] = function() return converse(chats[i]) end end
local t0 = now()
local results = client:gather(tasks)
local together = now() - t0
local failed, why = 0, nil
for i = 1, n do
  if not results[i][1] then failed, why = failed + 1, why or tostring(results[i][2]) end
end
if why then io.stderr:write("asks_bench: first failure: ", why, "\n") end
print(("alone=%.4f together=%.4f failed=%d rss0_kb=%d peak_kb=%d"):format(alone[2], together, failed, rss0,
  common.peak_rss_kb()))
client:close()
