-- Test helper: runs a command in a real pseudo-terminal (a detached tmux
-- session on a private socket) and reads its screen. Every wait has a
-- deadline.
--   local t = tmux.start(cmd, { width = 120, height = 50 })
--   t:wait_for(pattern[, seconds]) -> screen (or error with the screen)
--   t:screen([escapes]), t:lines(), t:send(keys...), t:text(text), t:type(text), t:exit_status([seconds]), t:stop()
local socket = require "socket"
local mock = require "spec.support.mock"

local M = {}

local shq, read_file = mock.shq, mock.read_file

-- Runs a tmux command; its output, stderr included.
local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  p:close()
  return out
end

local Term = {}
Term.__index = Term

local running = {}  -- terminals not yet stopped, for the exit-time safety net

-- cmd runs under bash in the terminal (dash would die of the Ctrl-C it
-- forwards, bash waits for its child to decide); its exit status lands in a file, and
-- the pane stays until stop() so its last screen can be read.
function M.start(cmd, opts)
  opts = opts or {}
  local dir = run("mktemp -d /tmp/homie-tty-spec.XXXXXX"):gsub("%s+$", "")
  local self = setmetatable({ dir = dir, sock = dir .. "/tmux.sock", status_file = dir .. "/status" }, Term)
  local script = ("%s; echo $? > %s; sleep 600"):format(cmd, shq(self.status_file))
  local out = run(("tmux -S %s -f /dev/null new-session -d -x %d -y %d bash -c %s"):format(
    shq(self.sock), opts.width or 120, opts.height or 50, shq(script)))
  assert(out == "", "tmux did not start: " .. out)
  running[self] = true
  return self
end

function Term:tmux(args) return run("tmux -S " .. shq(self.sock) .. " " .. args) end

-- The whole pane with wrapped lines joined; with escapes=true, colours kept.
function Term:screen(escapes)
  return self:tmux("capture-pane -p -J " .. (escapes and "-e " or "") .. "-S - -t 0")
end

-- The pane's lines as displayed: a line the terminal itself wrapped stays
-- two lines (screen() joins them).
function Term:lines()
  local out = {}
  for line in self:tmux("capture-pane -p -S - -t 0"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

-- Polls the screen until it matches a Lua pattern; returns that screen.
function Term:wait_for(pattern, seconds)
  local deadline = socket.gettime() + (seconds or 15)
  local screen
  repeat
    screen = self:screen()
    if screen:find(pattern) then return screen end
    socket.sleep(0.03)
  until socket.gettime() > deadline
  error(("screen never matched %q within %ss:\n%s"):format(pattern, seconds or 15, screen), 2)
end

-- Keys by tmux name ("Enter", "C-c") or literal text with -l.
function Term:send(...) for _, k in ipairs({ ... }) do self:tmux("send-keys -t 0 " .. shq(k)) end end
function Term:text(text) self:tmux("send-keys -t 0 -l " .. shq(text)) end
function Term:type(text) self:text(text); self:send("Enter") end

-- The command's exit status once it has ended (error at the deadline).
function Term:exit_status(seconds)
  local deadline = socket.gettime() + (seconds or 15)
  repeat
    local s = read_file(self.status_file)
    if s and s:match("%d") then return tonumber(s:match("%d+")) end
    socket.sleep(0.03)
  until socket.gettime() > deadline
  error("the command did not end within " .. (seconds or 15) .. " s:\n" .. self:screen(), 2)
end

function Term:stop()
  if not running[self] then return end
  running[self] = nil
  self:tmux("kill-server")
  os.remove(self.status_file)
  os.remove(self.sock)
  os.remove(self.dir)
end

-- When the Lua state closes, end every terminal a spec forgot to stop.
M._sentinel = setmetatable({}, { __gc = function()
  for t in pairs(running) do pcall(t.stop, t) end
end })

return M
