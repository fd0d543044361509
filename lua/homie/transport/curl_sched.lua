-- The curl transport's waiting: every wait of a curl client goes through
-- `wait`. Inside
-- `gather` it yields to the scheduler, which drives the curl multi handles
-- of all its tasks at once; outside, it drives its own multi until its
-- condition holds.
local now = require("homie.sse").now

local M = {}

-- Lua 5.1 / LuaJIT have neither table.pack nor table.unpack.
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack

local WAIT = {}                                   -- yield marker
local tasks = setmetatable({}, { __mode = "k" })  -- coroutine -> true inside gather

local SLICE = 0.25   -- longest single poll, so deadlines are checked often
local SHARED = 0.005 -- per-multi poll when tasks use several clients

-- Drives every multi in the set once, waiting at most t seconds in all.
local function step(multis, t)
  local only, count = nil, 0
  for m in pairs(multis) do only, count = m, count + 1 end
  if count == 1 then
    only:step(t)
  else
    for m in pairs(multis) do m:step(math.min(t, SHARED)) end
  end
end

-- Blocks (or yields, inside gather) until pred() holds or the deadline
-- (monotonic seconds) passes; `multis` is a set of the multis to drive.
local function wait_on(multis, pred, deadline)
  local co = coroutine.running()
  if co and tasks[co] then return coroutine.yield(WAIT, pred, deadline, multis) end
  while not pred() do
    local now = now()
    if deadline and now >= deadline then return false end
    step(multis, deadline and math.min(deadline - now, SLICE) or SLICE)
  end
  return true
end

-- Returns true once pred() holds, false if the deadline passed first.
function M.wait(multi, pred, deadline)
  return wait_on({ [multi] = true }, pred, deadline)
end

function M.sleep(multi, seconds)
  if seconds <= 0 then return end
  local deadline = now() + seconds
  M.wait(multi, function() return now() >= deadline end, deadline)
end

-- Runs each function of `fns` in its own coroutine; returns an array whose
-- element i is table.pack(fns[i]()). A task that raises makes gather raise.
-- Tasks may use other clients too: their multis are driven as well.
function M.gather(multi, fns)
  local results, waiting, live = {}, {}, 0
  local function run(i, co, ...)
    local r = pack(coroutine.resume(co, ...))
    if not r[1] then
      error(("homie: gather task %d failed: %s"):format(i, tostring(r[2])), 0)
    end
    if coroutine.status(co) == "dead" then
      results[i] = pack(unpack(r, 2, r.n))
      waiting[i], live = nil, live - 1
    elseif r[2] ~= WAIT then
      error(("homie: gather task %d yielded outside homie"):format(i), 0)
    else
      waiting[i] = { co = co, pred = r[3], deadline = r[4], multis = r[5] }
    end
  end
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then error(("homie: gather task %d must be a function"):format(i), 3) end
    local co = coroutine.create(fn)
    tasks[co], live = true, live + 1
    run(i, co)
  end
  local function any_ready()
    for _, w in pairs(waiting) do
      if w.pred() or (w.deadline and now() >= w.deadline) then return true end
    end
    return false
  end
  while live > 0 do
    local progressed, nearest = false, nil
    for i, w in pairs(waiting) do
      local ok = w.pred()
      if ok or (w.deadline and now() >= w.deadline) then
        progressed = true
        run(i, w.co, ok and true or false)
      elseif w.deadline and (not nearest or w.deadline < nearest) then
        nearest = w.deadline
      end
    end
    if not progressed then
      -- Nothing ready: wait for any task's condition, driving every multi
      -- the tasks wait on. Inside another gather's task this yields to it.
      local multis = { [multi] = true }
      for _, w in pairs(waiting) do
        for m in pairs(w.multis) do multis[m] = true end
      end
      wait_on(multis, any_ready, nearest)
    end
  end
  return results
end

return M
