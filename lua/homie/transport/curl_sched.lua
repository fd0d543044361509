-- The curl transport's waiting: every wait of a curl client goes through
-- `wait`. Outside `gather` it drives its own multi until its condition
-- holds. Inside, it yields to the scheduler of the outermost gather, which
-- drives the multis of all its tasks at once.
--
-- Wake-ups are proportional to what happened: a wait names the transfer it
-- waits on, homie.curl reports which transfers progressed in each step (its
-- ready list), and only their waiters look at their condition. Deadlines
-- are kept in a heap, so the nearest is found without a scan. A gather
-- inside a task (ask does one) adds its tasks to the same scheduler, so
-- nesting costs nothing extra.
local curl = require "homie.curl"
local now = require("homie.sse").now
local util = require "homie.util"

local M = {}

local pack, unpack = util.pack, util.unpack

local WAIT, JOIN = {}, {}                          -- yield markers
local task_of = setmetatable({}, { __mode = "k" }) -- coroutine -> its task

-- The live task the running coroutine belongs to: its own, or (Lua 5.1)
-- that of the coroutine a util.pcall runs inside; nil outside a gather or
-- in a task already stopped (its caller then drives the multi itself).
local function running_task()
  local co = coroutine.running()
  while co do
    local task = task_of[co]
    if task then return not task.dead and task or nil end
    co = util.outer_of[co]
  end
end

local SLICE = 0.25 -- longest single wait, a safety net for a missed wake-up

-- Deadline heap: parallel arrays (deadline, task, the task's wait number),
-- so a push allocates nothing. A task that woke early leaves its entry
-- behind; the number no longer matches and the entry is skipped.
local function heap_push(S, at, task)
  local n = S.hn + 1
  S.hn = n
  local hat, htask, hgen = S.hat, S.htask, S.hgen
  while n > 1 do
    local p = math.floor(n / 2)
    if hat[p] <= at then break end
    hat[n], htask[n], hgen[n] = hat[p], htask[p], hgen[p]
    n = p
  end
  hat[n], htask[n], hgen[n] = at, task, task.gen
end

local function heap_pop(S)
  local hat, htask, hgen = S.hat, S.htask, S.hgen
  local n = S.hn
  local at, task, gen = hat[n], htask[n], hgen[n]
  hat[n], htask[n], hgen[n] = nil, nil, nil
  n = n - 1
  S.hn = n
  if n == 0 then return end
  local i = 1
  while true do
    local c = 2 * i
    if c > n then break end
    if c < n and hat[c + 1] < hat[c] then c = c + 1 end
    if at <= hat[c] then break end
    hat[i], htask[i], hgen[i] = hat[c], htask[c], hgen[c]
    i = c
  end
  hat[i], htask[i], hgen[i] = at, task, gen
end

-- The nearest live deadline, dropping entries of tasks that woke already.
local function heap_top(S)
  while S.hn > 0 do
    local task = S.htask[1]
    if not task.dead and task.multi and task.gen == S.hgen[1] then return S.hat[1], task end
    heap_pop(S)
  end
end

-- A task stops waiting: forget its transfer and its multi.
local function unregister(S, task)
  task.gen = task.gen + 1
  local m = task.multi
  if task.id then S.by_id[m][task.id] = nil end
  local c = S.multis[m] - 1
  if c == 0 then
    S.multis[m] = nil
    S.nmultis = S.nmultis - 1
  else
    S.multis[m] = c
  end
  task.multi, task.id, task.pred, task.r = nil, nil, nil, nil
end

local function wake(S, task, value)
  if task.multi then unregister(S, task) end
  local n = S.rn + 1
  S.rn, S.rtask[n], S.rval[n] = n, task, value
end

local fail

-- A group ends: its gather call (the parent task) resumes, or the loop ends.
local function group_over(S, group)
  group.over = true
  if group.parent then wake(S, group.parent, group) end
end

-- Ends every task of `group` still running, and their nested groups.
local function kill(S, group)
  for _, task in ipairs(group.tasks) do
    if not task.dead then
      if task.multi then unregister(S, task) end
      task.dead = true
      if task.child then kill(S, task.child) end
    end
  end
end

-- A task raised (or yielded what no homie wait yields): its gather raises.
function fail(S, task, msg, how)
  local group = task.group
  task.dead = true
  if group.over then return end
  group.err = ("homie: gather task %d %s"):format(task.index, how or ("failed: " .. tostring(msg)))
  kill(S, group)
  group_over(S, group)
end

-- Files what a task's resume returned: its results, a wait, a join.
local function filed(S, task, ok, ...)
  if not ok then return fail(S, task, (...)) end
  if coroutine.status(task.co) == "dead" then
    task.dead = true
    local group = task.group
    group.results[task.index] = pack(...)
    group.live = group.live - 1
    if group.live == 0 and not group.over then group_over(S, group) end
    return
  end
  local what, m, r, pred, deadline = ...
  if what == WAIT then
    local id = r and r:id()
    task.multi, task.id, task.pred, task.r = m, id, pred, r
    if id then
      local ids = S.by_id[m]
      if not ids then ids = {}; S.by_id[m] = ids end
      ids[id] = task
    end
    local c = S.multis[m]
    if not c then S.nmultis = S.nmultis + 1 end
    S.multis[m] = (c or 0) + 1
    if deadline then heap_push(S, deadline, task) end
  elseif what ~= JOIN then
    fail(S, task, nil, "yielded outside homie")
  end
end

local function new_group(S, parent, fns)
  local group = { tasks = {}, results = {}, live = #fns, parent = parent, S = S }
  for i, fn in ipairs(fns) do
    local co = coroutine.create(fn)
    -- A task waits on `multi` (nil: it does not wait), for transfer `r`
    -- (number `id`) to make pred(r) hold; `gen` counts its waits. Eight
    -- fields, so a thousand idle tasks take 8 hash slots each, not 16:
    -- what the scheduler as a whole needs is on the group (S) or queued
    -- (a new task is queued with no value: see run).
    local task = { co = co, group = group, index = i, gen = 0, multi = nil, id = nil, pred = nil, r = nil }
    group.tasks[i] = task
    task_of[co] = task
    local n = S.rn + 1
    S.rn, S.rtask[n], S.rval[n] = n, task, nil
  end
  group.over = group.live == 0
  return group
end

-- Looks at the waiters of the transfers `m` reported ready.
local function wake_ready(S, m, count)
  local ids, ready = S.by_id[m], S.ready
  for i = 1, count do
    local task = ids and ids[ready[i]]
    if task and task.pred(task.r) then wake(S, task, true) end
  end
end

-- Waits for the next thing to happen (a transfer's progress, a deadline)
-- and wakes the tasks it concerns.
local function poll(S)
  local at = heap_top(S)
  local t = now()
  local wait = SLICE
  if at then wait = math.min(wait, math.max(0, at - t)) end
  if S.nmultis == 0 and not at then
    error("homie: gather has no task left that can wake", 0) -- a bug, not a hang
  end
  if S.nmultis == 1 then
    local m = next(S.multis)
    local _, count = m:step(wait, S.ready)
    wake_ready(S, m, count)
  elseif S.nmultis > 1 then
    local list = {}
    for m in pairs(S.multis) do list[#list + 1] = m end
    curl.wait(list, wait)
    for _, m in ipairs(list) do
      local _, count = m:step(0, S.ready)
      wake_ready(S, m, count)
    end
  end
  t = now()
  local task
  at, task = heap_top(S)
  while at and at <= t do
    heap_pop(S)
    wake(S, task, task.pred(task.r) and true or false)
    at, task = heap_top(S)
  end
end

local function run(S, root)
  while not root.over do
    if S.rn > 0 then
      -- Tasks run in the order they became ready; new ones may join the queue.
      local rtask, rval, i = S.rtask, S.rval, 1
      while i <= S.rn do
        local task, v = rtask[i], rval[i]
        rtask[i], rval[i] = nil, nil
        if not task.dead then
          -- Only a new task is queued with no value: a wait wakes with a
          -- boolean, a join with its group.
          if v == nil then
            filed(S, task, coroutine.resume(task.co))
          else
            filed(S, task, coroutine.resume(task.co, v))
          end
        end
        i = i + 1
      end
      S.rn = 0
    else
      poll(S)
    end
  end
end

-- Blocks (or yields, inside gather) until pred() holds or the deadline
-- (monotonic seconds) passes; `r` is the transfer whose progress can make
-- pred(r) hold (nil: only time can, as for a sleep). pred takes r, so the
-- callers pass plain functions, not a closure per wait.
function M.wait(multi, r, pred, deadline)
  if pred(r) then return true end
  local task = running_task()
  if task then return coroutine.yield(WAIT, multi, r, pred, deadline) end
  -- At least one step, even with the deadline already here: a poll with
  -- no time left (next_event(0)) still moves the transfers along.
  while true do
    local left = deadline and deadline - now()
    multi:step(left and math.max(0, math.min(left, SLICE)) or SLICE)
    if pred(r) then return true end
    if deadline and now() >= deadline then return false end
  end
end

local function never() return false end

function M.sleep(multi, seconds)
  if seconds <= 0 then return end
  M.wait(multi, nil, never, now() + seconds)
end

-- Runs each function of `fns` in its own coroutine; returns an array whose
-- element i is table.pack(fns[i]()). A task that raises makes gather raise.
-- Tasks may use other clients too: their multis are driven as well.
function M.gather(_, fns)
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then error(("homie: gather task %d must be a function"):format(i), 3) end
  end
  local parent = running_task()
  if parent then
    -- Inside a task: the same scheduler runs these; this task waits for them.
    local group = new_group(parent.group.S, parent, fns)
    parent.child = group
    if not group.over then coroutine.yield(JOIN) end
    parent.child = nil
    if group.err then error(group.err, 0) end
    return group.results
  end
  local S = {
    by_id = {}, multis = {}, nmultis = 0, ready = {},
    hat = {}, htask = {}, hgen = {}, hn = 0,
    rtask = {}, rval = {}, rn = 0,
  }
  local root = new_group(S, nil, fns)
  run(S, root)
  if root.err then error(root.err, 0) end
  return root.results
end

-- Runs `main` in the calling coroutine and `side` beside it, as a task of
-- the same scheduler; returns main's results once both ended. Inside a
-- gather this saves a coroutine (ask runs its send and its stream read
-- this way: a thousand asks hold a thousand fewer suspended stacks).
-- A `side` that raises ends at once; its error is raised once `main`
-- ended, so a send in flight is never dropped halfway. Outside a gather it
-- is gather of the two.
function M.beside(multi, main, side)
  local parent = running_task()
  if not parent then
    local r = M.gather(multi, { main, side })
    return unpack(r[1], 1, r[1].n)
  end
  -- No parent yet: while main runs here, the group's end must not wake
  -- this coroutine out of main's own waits. Once main ended it joins.
  local group = new_group(parent.group.S, nil, { side })
  group.tasks[1].index = 2  -- its errors name it as gather{main, side} would
  parent.child = group
  local r = pack(util.pcall(main))
  if not r[1] then
    kill(parent.group.S, group)
    parent.child = nil
    error(r[2], 0)
  end
  if not group.over then
    group.parent = parent
    coroutine.yield(JOIN)
  end
  parent.child = nil
  if group.err then error(group.err, 0) end
  return unpack(r, 2, r.n)
end

return M
