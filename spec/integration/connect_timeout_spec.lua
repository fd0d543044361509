-- connect_timeout (README "Client options": seconds) against a listener that
-- never accepts: its backlog is full, so the kernel drops the SYNs of every
-- later connect and the connection is never made. Loopback only. The call
-- must end in a timeout near connect_timeout, long before `timeout` (5 s,
-- which is also what bounds the spec if connect_timeout were ignored).
local socket = require "socket"
local homie = require "homie"
local curl = require "homie.curl"
local now = require("homie.sse").now

-- A listening socket with backlog 0 whose queue is filled by connects that
-- are never accepted; returns its port and a function that closes it all.
local function full_listener()
  local s = assert(socket.tcp())
  assert(s:bind("127.0.0.1", 0))
  assert(s:listen(0))
  local _, port = s:getsockname()
  local fillers = {}
  for i = 1, 4 do
    local c = assert(socket.tcp())
    c:settimeout(0)
    c:connect("127.0.0.1", port) -- in progress: the first ones fill the queue
    fillers[i] = c
  end
  socket.sleep(0.05)
  return tonumber(port), function()
    for _, c in ipairs(fillers) do c:close() end
    s:close()
  end
end

describe("connect_timeout", function()
  local port, close

  before_each(function() port, close = full_listener() end)
  after_each(function() close() end)

  it("ends a client call to a listener that never accepts in a timeout, well before `timeout`", function()
    local c = homie.new{ api_key = "k", base_url = "http://127.0.0.1:" .. port, transport = "curl",
      connect_timeout = 0.5, timeout = 5, max_retries = 0 }
    finally(function() c:close() end)
    local t0 = now()
    local page, err = c:list_messages("00000000-0000-4000-8000-000000000000")
    local took = now() - t0
    assert.is_nil(page)
    assert.are.equal("timeout", err.kind)
    -- Not a timing: only "well before `timeout`" (8 times connect_timeout).
    assert.is_true(took < 4, "took " .. took .. " s")
  end)

  it("is honoured by homie.curl itself, in seconds, and nothing is sent", function()
    local m = curl.multi()
    finally(function() m:close() end)
    local t0 = now()
    local r = m:request{ url = "http://127.0.0.1:" .. port .. "/", connect_timeout = 0.3, timeout = 5 }
    while not r:done() do m:step(0.05) end
    assert.is_true(now() - t0 < 4)
    assert.are.equal("timeout", (r:error()))
    assert.are.equal(0, r:info().request_bytes)
    r:close()
  end)
end)
