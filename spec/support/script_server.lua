-- A scripted loopback HTTP server in a child process, for behaviour the
-- emulator cannot show: exact `retry:` values, reconnect timing, products
-- with only `uri`, several events in one read. It answers connection i with
-- script[i] (the last entry for every later one) and logs, per connection,
-- when it was accepted and closed and the request it carried, so a spec can
-- count requests and time the gaps between them from outside the SDK.
--
--   local srv = script_server.start{
--     { status = 200, sse = true, body = { "retry: 200\n\nid: 1\ndata: a\n\n" } },  -- then close
--     { status = 503, headers = { ["Retry-After"] = "1" } },
--     { status = 200, sse = true, body = { "data: b\n\n", 0.2, "data: c\n\n" }, hold = 5 },
--   }
--   srv.url; srv:connections() -> { { at, closed, head, body }, ... }; srv:stop()
--
-- body: strings are written as they are, numbers are pauses in seconds.
-- sse: Content-Type text/event-stream and no Content-Length (the body ends
-- when the connection closes). delay: seconds before the head. hold: seconds the connection stays open after
-- the body, unless the client closes it first. The child exits by itself
-- after `lifetime` seconds (default 60), so it never outlives a spec.
local cjson = require "cjson"
local socket = require "socket"
local child = require "spec.support.child_server"

local M = {}

local CHILD = [==[
local log = assert(io.open(dir .. "/log", "ab"))
local function note(t) log:write(cjson.encode(t), "\n") log:flush() end
local REASON = { [200] = "OK", [201] = "Created", [204] = "No Content", [401] = "Unauthorized",
  [404] = "Not Found", [429] = "Too Many Requests", [500] = "Internal Server Error", [503] = "Service Unavailable" }
local n = 0
while socket.gettime() < stop_at do
  s:settimeout(math.max(0.01, stop_at - socket.gettime()))
  local c = s:accept()
  if c then
    n = n + 1
    local entry = cfg.script[math.min(n, #cfg.script)]
    local at = socket.gettime()
    c:settimeout(5)
    local head, len = {}, 0
    while true do
      local line = c:receive("*l")
      if not line or line == "" then break end
      head[#head + 1] = line
      len = tonumber(line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")) or len
    end
    local body = len > 0 and c:receive(len) or ""
    note({ event = "accept", n = n, at = at, head = table.concat(head, "\n"), body = body })
    local status = entry.status or 200
    local lines = { ("HTTP/1.1 %d %s"):format(status, REASON[status] or "Status") }
    for k, v in pairs(entry.headers or {}) do lines[#lines + 1] = k .. ": " .. v end
    local parts = entry.body or {}
    if entry.sse then
      lines[#lines + 1] = "Content-Type: text/event-stream"
      lines[#lines + 1] = "Connection: close"
    else
      local whole = {}
      for _, p in ipairs(parts) do if type(p) == "string" then whole[#whole + 1] = p end end
      parts = { table.concat(whole) }
      if status ~= 204 then lines[#lines + 1] = "Content-Length: " .. #parts[1] end
      if not (entry.headers or {})["Content-Type"] then lines[#lines + 1] = "Content-Type: application/json" end
      lines[#lines + 1] = "Connection: close"
    end
    if entry.delay then socket.sleep(entry.delay) end
    c:send(table.concat(lines, "\r\n") .. "\r\n\r\n")
    for _, p in ipairs(parts) do
      if type(p) == "number" then socket.sleep(p) else c:send(p) end
    end
    local hold_until = socket.gettime() + (entry.hold or 0)
    while socket.gettime() < hold_until do
      c:settimeout(math.max(0.01, hold_until - socket.gettime()))
      local _, err = c:receive(1)
      if err == "closed" then break end
    end
    c:close()
    note({ event = "close", n = n, at = socket.gettime() })
  end
end
]==]

local Server = { stop = child.stop }
Server.__index = Server

-- script: array of entries (above); opts.lifetime: seconds before the child exits.
function M.start(script, opts)
  opts = opts or {}
  return child.start("script", CHILD, { script = script, lifetime = opts.lifetime or 60 }, Server)
end

-- One table per connection so far: n, at (accepted), closed (or nil while
-- open), head (request line and headers, "\n"-joined), body.
function Server:connections()
  local conns = {}
  local f = io.open(self.dir .. "/log", "rb")
  if not f then return conns end
  for line in f:lines() do
    local ok, t = pcall(cjson.decode, line)
    if ok then
      if t.event == "accept" then
        conns[t.n] = { n = t.n, at = t.at, head = t.head, body = t.body }
      elseif conns[t.n] then
        conns[t.n].closed = t.at
      end
    end
  end
  f:close()
  return conns
end

-- Waits (bounded) until `count` connections were accepted; returns them.
function Server:wait_for(count, seconds)
  local deadline = socket.gettime() + (seconds or 10)
  local conns = self:connections()
  while #conns < count and socket.gettime() < deadline do
    socket.sleep(0.02)
    conns = self:connections()
  end
  return conns
end

return M
