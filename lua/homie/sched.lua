-- Waiting without blocking: every wait in homie goes through `wait`. Inside
-- `gather` it yields to the scheduler, which drives the one curl multi for
-- all tasks; outside, it drives the multi itself until its condition holds.
local core = require "homie.core"

local M = {}

local WAIT = {}                                   -- yield marker
local tasks = setmetatable({}, { __mode = "k" })  -- coroutine -> true inside gather

local SLICE = 0.25  -- longest single poll, so deadlines are checked often

-- Returns true once pred() holds, false if the deadline (monotonic seconds) passed first.
function M.wait(multi, pred, deadline)
  local co = coroutine.running()
  if co and tasks[co] then return coroutine.yield(WAIT, pred, deadline) end
  while not pred() do
    local now = core.now()
    if deadline and now >= deadline then return false end
    multi:step(deadline and math.min(deadline - now, SLICE) or SLICE)
  end
  return true
end

function M.sleep(multi, seconds)
  if seconds <= 0 then return end
  local deadline = core.now() + seconds
  M.wait(multi, function() return core.now() >= deadline end, deadline)
end

-- Runs each function of `fns` in its own coroutine; returns an array whose
-- element i is table.pack(fns[i]()). A task that raises makes gather raise.
function M.gather(multi, fns)
  local results, waiting, live = {}, {}, 0
  local function run(i, co, ...)
    local r = table.pack(coroutine.resume(co, ...))
    if not r[1] then
      error(("homie: gather task %d failed: %s"):format(i, tostring(r[2])), 0)
    end
    if coroutine.status(co) == "dead" then
      results[i] = table.pack(table.unpack(r, 2, r.n))
      waiting[i], live = nil, live - 1
    elseif r[2] ~= WAIT then
      error(("homie: gather task %d yielded outside homie"):format(i), 0)
    else
      waiting[i] = { co = co, pred = r[3], deadline = r[4] }
    end
  end
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then error(("homie: gather task %d must be a function"):format(i), 3) end
    local co = coroutine.create(fn)
    tasks[co], live = true, live + 1
    run(i, co)
  end
  while live > 0 do
    local progressed, nearest = false, nil
    for i, w in pairs(waiting) do
      local ok = w.pred()
      if ok or (w.deadline and core.now() >= w.deadline) then
        progressed = true
        run(i, w.co, ok and true or false)
      elseif w.deadline and (not nearest or w.deadline < nearest) then
        nearest = w.deadline
      end
    end
    if not progressed then
      -- Nothing ready: wait for any task's condition. Through M.wait, a
      -- gather inside a gather task yields to the outer scheduler.
      M.wait(multi, function()
        for _, w in pairs(waiting) do
          if w.pred() or (w.deadline and core.now() >= w.deadline) then return true end
        end
        return false
      end, nearest)
    end
  end
  return results
end

return M
