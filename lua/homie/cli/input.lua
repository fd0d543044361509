-- The shopper's lines for `homie chat`. On a terminal, GNU readline through
-- Debian's lua-readline (module "readline") gives line editing and a
-- history of this session's inputs (nothing is read from or written to a
-- history file); without it, or when input is not a terminal, plain
-- io.read. reader:read(prompt) returns a line, or nil at end of input
-- (Ctrl-D); Ctrl-C raises the interpreter's "interrupted!" (the caller
-- leaves).
local term = require "homie.cli.term"

local M = {}

-- What a line may carry into a message: cursor keys typed without line
-- editing (ESC [ D ...) and other control bytes are dropped.
function M.clean(line)
  line = line:gsub("\27%[[%d;]*[%a~]", ""):gsub("\27O%a", "")
  return (line:gsub("[%z\1-\31\127]", ""))
end

-- readline's alternate interface, fed only when stdin has a byte (luasocket's
-- select on descriptor 0): between keys the interpreter's own SIGINT
-- handler is in force, so Ctrl-C at the prompt leaves at once. (Inside
-- readline() readline's handler would hold it until Enter.)
local function readline_reader(RL, socket, out)
  RL.set_options{ histfile = "", completion = false, minlength = 1, auto_add = false }
  local stdin = { getfd = function() return 0 end, dirty = function() return false end }
  local reader = {}
  function reader.read(_, prompt)
    out:flush()
    local saved = term.saved_mode()
    local line, done
    -- Colours are marked non-printing (\1 \2), so readline counts the
    -- prompt's width right.
    RL.handler_install((prompt:gsub("\27%[[%d;]*m", "\1%0\2")), function(s)
      line, done = s, true
      RL.handler_remove()
    end)
    local ok, err = pcall(function()
      repeat
        local ready = socket.select({ stdin }, nil, 0.1)
        if ready[1] then RL.read_char() end
      until done
    end)
    if not ok then
      -- Ctrl-C with a line half typed: the session ends. Not
      -- RL.handler_remove(): lua-readline 3.2 closes readline's output
      -- stream before readline writes its last bytes to it (a use after
      -- free that crashes). The terminal is put back by hand instead:
      -- its settings, and bracketed paste off.
      term.restore(saved)
      out:write("\27[?2004l\n")
      error(err, 0)
    end
    if line and line:find("%S") then RL.add_history(line) end
    return line and M.clean(line)
  end
  reader.edits = true
  return reader
end

local function plain_reader(stdin, out, echo)
  local reader = {}
  function reader.read(_, prompt)
    out:write(prompt)
    out:flush()
    local line = stdin:read("*l")
    if line and echo then out:write(line, "\n") end  -- a transcript when input is piped
    if not line then out:write("\n") end
    return line and M.clean(line)
  end
  return reader
end

-- ctx: the CLI context (stdin, stdout, stdin_tty, tty).
function M.new(ctx)
  if ctx.stdin_tty and ctx.stdin == io.stdin and ctx.stdout == io.stdout then
    local ok, RL = pcall(require, "readline")
    local ok2, socket = pcall(require, "socket")
    if ok and ok2 and type(RL) == "table" and RL.handler_install then
      return readline_reader(RL, socket, ctx.stdout)
    end
  end
  return plain_reader(ctx.stdin, ctx.stdout, not ctx.stdin_tty)
end

return M
