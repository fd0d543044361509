-- A loopback server in a child process that answers every connection with
-- the same raw bytes, at its own pace: for adversaries no real HTTP server
-- plays (a head dripped a byte at a time, endless 100 Continue, a stall in
-- the middle of a body or of a chunk-size line).
--
--   local srv = raw_server.start{ "HTTP/1.1 200 OK\r\n", 0.5, "Content-Length: 2\r\n\r\nok" }
--   local srv = raw_server.start({ "HTTP/1.1 100 Continue\r\n\r\n", 0.3 }, { loop = true })
--   srv.url; srv:stop()
--
-- Strings are sent as they are, numbers are pauses in seconds; `drip = s`
-- sends each string a byte at a time, s seconds apart; `loop` plays the
-- list again and again. After the list the connection is held open,
-- silent. A connection ends when the client closes it or after `hold`
-- seconds (default 20); the child exits by itself after `lifetime` seconds
-- (default 60). It serves one connection at a time.
local child = require "spec.support.child_server"

local M = {}

local CHILD = [==[
local function play(c, ends)
  repeat
    for _, p in ipairs(cfg.parts) do
      if socket.gettime() > ends then return end
      if type(p) == "number" then socket.sleep(p)
      elseif cfg.drip then
        for i = 1, #p do
          if not c:send(p:sub(i, i)) then return end
          socket.sleep(cfg.drip)
        end
      elseif not c:send(p) then return end
    end
  until not cfg.loop
  -- Silent until the client goes away.
  while socket.gettime() < ends do
    c:settimeout(0.2)
    local _, err = c:receive(1)
    if err == "closed" then return end
  end
end

while socket.gettime() < stop_at do
  s:settimeout(math.max(0.01, stop_at - socket.gettime()))
  local c = s:accept()
  if c then
    c:settimeout(5)
    repeat local line = c:receive("*l") until not line or line == ""
    c:settimeout(5)
    play(c, socket.gettime() + cfg.hold)
    c:close()
  end
end
]==]

function M.start(parts, opts)
  opts = opts or {}
  return child.start("raw", CHILD, { parts = parts, drip = opts.drip or false, loop = opts.loop or false,
    hold = opts.hold or 20, lifetime = opts.lifetime or 60 })
end

-- A JSON answer's head promising 40 bytes of body.
M.JSON_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"

-- The adversaries every transport meets (spec/integration/ngx_transport_spec.lua,
-- spec/integration/socket_transport_spec.lua): name, the server's parts and options,
-- and the error kind a call bounded by timeout = 2 must end in, well
-- before the server gives up (20 s).
M.ADVERSARIES = {
  { "a server that accepts and says nothing", {}, nil, "timeout" },
  { "a stall in the middle of the status line", { "HTTP/1.1 20" }, nil, "timeout" },
  { "a stall in the middle of the headers", { "HTTP/1.1 200 OK\r\nContent-Ty" }, nil, "timeout" },
  { "a head dripped one byte every 0.5 s", { M.JSON_HEAD }, { drip = 0.5 }, "timeout" },
  { "100 Continue heads, one every 0.3 s, without end", { "HTTP/1.1 100 Continue\r\n\r\n", 0.3 }, { loop = true },
    "timeout" },
  { "100 Continue heads as fast as they go (refused after 16)", { "HTTP/1.1 100 Continue\r\n\r\n" }, { loop = true },
    "protocol", "more than 16 interim" },
  { "a stall in the middle of the body", { M.JSON_HEAD .. "{\"items\": [" }, nil, "timeout" },
  { "a stall in the middle of a chunk-size line",
    { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n1" }, nil, "timeout" },
  { "a body dripped one byte every 0.5 s", { M.JSON_HEAD, ("x"):rep(40) }, { drip = 0.5 }, "timeout" },
}

-- Asserts what a call against adversary `a` gave, r: { ok, kind, message,
-- took } (a hang detector, not a timing benchmark).
function M.assert_bounded(a, r)
  local assert = require "luassert"
  assert.is_false(r.ok)
  assert.equal(a[4], r.kind, r.message)
  if a[5] then assert.truthy(r.message:find(a[5], 1, true), r.message) end
  assert.is_true(r.took < 10, tostring(r.took))
end

return M
