-- `homie --mock`: the local emulator (bin/homie-mock) for one session, on a
-- free loopback port, stopped when the session ends.
local M = {}

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function file_exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- The launcher: beside a checkout's bin/homie, else on PATH.
local function launcher(root)
  if root and file_exists(root .. "/bin/homie-mock") then return root .. "/bin/homie-mock" end
  local p = io.popen("command -v homie-mock 2>/dev/null")
  local found = p:read("*l")
  p:close()
  return found ~= "" and found or nil
end

-- A port nobody listens on now: the kernel's choice when luasocket is
-- there, else a random high one (start retries on a clash).
local function free_port(attempt)
  local ok, socket = pcall(require, "socket")
  if ok and attempt == 1 then
    local s = socket.bind("127.0.0.1", 0)
    if s then
      local _, port = s:getsockname()
      s:close()
      return tonumber(port)
    end
  end
  math.randomseed(os.time() + attempt * 7919 + math.floor(os.clock() * 1e6))
  return math.random(20000, 60999)
end

local Mock = {}
Mock.__index = Mock

-- Starts the emulator accepting api_key. Returns a Mock (url, stop) or
-- nil, message. The launcher's own readiness wait (10 s) bounds this.
function M.start(root, api_key)
  local bin = launcher(root)
  if not bin then return nil, "--mock needs bin/homie-mock: run homie from a checkout" end
  local last
  for attempt = 1, 3 do
    local port = free_port(attempt)
    -- The shell prints its pid, then becomes the launcher (exec), so the
    -- pid is the launcher's. setsid: a Ctrl-C in the terminal reaches only
    -- us, and we stop the emulator ourselves. HOMIE_MOCK_WATCH_PID: it stops
    -- by itself should we be killed before we can.
    local cmd = ("echo $$; HOMIE_MOCK_WATCH_PID=$PPID exec setsid %s --port %d --api-key %s 2>&1 </dev/null")
      :format(shell_quote(bin), port, shell_quote(api_key))
    local pipe = io.popen(cmd, "r")
    local pid = tonumber(pipe:read("*l") or "")
    local line = pipe:read("*l")
    if pid and line and line:find("listening on", 1, true) then
      return setmetatable({ pid = pid, pipe = pipe, url = "http://127.0.0.1:" .. port }, Mock)
    end
    local out = { line }
    for l in pipe:lines() do out[#out + 1] = l end
    pipe:close()
    last = table.concat(out, " "):gsub("%s+", " ")
    if not last:find("in use", 1, true) then break end
  end
  return nil, "the emulator did not start: " .. (last or "no output")
end

-- Stops the emulator and waits for it (its own cleanup removes its files).
function Mock:stop()
  if not self.pipe then return end
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  self.pipe:close()  -- waits for the launcher to finish its cleanup
  self.pipe = nil
end

return M
