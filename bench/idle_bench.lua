-- Idle streams: IDLE event streams held open (silent, on the benchmark's
-- nginx) while ACTIVE conversations run against the emulator, all in one
-- gather; peer: the same ACTIVE conversations alone, in the same process.
-- Each figure is the median of 3 rounds. Prints
-- "alone=S with_idle=S idle=N per_stream_kb=K".
-- usage: lua5.4 bench/idle_bench.lua EMULATOR_URL API_KEY IDLE_URL IDLE ACTIVE
local common = require "bench.common"
local homie = require "homie"
local now = require("homie.sse").now
local emu, key, idle_url, n_idle, n_active = arg[1], arg[2], arg[3], tonumber(arg[4]), tonumber(arg[5])
assert(emu and key and idle_url and n_idle and n_active,
  "usage: idle_bench.lua EMULATOR_URL API_KEY IDLE_URL IDLE ACTIVE")
local LIMIT = 120 -- seconds: no phase may take longer

local active = homie.new{ api_key = key, base_url = emu }
local idle = homie.new{ api_key = key, base_url = idle_url }
local chats = {}
for i = 1, n_active do chats[i] = assert(active:create_chat{ chatbotId = common.BOT }) end

local function median(t) table.sort(t); return t[(#t + 1) // 2] end

-- The active conversations once, through a gather; their time.
local function conversations()
  local tasks = {}
  for i = 1, n_active do
    tasks[i] = function()
      return assert(chats[i]:ask("Does the blue hoodie come in size L?", { currentUrl = common.PAGE, timeout = 30 }))
    end
  end
  local t0 = now()
  active:gather(tasks)
  return now() - t0
end

local alone = {}
for r = 1, 3 do alone[r] = conversations() end

collectgarbage(); collectgarbage()
local rss0 = common.rss_kb()
local with_idle, rss1 = {}, nil
local results = idle:gather(common.idle_tasks(idle, idle_url, n_idle, LIMIT, function()
  collectgarbage(); collectgarbage()
  rss1 = common.rss_kb()
  for r = 1, 3 do with_idle[r] = conversations() end
end))
common.check_released(results, n_idle)
print(("alone=%.4f with_idle=%.4f idle=%d per_stream_kb=%.2f"):format(median(alone), median(with_idle), n_idle,
  (rss1 - rss0) / n_idle))
active:close()
idle:close()
