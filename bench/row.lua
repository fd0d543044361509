-- One benchmark row, the same everywhere (bench/README.md, "Rows"): a
-- bench script calls row{...} to print it, bench/run.lua collects the rows
-- from each script's output, judges them and prints one table.
--
--   local row = require "bench.row"
--   row{ name = "list_messages, keep-alive", unit = "req/s", better = "higher",
--        rounds = { 5972, 6100, 5800 },            -- homie's figure, per round
--        peer = "raw libcurl C loop", peer_rounds = { 21564, 20000, 22000 },
--        target = 0.9 }                            -- with a peer: a ratio
--
-- With `peer_rounds`, each round's ratio (rounds[i] / peer_rounds[i], both
-- measured in the same round) is what is judged and `target` is a ratio;
-- without, the figure itself, `target` in `unit`. The median round is judged:
-- "met" when it is on the `better` side of `target` (or equal). `note` is
-- free text; `failed = "why"` marks a workload that could not run (a miss).
--
-- A target no code can meet here gets its floor measured in the same rounds:
-- `floor = "what it is"`, `floor_rounds = {...}` (the floor's own figures, in
-- `unit`), e.g. the transport plus lua-cjson under list_messages. A missed
-- row is "at floor", not a miss, only when the floor misses the target too
-- and homie's median round is within 10% of the floor's figure; a floor
-- that meets the target, or homie falling away from it, is still MISSED.
local cjson = require "cjson"

local M = {}
local PREFIX = "row\t"

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end
M.median = median

-- The row checked: a wrong field is the bench script's bug, said at once.
function M.check(r)
  assert(type(r) == "table" and type(r.name) == "string", "row: name (a string) is required")
  if r.failed then return r end
  assert(type(r.rounds) == "table" and #r.rounds > 0, "row " .. r.name .. ": rounds (a non-empty list) is required")
  for _, v in ipairs(r.rounds) do assert(type(v) == "number", "row " .. r.name .. ": rounds must be numbers") end
  if r.peer_rounds then
    assert(#r.peer_rounds == #r.rounds, "row " .. r.name .. ": peer_rounds must pair with rounds")
    assert(r.peer, "row " .. r.name .. ": peer_rounds needs peer (its name)")
  end
  if r.floor_rounds then
    assert(#r.floor_rounds == #r.rounds, "row " .. r.name .. ": floor_rounds must pair with rounds")
    assert(type(r.floor) == "string" and r.target ~= nil, "row " .. r.name .. ": floor_rounds needs floor (its name) and target")
  end
  if r.target ~= nil then
    assert(type(r.target) == "number", "row " .. r.name .. ": target must be a number")
    assert(r.better == "higher" or r.better == "lower", "row " .. r.name .. ': better must be "higher" or "lower"')
  end
  return r
end

-- Prints the row for bench/run.lua to collect (one line on stdout).
function M.emit(r)
  io.stdout:write(PREFIX, cjson.encode(M.check(r)), "\n")
  io.stdout:flush()
end
setmetatable(M, { __call = function(_, r) return M.emit(r) end })

-- Every row printed in `out` (a script's stdout).
function M.collect(out)
  local rows = {}
  for line in (out or ""):gmatch("[^\n]+") do
    if line:sub(1, #PREFIX) == PREFIX then rows[#rows + 1] = M.check(cjson.decode(line:sub(#PREFIX + 1))) end
  end
  return rows
end

-- Each round's figure over another's: rounds[i] / by[i].
local function ratios(rounds, by)
  local t = {}
  for i, v in ipairs(rounds) do t[i] = v / by[i] end
  return t
end

-- The judged figures of a row: its ratios with a peer, else its rounds.
local function judged(r, rounds)
  rounds = rounds or r.rounds
  return r.peer_rounds and ratios(rounds, r.peer_rounds) or rounds
end

local NEAR_FLOOR = 0.9 -- "at floor": homie's figure at least 90% of its floor's (the better way round)

local function meets(r, m)
  return (r.better == "higher" and m >= r.target) or (r.better == "lower" and m <= r.target)
end

-- The median round of homie over its floor, the better way up (1 = level).
function M.of_floor(r)
  local m = median(ratios(r.rounds, r.floor_rounds))
  return r.better == "lower" and 1 / m or m
end

-- "met", "at floor", "MISSED" (also a failed workload) or "-" (no target).
function M.result(r)
  if r.failed then return "MISSED" end
  if not r.target then return "-" end
  if meets(r, median(judged(r))) then return "met" end
  if r.floor_rounds and not meets(r, median(judged(r, r.floor_rounds))) and M.of_floor(r) >= NEAR_FLOOR then
    return "at floor"
  end
  return "MISSED"
end

local function num(v)
  if v == nil then return "-" end
  local a = math.abs(v)
  if a >= 100 then return ("%.0f"):format(v) end
  if a >= 10 then return ("%.1f"):format(v) end
  if a >= 1 then return ("%.2f"):format(v) end
  return ("%.3f"):format(v)
end

-- The note cell: with a floor, how near homie is to it.
local function note(r)
  if not r.floor_rounds then return r.note or "" end
  local f = ("floor: %s, %.2fx of it"):format(r.floor, M.of_floor(r))
  return r.note and (r.note .. "; " .. f) or f
end

-- The table's cells of a row.
local HEAD = { "workload", "homie", "peer", "peer figure", "ratio", "spread (rounds)", "better", "target", "result",
  "note" }
local function cells(r)
  local name = r.name .. (r.unit and (" (" .. r.unit .. ")") or "")
  if r.failed then return { name, "failed", r.peer or "-", "-", "-", "-", "-", "-", "MISSED", r.failed } end
  local ratio = r.peer_rounds and median(judged(r))
  local j = judged(r)
  local lo, hi = math.min(table.unpack(j)), math.max(table.unpack(j))
  local x = r.peer_rounds and "x" or ""
  local f = r.peer_rounds and function(v) return ("%.2fx"):format(v) end or num
  local spread = (#j == 1 and f(lo) or (f(lo) .. "-" .. f(hi))) .. (" (%d)"):format(#j)
  local target = r.target and ((r.better == "higher" and ">= " or "<= ") .. ("%g"):format(r.target) .. x) or "-"
  return { name, num(r.value or median(r.rounds)), r.peer or "-",
    r.peer_rounds and num(median(r.peer_rounds)) or "-", ratio and f(ratio) or "-", spread,
    r.better or "-", target, M.result(r), note(r) }
end

-- The table, one string, and how many rows missed.
function M.render(rows)
  local all = { HEAD }
  for i, r in ipairs(rows) do all[i + 1] = cells(r) end
  local w = {}
  for i = 1, #HEAD do
    w[i] = 0
    for _, c in ipairs(all) do w[i] = math.max(w[i], #c[i]) end
  end
  local out, missed = {}, 0
  for k, c in ipairs(all) do
    local t = {}
    for i = 1, #HEAD do
      local right = i == 2 or i == 4 or i == 5
      t[i] = (right and ("%" .. w[i] .. "s") or ("%-" .. w[i] .. "s")):format(c[i])
    end
    out[#out + 1] = (table.concat(t, " | "):gsub("%s+$", ""))
    if k == 1 then
      local sep = {}
      for i = 1, #HEAD do sep[i] = ("-"):rep(w[i]) end
      out[#out + 1] = table.concat(sep, "-|-")
    elseif c[9] == "MISSED" then
      missed = missed + 1
    end
  end
  return table.concat(out, "\n"), missed
end

return M
