-- 100 concurrent conversations, each streaming its reply through gather,
-- against the emulator's paced replies. Named peer: the same reply streamed
-- alone. "Keeps up" means 100 at once take about as long as one.
-- Usage: lua5.4 bench/streams_bench.lua [--streams 100] [--chunk-delay-ms 30]
local common = require "bench.common"
local homie = require "homie"
local sse = require "homie.sse"
local mock = require "spec.support.mock"

local n, delay = 100, 30
for i = 1, #arg, 2 do
  if arg[i] == "--streams" then n = tonumber(arg[i + 1])
  elseif arg[i] == "--chunk-delay-ms" then delay = tonumber(arg[i + 1]) end
end

local server = mock.start{ chunk_delay_ms = delay }
local ok, err = pcall(function()
  local client = homie.new{ api_key = server.api_key, base_url = server.url }
  local chats = {}
  for i = 1, n do chats[i] = assert(client:create_chat{ chatbotId = common.BOT }) end

  local function converse(chat)
    local events = 0
    local reply = assert(chat:ask("Does the blue hoodie come in size L?",
      { currentUrl = common.PAGE, on_event = function() events = events + 1 end }))
    assert(reply.content ~= "")
    return events
  end

  local t0 = sse.now()
  local alone_events = converse(chats[1])
  local alone = sse.now() - t0

  local tasks = {}
  for i = 1, n do tasks[i] = function() return converse(chats[i]) end end
  local rss0 = common.rss_kb()
  t0 = sse.now()
  local results = client:gather(tasks)
  local together = sse.now() - t0
  local events = 0
  for i = 1, n do
    assert(results[i][1] == alone_events, ("stream %d got %s events, expected %d"):format(i, tostring(results[i][1]), alone_events))
    events = events + results[i][1]
  end
  print(("streams: %d concurrent, %d events each (chunk delay %d ms)"):format(n, alone_events, delay))
  print(("  one stream alone (peer)   %8.3f s"):format(alone))
  print(("  %3d streams via gather    %8.3f s   %.0f events/s"):format(n, together, events / together))
  print(("  ratio together/alone      %8.2f   (1.0 = keeps up perfectly; target <= 2)"):format(together / alone))
  print(("  RSS before %d KiB, peak %d KiB"):format(rss0, common.peak_rss_kb()))
  client:close()
end)
server:stop()
if not ok then error(err, 0) end
