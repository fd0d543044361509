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

return M
