-- What the hostile test servers (script_server, raw_server, adversary)
-- share: a Lua child process that binds a loopback port, reports it on
-- stdout and serves until its `lifetime` runs out (so it never outlives a
-- spec), and a stop() that kills it and removes its directory.
--
--   local srv = child_server.start("raw", BODY, { lifetime = 60, ... }, Server)
--   srv.url, srv.port, srv.dir; srv:stop()
local cjson = require "cjson"
local sh = require("spec.support.mock").sh

local M = {}

-- The child's first lines. After them the body has: `socket`, `cjson`,
-- `dir` (a temporary directory of its own), `cfg` (the table given to
-- start), the listening socket `s` and `stop_at`.
M.PRELUDE = [==[
local socket = require "socket"
local cjson = require "cjson"
local dir = arg[1]
local f = assert(io.open(dir .. "/config.json", "rb"))
local cfg = cjson.decode(f:read("a")) f:close()
local s = assert(socket.bind("127.0.0.1", 0))
local _, port = s:getsockname()
io.write(port, "\n") io.flush()
local stop_at = socket.gettime() + cfg.lifetime
]==]

-- Kills the child and removes its directory; a second call does nothing.
function M.stop(self)
  if self.stopped then return end
  self.stopped = true
  os.execute("kill " .. self.pid .. " 2>/dev/null")
  self.proc:close()
  os.execute("rm -rf " .. self.dir)
end

local Child = { stop = M.stop }
Child.__index = Child

-- Starts PRELUDE .. body with cfg (cfg.lifetime: seconds). `name` labels the
-- temporary directory and the errors; `class`, the returned object's
-- metatable, should carry M.stop as its stop.
function M.start(name, body, cfg, class)
  local dir = sh("mktemp -d /tmp/homie-" .. name .. ".XXXXXX")
  local f = assert(io.open(dir .. "/config.json", "wb"))
  f:write(cjson.encode(cfg))
  f:close()
  f = assert(io.open(dir .. "/child.lua", "wb"))
  f:write(M.PRELUDE, body)
  f:close()
  local proc = assert(io.popen(("echo $$; exec lua5.4 %s/child.lua %s"):format(dir, dir)))
  local pid = assert(tonumber(proc:read("*l")), name .. " server did not start")
  local port = assert(tonumber(proc:read("*l")), name .. " server did not report its port")
  return setmetatable({ dir = dir, pid = pid, proc = proc, port = port, url = "http://127.0.0.1:" .. port },
    class or Child)
end

return M
