-- Argument checks (programming errors raise, naming the argument), JSON and
-- URL helpers shared by the Lua layer.
local cjson = require "cjson"

local M = {}

-- Our own cjson instance: settings here never leak into the user's cjson.
local json = cjson.new()
json.decode_max_depth(200)

-- The library's own source prefix ("@./lua/homie/", "@/usr/share/lua/5.4/homie/"):
-- frames from files under it are ours.
local OURS = debug.getinfo(1, "S").source:match("^(.*[/\\])[^/\\]+$") or "@"

-- A programming error, raised at the first caller outside homie: whatever
-- path a check takes inside the library (helpers, wrappers, tail calls),
-- the message names the user's own file and line. C frames (pcall, a
-- metamethod) and Lua 5.1's tail-call frames are passed over too. `level` is accepted and ignored: older
-- call sites counted frames by hand, which is what drifted.
function M.fail(msg, level) -- luacheck: ignore 212 (level: see above)
  local lvl = 2
  while true do
    local info = debug.getinfo(lvl, "S")  -- error's level L is getinfo's L here
    if not info then lvl = 1; break end
    -- Lua 5.1 shows a tail call as a frame of its own ("tail"): not the user's.
    if info.what ~= "C" and info.what ~= "tail" and info.source:sub(1, #OURS) ~= OURS then break end
    lvl = lvl + 1
  end
  error("homie: " .. msg, lvl)
end

-- pcall that a wait inside may yield across. PUC Lua 5.1 cannot yield
-- through pcall ("attempt to yield across metamethod/C-call boundary"), so
-- there fn runs in a coroutine of its own whose yields are passed up and
-- whose resumes are passed down; `outer_of` lets a scheduler find the task
-- a wait runs in (homie.transport.curl_sched). Elsewhere it is pcall.
local yields_across_pcall = _VERSION ~= "Lua 5.1" or type(rawget(_G, "jit")) == "table"
local outer_of = setmetatable({}, { __mode = "k" })
M.outer_of = outer_of
-- table.pack and table.unpack, which Lua 5.1 and LuaJIT lack.
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack
M.pack, M.unpack = pack, unpack

local function relay(co, r)
  while true do
    if not r[1] or coroutine.status(co) == "dead" then return unpack(r, 1, r.n) end
    r = pack(coroutine.resume(co, coroutine.yield(unpack(r, 2, r.n))))
  end
end

function M.pcall(fn, ...)
  local outer = not yields_across_pcall and coroutine.running()
  if not outer then return pcall(fn, ...) end
  -- 5.1's coroutine.create takes only Lua functions: pcall(error, ...) too.
  local co = coroutine.create(function(...) return fn(...) end)
  outer_of[co] = outer
  return relay(co, pack(coroutine.resume(co, ...)))
end

function M.check_type(name, v, want, level)
  if type(v) ~= want then
    M.fail(("%s must be a %s, got %s"):format(name, want, type(v)), (level or 1) + 1)
  end
  return v
end

-- Edit distance between two strings (bytes): insertions, deletions,
-- substitutions and swaps of two neighbours each count one, since a swap
-- ("timeuot") is the commonest typo. Three rows at a time.
function M.edit_distance(a, b)
  local before, prev, cur = {}, {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    local ca = a:byte(i)
    for j = 1, #b do
      local cb = b:byte(j)
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + ((ca == cb) and 0 or 1))
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then
        d = math.min(d, before[j - 2] + 1)
      end
      cur[j] = d
    end
    before, prev, cur = prev, cur, before
  end
  return prev[#b]
end

-- The allowed name closest to name, when close enough to be a typo: at most
-- a third of the name's length (at least 1) edits away. Ties go to the
-- alphabetically first, so the hint is the same on every run.
function M.nearest(name, allowed)
  local best, best_d
  local limit = math.max(1, math.floor(#name / 3))
  for k in pairs(allowed) do
    if type(k) == "string" then
      local d = M.edit_distance(name, k)
      if d <= limit and (not best_d or d < best_d or (d == best_d and k < best)) then
        best, best_d = k, d
      end
    end
  end
  return best
end

-- A span of seconds, a count or a size: a number, not negative, not
-- infinite, not NaN (which fails every comparison).
function M.check_span(name, v, level)
  M.check_type(name, v, "number", (level or 1) + 1)
  if not (v >= 0 and v < math.huge) then
    M.fail(name .. " must be a non-negative finite number", (level or 1) + 1)
  end
  return v
end

-- Unknown option names are programming errors: a typo must not pass silently.
function M.check_opts(where, opts, allowed, level)
  if opts == nil then return {} end
  M.check_type(where .. " options", opts, "table", (level or 1) + 1)
  for k in pairs(opts) do
    if not allowed[k] then
      local msg = ("unknown option '%s' for %s"):format(tostring(k), where)
      local near = type(k) == "string" and M.nearest(k, allowed)
      if near then msg = msg .. ("; did you mean '%s'?"):format(near) end
      M.fail(msg, (level or 1) + 1)
    end
  end
  return opts
end

local ID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
function M.check_id(name, v, level)
  M.check_type(name, v, "string", (level or 1) + 1)
  if not v:match(ID) then
    M.fail(("%s must be an id of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex), got %q")
      :format(name, v:sub(1, 60)), (level or 1) + 1)
  end
  return v
end

-- True when s is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
function M.is_utf8(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    if c < 0x80 then
      i = i + 1
    else
      local len, min
      if c >= 0xC2 and c <= 0xDF then len, min = 2, 0x80
      elseif c >= 0xE0 and c <= 0xEF then len, min = 3, 0x800
      elseif c >= 0xF0 and c <= 0xF4 then len, min = 4, 0x10000
      else return false end
      if i + len - 1 > n then return false end
      local cp = c % (2 ^ (7 - len))
      for j = i + 1, i + len - 1 do
        local b = s:byte(j)
        if b < 0x80 or b > 0xBF then return false end
        cp = cp * 64 + (b - 0x80)
      end
      if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return false end
      i = i + len
    end
  end
  return true
end

function M.check_text(name, v, level)
  M.check_type(name, v, "string", (level or 1) + 1)
  if not M.is_utf8(v) then M.fail(name .. " must be valid UTF-8", (level or 1) + 1) end
  return v
end

-- CR, LF or NUL in a header would let a value forge other headers.
function M.check_header_value(name, v, level)
  M.check_type(name, v, "string", (level or 1) + 1)
  if v:find("[\r\n]") or v:find("\0", 1, true) then
    M.fail(name .. " must not contain CR, LF or NUL", (level or 1) + 1)
  end
  return v
end

function M.urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- "?a=1&b=2" from an array of {name, value} pairs, skipping nil values.
function M.query(pairs_list)
  local parts = {}
  for _, kv in ipairs(pairs_list) do
    if kv[2] ~= nil then parts[#parts + 1] = M.urlencode(kv[1]) .. "=" .. M.urlencode(kv[2]) end
  end
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

-- JSON to Lua: lua-cjson parses; then JSON null becomes nil (absent and
-- null read the same way in Lua) and on Lua 5.3+ whole numbers below 2^53
-- become integers (cjson decodes every number as a float, so a quantity
-- would print as "12.0"). That walk is in C (csrc/ljson.c): in Lua it cost
-- as much as the request. Returns the value, or nil and why (a top-level
-- null is "JSON null").
local normalize = require("homie.sse").json_normalize
local null = json.null
function M.decode(s)
  local ok, v = pcall(json.decode, s)
  if not ok then return nil, tostring(v) end
  if type(v) == "table" then return normalize(v, null) end
  if v == null then return nil, "JSON null" end
  if math.tointeger and type(v) == "number" then  -- a bare number: as inside a table
    local i = math.tointeger(v)
    if i and i > -2 ^ 53 and i < 2 ^ 53 then return i end
  end
  return v
end

-- Seconds since the epoch of a UTC date and time, from the proleptic
-- Gregorian calendar (Howard Hinnant's days_from_civil): no os.time, so no
-- local time zone gets in the way.
local floor = math.floor  -- not //: Lua 5.1 and LuaJIT lack it
function M.utc_seconds(y, m, d, h, mi, s)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  local days = era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
  return days * 86400 + h * 3600 + mi * 60 + s
end

-- Wraps every public method of `class` (names not starting with "_") so
-- that a call with a dot instead of a colon (`chat.send("hi")`, whose
-- `self` is then "hi") raises a message that says so. `is_self(v)` tells
-- a real instance; `only` (optional) lists the methods to guard.
function M.guard_methods(class, noun, is_self, only)
  local names = {}
  if only then
    for _, n in ipairs(only) do names[n] = true end
  else
    for n in pairs(class) do names[n] = n:sub(1, 1) ~= "_" end
  end
  for name in pairs(names) do
    local fn = class[name]
    if names[name] and type(fn) == "function" then
      class[name] = function(self, ...)
        if not is_self(self) then
          M.fail(("call %s:%s(...) with a colon, not %s.%s(...)"):format(noun, name, noun, name))
        end
        return fn(self, ...)
      end
    end
  end
end

-- The earlier of two optional deadlines (nil: none).
function M.earliest(a, b)
  if a and b then return math.min(a, b) end
  return a or b
end

function M.encode(v) return json.encode(v) end

return M
