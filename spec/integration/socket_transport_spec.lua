-- The LuaSocket test transport (spec/support/socket_transport.lua) against
-- servers that drip or stall (spec/support/raw_server.lua): the exchange of
-- homie.transport.h1 keeps the caller's clock on any runtime. Each call is
-- bounded by timeout = 2 (deadline = 3); the servers would go on for 20 s.
-- Hang detectors, not timing benchmarks.
local homie = require "homie"
local raw_server = require "spec.support.raw_server"
local socket_transport = require "spec.support.socket_transport"
local now = require("homie.sse").now


local function call(parts, opts)
  local srv = raw_server.start(parts, opts)
  local client = homie.new{ transport = socket_transport.new(), base_url = srv.url, api_key = "homie-test-key",
    timeout = 2, deadline = 3, max_retries = 0 }
  local started = now()
  local page, err = client:list_messages("00000000-0000-0000-0000-000000000000")
  local took = now() - started
  client:close()
  srv:stop()
  return { ok = page ~= nil, kind = err and err.kind, message = err and err.message, took = took }
end

describe("socket test transport, bounded by the caller's clock against", function()
  for _, a in ipairs(raw_server.ADVERSARIES) do
    it(a[1], function() raw_server.assert_bounded(a, call(a[2], a[3])) end)
  end
end)

describe("socket test transport gather", function()
  it("runs tasks at once and returns what each returned", function()
    local t = socket_transport.new()
    local order = {}
    local results = t:gather({
      function() t:sleep(0.2); order[#order + 1] = 1; return "a", 2 end,
      function() t:sleep(0.05); order[#order + 1] = 2; return "b" end,
      function() return nil, nil end,
    })
    assert.same({ 2, 1 }, order)
    assert.same({ n = 2, "a", 2 }, results[1])
    assert.same({ n = 1, "b" }, results[2])
    assert.equal(2, results[3].n)
  end)

  it("stops the others when one raises, and raises naming it", function()
    local t = socket_transport.new()
    local finished = false
    local ok, err = pcall(t.gather, t, {
      function() t:sleep(5); finished = true end,
      function() t:sleep(0.05); error("boom") end,
    })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("homie: gather task 2 failed: ", 1, true), tostring(err))
    assert.is_false(finished)
  end)
end)

-- A stream whose head stalls after its first bytes cannot resume that head
-- (the bytes are consumed): once the caller's slice ran out, the attempt is
-- over and counts as a failed one. Each later open(t) then waits its slice
-- (for the reconnect) instead of returning at once, so a caller polling in
-- slices (the relay between heartbeats) never spins.
describe("socket test transport, a stream head cut by the caller's slice", function()
  it("makes the next open(t) wait its slice, not return at once", function()
    local srv = raw_server.start{ "HTTP/1.1 200 OK\r\nContent-Ty" }
    local client = homie.new{ transport = socket_transport.new(), base_url = srv.url, api_key = "homie-test-key",
      connect_timeout = 5 }
    local s = client:events("00000000-0000-0000-0000-000000000000")
    local tooks, calls = {}, 0
    local started = now()
    while now() - started < 1 and calls < 1000 do
      local t0 = now()
      local ok, why = s:open(0.2)
      calls = calls + 1
      assert.is_nil(ok)
      assert.equal("timeout", why)
      tooks[#tooks + 1] = now() - t0
    end
    s:close()
    client:close()
    srv:stop()
    -- Every slice was waited out (a lower bound: a sleep is never shorter).
    assert.is_true(calls <= 6, ("open(0.2) called %d times in 1 s"):format(calls))
    for i, took in ipairs(tooks) do
      assert.is_true(took >= 0.15, ("call %d returned after %.3f s"):format(i, took))
    end
  end)
end)
