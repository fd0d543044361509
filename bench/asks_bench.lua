-- Concurrent conversations: N chat:ask calls at once through one gather,
-- against paced replies (bench/asks_upstream.lua, or the emulator); peer:
-- one conversation alone, in the same process, in the same round. Run once
-- per N, in its own process, so the peak RSS is this workload's. Prints its
-- rows (bench/row.lua).
-- With SERVER_PID (the upstream's nginx master) the note gives the CPU its
-- workers used per round beside the client's: which side was the limit.
-- UPSTREAM names it in the note ("bench": bench/asks_upstream.lua, or
-- "emulator").
-- usage: lua5.4 bench/asks_bench.lua BASE_URL API_KEY N [ROUNDS [SERVER_PID [UPSTREAM]]]
local common = require "bench.common"
local row = require "bench.row"
local homie = require "homie"
local now = require("homie.sse").now
local base, key, n, rounds, server_pid = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4] or 3), tonumber(arg[5])
local upstream = arg[6] or "emulator"
assert(base and key and n and rounds, "usage: asks_bench.lua BASE_URL API_KEY N [ROUNDS]")

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

-- CPU seconds (user + system) of a process so far ("self": this one).
local function cpu(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  local fields = {}
  for w in s:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- utime, stime (after the comm field)
end
-- The upstream's CPU: its nginx workers (the master's children).
local function server_cpu()
  if not server_pid then return 0 end
  local total = 0
  local p = assert(io.popen("ps -o pid= --ppid " .. server_pid))
  for pid in p:read("a"):gmatch("%d+") do total = total + cpu(pid) end
  p:close()
  return total
end

-- The floor (bench/asks_loop.c, built by `make bench-build`): the same
-- transfers for the same chats from libcurl in C, no Lua; run in each
-- round after homie's, so both see the same machine.
local LOOP = "bench/build/asks_loop"
local ids_file = os.tmpname()
do
  local f = assert(io.open(ids_file, "w"))
  for i = 1, n do f:write(chats[i].id, "\n") end
  f:close()
end
local has_loop = io.open(LOOP) ~= nil
local function c_loop()
  local out = common.sh(("%s %s %s %s %d"):format(LOOP, common.q(base), common.q(key), common.q(ids_file), n))
  local wall, c, peak = (out or ""):match("wall=(%S+) cpu=(%S+) peak_kb=(%d+)")
  if not wall then io.stderr:write("asks_bench: ", LOOP, " failed: ", tostring(out), "\n") end
  return tonumber(wall), tonumber(c), tonumber(peak)
end

assert(converse(chats[1])) -- warm: modules, connections
collectgarbage()
local rss0 = common.rss_kb()
local alone, together, client_cpu, emu_cpu, failed, why = {}, {}, {}, {}, 0, nil
local c_wall, c_cpu, c_emu, c_peak = {}, {}, {}, 0
local tasks = {}
for i = 1, n do tasks[i] = function() return converse(chats[i]) end end
for r = 1, rounds do
  local t0 = now()
  assert(converse(chats[r]))
  alone[r] = now() - t0
  local c0, s0 = cpu("self"), server_cpu()
  t0 = now()
  local results = client:gather(tasks)
  together[r] = now() - t0
  client_cpu[r], emu_cpu[r] = cpu("self") - c0, server_cpu() - s0
  for i = 1, n do
    if not results[i][1] then failed, why = failed + 1, why or tostring(results[i][2]) end
  end
  if has_loop then
    s0 = server_cpu()
    local w, c, p = c_loop()
    has_loop = w ~= nil
    c_wall[r], c_cpu[r], c_emu[r], c_peak = w, c, server_cpu() - s0, math.max(c_peak, p or 0)
  end
end
os.remove(ids_file)
if why then io.stderr:write("asks_bench: first failure: ", why, "\n") end
local peak = common.peak_rss_kb()
row{ name = ("%d concurrent asks via gather"):format(n), unit = "s", rounds = together, peer = "one ask alone",
  peer_rounds = alone, better = "lower", target = 2,
  note = ("CPU per round: client %.2f s, %s %s%s"):format(row.median(client_cpu), upstream,
    server_pid and ("%.2f s"):format(row.median(emu_cpu)) or "not measured",
    failed > 0 and (", %d asks failed"):format(failed) or "") }
if has_loop then
  row{ name = ("  %d asks, raw libcurl C loop"):format(n), unit = "s", rounds = c_wall,
    peer = "one ask alone", peer_rounds = alone, better = "lower",
    note = ("the floor: CPU per round: C client %.2f s, %s %.2f s; peak RSS %.1f MB"):format(row.median(c_cpu),
      upstream, row.median(c_emu), c_peak / 1024) }
  row{ name = ("%d concurrent asks via gather"):format(n), unit = "s", rounds = together,
    peer = "raw libcurl C loop, same asks", peer_rounds = c_wall, better = "lower" }
end
row{ name = ("  peak RSS, %d asks"):format(n), unit = "MB", rounds = { peak / 1024 }, better = "lower", target = 64,
  note = ("%.1f KB per ask above the start"):format((peak - rss0) / n) }
print(("alone=%.4f together=%.4f failed=%d rss0_kb=%d peak_kb=%d"):format(row.median(alone), row.median(together),
  failed, rss0, peak))
client:close()
