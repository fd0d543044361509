-- Hard time limits for specs, so no spec can hang.
--
-- Loaded by busted as its helper (.busted), it gives every `it` a hard
-- limit (HOMIE_SPEC_LIMIT seconds, default 60; x10 under valgrind). A test
-- past its limit fails with a message saying so instead of hanging.
--
-- How: a count hook checks the wall clock every few thousand Lua
-- instructions. Every wait in homie and in the spec helpers runs Lua code
-- between bounded polls, so the hook gets its turn. A Lua hook belongs to
-- one coroutine, so coroutine.create and .wrap are wrapped (at load, before
-- any module keeps a local copy) to hook the tasks gather creates. Once it fires it fires
-- again every few seconds, so a pcall that swallows the first error cannot
-- keep the test alive. scripts/run-busted adds a whole-suite limit on top,
-- for a C call that never returns.
--
-- Inside a spec:
--   local limit = require "spec.support.limit"
--   local ev, err = limit.within(3, function() return stream() end, "a 204 ends the stream")
-- runs fn under a tighter limit and raises "... did not finish within 3 s"
-- (naming what) if it does not.
local socket = require "socket"

local M = {}

local now = socket.gettime
local scale = os.getenv("HOMIE_VALGRIND") and 10 or 1
M.DEFAULT = (tonumber(os.getenv("HOMIE_SPEC_LIMIT") or "") or 60) * scale

local stack = {}     -- active limits: { at = deadline, what = message }
local REFIRE = 2     -- seconds between repeated firings

local function hook()
  if #stack == 0 then
    debug.sethook()  -- a leftover coroutine from an earlier test
    return
  end
  local t = now()
  for i = #stack, 1, -1 do
    local l = stack[i]
    if t >= l.at then
      l.at = t + REFIRE
      error(l.what, 2)
    end
  end
end

local HOOK_COUNT = 5000

local create = coroutine.create
coroutine.create = function(fn)  -- luacheck: ignore 122 (hooks the tasks gather creates)
  local co = create(fn)
  if #stack > 0 then debug.sethook(co, hook, "", HOOK_COUNT) end
  return co
end
coroutine.wrap = function(fn)  -- luacheck: ignore 122
  local co = coroutine.create(fn)
  return function(...)
    local r = table.pack(coroutine.resume(co, ...))
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end
end

local function push(seconds, what)
  local l = { at = now() + seconds * scale, what = what }
  stack[#stack + 1] = l
  debug.sethook(hook, "", HOOK_COUNT)
  return l
end

local function pop(l)
  for i = #stack, 1, -1 do
    if stack[i] == l then table.remove(stack, i) end
  end
end

-- Runs fn(...) with at most `seconds` (scaled under valgrind); returns what
-- it returns, or raises naming `what`.
function M.within(seconds, fn, what)
  local l = push(seconds, ("homie spec limit: %s did not finish within %g s (it would have hung)")
    :format(what or "the call", seconds * scale))
  local r = table.pack(pcall(fn))
  pop(l)
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

-- Busted helper entry (.busted names this module, so specs that require it
-- share its state): arm a limit per test.
local ok, busted = pcall(require, "busted")
if ok and type(busted) == "table" and busted.subscribe then
  local current
  busted.subscribe({ "test", "start" }, function(element)
    stack = {}
    current = push(M.DEFAULT, ("homie spec limit: test %q exceeded its hard limit of %g s "
      .. "(HOMIE_SPEC_LIMIT); it would have hung"):format(element.name or "?", M.DEFAULT))
    return nil, true
  end)
  busted.subscribe({ "test", "end" }, function()
    pop(current)
    stack = {}
    debug.sethook()
    return nil, true
  end)
end

return M
