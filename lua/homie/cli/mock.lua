-- `homie --mock` and `homie mock`: the local emulator (bin/homie-mock) on
-- a loopback port, stopped when the command ends.
local M = {}

-- A key for one emulator, made here: 16 random bytes in hex.
function M.new_key()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(16)
  if f then f:close() end
  if not bytes or #bytes < 16 then  -- no /dev/urandom: still unguessable enough for a local test server
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
    bytes = ""
    for _ = 1, 16 do bytes = bytes .. string.char(math.random(0, 255)) end
  end
  return "homie-mock-" .. bytes:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
end

-- The key goes to the launcher in its environment (HOMIE_MOCK_API_KEYS),
-- which the shell reads from a file in a directory only we can open: a
-- command line would show it to every local user (ps).
local function key_file(api_key)
  local p = io.popen("mktemp -d 2>/dev/null")
  local dir = p and p:read("*l")
  if p then p:close() end
  if not dir or dir == "" then return nil end
  local f = io.open(dir .. "/key", "wb")
  if not f then return nil end
  f:write(api_key, "\n")
  f:close()
  return dir
end

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

-- Starts the emulator accepting api_key, on `port` or else a free one.
-- Returns a Mock (url, stop) or nil, message. The launcher's own readiness
-- wait (10 s) bounds this.
function M.start(root, api_key, port)
  local bin = launcher(root)
  if not bin then return nil, "--mock needs bin/homie-mock: run homie from a checkout" end
  if api_key:find("[\r\n]") then return nil, "the emulator's key must be one line" end
  local last
  for attempt = 1, port and 1 or 3 do
    local dir = key_file(api_key)
    if not dir then return nil, "the emulator did not start: no private temporary directory" end
    local p = port or free_port(attempt)
    -- The shell prints its pid, then becomes the launcher (exec), so the
    -- pid is the launcher's. setsid: a Ctrl-C in the terminal reaches only
    -- us, and we stop the emulator ourselves. HOMIE_MOCK_WATCH_PID: it stops
    -- by itself should we be killed before we can.
    local cmd = ("echo $$; read -r k < %s/key; rm -rf %s; HOMIE_MOCK_API_KEYS=$k HOMIE_MOCK_WATCH_PID=$PPID "
      .. "exec setsid %s --port %d 2>&1 </dev/null"):format(shell_quote(dir), shell_quote(dir), shell_quote(bin), p)
    local pipe = io.popen(cmd, "r")
    local pid = tonumber(pipe:read("*l") or "")
    local line = pipe:read("*l")
    if pid and line and line:find("listening on", 1, true) then
      return setmetatable({ pid = pid, pipe = pipe, port = p, url = "http://127.0.0.1:" .. p }, Mock)
    end
    local out = { line }
    for l in pipe:lines() do out[#out + 1] = l end
    pipe:close()
    os.execute("rm -rf " .. shell_quote(dir))
    last = table.concat(out, " "):gsub("%s+", " ")
    if not last:find("in use", 1, true) then break end
  end
  return nil, "the emulator did not start: " .. (last or "no output")
end

-- Waits until the emulator ends (or Ctrl-C interrupts the wait).
function Mock:wait()
  if self.pipe then self.pipe:read("*a") end
end

-- Stops the emulator and waits for it (its own cleanup removes its files).
function Mock:stop()
  if not self.pipe then return end
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  self.pipe:close()  -- waits for the launcher to finish its cleanup
  self.pipe = nil
end

return M
