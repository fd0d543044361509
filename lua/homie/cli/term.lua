-- The terminal side of bin/homie: whether a stream is a terminal, colour
-- (only on a terminal, never with NO_COLOR), and text made safe to print.
local M = {}

-- `test -t FD` in a child that inherits our descriptors: plain Lua has no
-- isatty. os.execute returns true (5.2+) or 0 (5.1) on success.
function M.isatty(fd)
  local ok = os.execute("test -t " .. fd)
  return ok == true or ok == 0
end

local CODES = { bold = "1", dim = "2", red = "31", green = "32", yellow = "33",
  blue = "34", magenta = "35", cyan = "36" }

-- A painter for one output: paint("cyan", text) is text wrapped in that
-- colour when `on`, else text unchanged.
function M.painter(on)
  return function(style, text)
    if not on or not CODES[style] then return text end
    return "\27[" .. CODES[style] .. "m" .. text .. "\27[0m"
  end
end

-- Whether to colour file descriptor fd, given the environment.
function M.wants_colour(fd, getenv)
  local no = getenv("NO_COLOR")
  if no ~= nil and no ~= "" then return false end
  if getenv("TERM") == "dumb" then return false end
  return M.isatty(fd)
end

-- Server text with control characters replaced, so a reply cannot move the
-- cursor or change the terminal's state. Keeps newlines and tabs when
-- `multiline`.
function M.clean(s, multiline)
  s = tostring(s == nil and "" or s)
  if multiline then
    return (s:gsub("\r\n", "\n"):gsub("[%z\1-\8\11-\31\127]", "?"))
  end
  return (s:gsub("[\r\n\t]+", " "):gsub("[%z\1-\31\127]", "?"))
end

-- Width in columns of UTF-8 text (one per character; good enough for the
-- names and prices a table shows).
function M.width(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

function M.pad(s, width, right)
  local fill = string.rep(" ", math.max(0, width - M.width(s)))
  return right and (fill .. s) or (s .. fill)
end

-- The terminal's width in columns: COLUMNS when set, else what the
-- controlling terminal says (`stty size`), else nil (not a terminal).
function M.columns(getenv)
  local c = tonumber(getenv("COLUMNS") or "")
  if c and c >= 20 then return math.floor(c) end
  local p = io.popen("stty size </dev/tty 2>/dev/null")
  local size = p and p:read("*l")
  if p then p:close() end
  c = size and tonumber(size:match("^%d+ (%d+)$"))
  return (c and c >= 20) and c or nil
end

local function stty(settings)
  local ok = os.execute("stty " .. settings .. " 2>/dev/null")
  return ok == true or ok == 0
end

-- The terminal's (stdin's) settings, to give to restore; nil when stdin is
-- no terminal.
function M.saved_mode()
  local p = io.popen("stty -g 2>/dev/null")
  local saved = p and p:read("*l")
  if p then p:close() end
  return saved and saved:match("^[%w:]+$") and saved or nil
end

function M.restore(saved)
  if saved then stty(saved) end
end

-- While an answer streams, the terminal sends keys as bytes instead of
-- signals (stty -isig), unechoed and without waiting for Enter, and a read
-- returns at once when nothing was typed (min 0 time 0). Why not a signal
-- handler: plain Lua has none of its own; the standalone interpreter's
-- SIGINT handler raises "interrupted!" once and then restores the default
-- action, so a second Ctrl-C in the session would kill the process, and
-- Debian's luaposix is not built for Lua 5.4. A byte read between events
-- cancels any number of answers. Returns a guard: guard:interrupted() is
-- true once Ctrl-C was typed; guard:restore() puts the terminal back.
function M.keys_as_bytes(stdin)
  local saved = M.saved_mode()
  if not saved then return nil end
  if not stty("-isig -icanon -echo min 0 time 0") then return nil end
  stdin:setvbuf("no")  -- bytes stay in the terminal's queue, not in stdio's
  local guard = { hit = false }
  function guard:interrupted()
    if self.hit then return true end
    local typed = stdin:read(64)  -- nil at once when nothing was typed
    if typed and typed:find("\3", 1, true) then self.hit = true end
    return self.hit
  end
  function guard.restore()
    M.restore(saved)
    saved = nil
  end
  return guard
end

return M
