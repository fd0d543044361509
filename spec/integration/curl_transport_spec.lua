-- The curl transport object (homie.transport.curl, doc/transport.md) over
-- real loopback sockets: what its failures say (`sent`, `retryable`,
-- `idle`), and what it puts on the wire, seen by a scripted server.
local curl_transport = require "homie.transport.curl"
local script_server = require "spec.support.script_server"
local limit = require "spec.support.limit"

local function send_req(url, deadline_at, body)
  return { method = "POST", url = url .. "/v1/chats/c/messages", body = body or '{"message":"hi"}',
    headers = { ["Content-Type"] = "application/json" }, deadline_at = deadline_at,
    connect_timeout = 5, max_body = 1048576, idempotent = false }
end

-- The transport with libcurl's own per-transfer timeout taken away, so that
-- only the SDK's deadline (its wait in curl_sched) can end a call: the
-- path a deadline takes when it passes before libcurl's timer does.
local function only_sdk_deadline(t)
  local real = t.multi
  t.multi = setmetatable({
    request = function(_, opts)
      opts.timeout = 0
      return real:request(opts)
    end,
  }, { __index = function(_, k)
    local f = real[k]
    return function(_, ...) return f(real, ...) end
  end })
  return t
end

describe("curl transport", function()
  local srv
  after_each(function() if srv then srv:stop(); srv = nil end end)

  describe("a send still unanswered at its deadline", function()
    -- The server reads the request, then holds the answer for 3 s.
    before_each(function() srv = script_server.start{ { status = 201, delay = 3, body = { "{}" } } } end)

    local function check(resp, fail)
      assert.is_nil(resp)
      assert.are.equal("timeout", fail.kind)
      assert.is_true(fail.sent, "the request went out: the server may have acted on it")
      assert.is_true(fail.retryable)
      local conns = srv:wait_for(1, 5)
      assert.are.equal(1, #conns)
      assert.matches('"message":"hi"', conns[1].body)
    end

    it("is a timeout marked sent, whichever timer ends it", function()
      local t = curl_transport.new()
      check(limit.within(5, function() return t:request(send_req(srv.url, t.now() + 0.3)) end, "the send"))
      t:close()
    end)

    it("is marked sent when the SDK's own deadline ends it", function()
      local t = only_sdk_deadline(curl_transport.new())
      check(limit.within(5, function() return t:request(send_req(srv.url, t.now() + 0.3)) end, "the send"))
      t:close()
    end)

    it("is marked sent when the SDK's own deadline ends it inside gather", function()
      local t = only_sdk_deadline(curl_transport.new())
      local res = limit.within(5, function()
        return t:gather{ function() return t:request(send_req(srv.url, t.now() + 0.3)) end }
      end, "the gather")
      check(res[1][1], res[1][2])
      t:close()
    end)
  end)

  it("refuses an answer over the request's max_body for good (not retryable)", function()
    srv = script_server.start{ { status = 200, body = { ("x"):rep(3000) } } }
    local t = curl_transport.new()
    local req = send_req(srv.url, t.now() + 10)
    req.max_body = 2999
    local resp, fail = t:request(req)
    assert.is_nil(resp)
    assert.are.equal("protocol", fail.kind)
    assert.matches("max_body", fail.message)
    assert.is_false(fail.retryable)
    t:close()
  end)

  it("sends each request's own header values, on the same transport", function()
    -- The transport keeps each header's last line for the next request.
    srv = script_server.start{ { status = 201, body = { "{}" } } }
    local t = curl_transport.new()
    for i = 1, 4 do
      local req = send_req(srv.url, t.now() + 10)
      -- The last one has fewer headers: none of the earlier ones' may go
      -- with it (two extra ones, so whatever order pairs() takes, one of
      -- them would be left over).
      req.headers["X-Trace"] = i < 4 and "t-" .. i or nil
      req.headers["X-Other"] = i < 4 and "o" or nil
      assert.are.equal(201, assert(t:request(req)).status)
    end
    local conns = srv:wait_for(4)
    for i = 1, 3 do assert.matches("X%-Trace: t%-" .. i .. "%f[^%w]", conns[i].head) end
    assert.is_nil(conns[4].head:find("X-", 1, true))
    t:close()
  end)

  it("sends a large body at once, without Expect: 100-continue", function()
    srv = script_server.start{ { status = 201, body = { "{}" } } }
    local t = curl_transport.new()
    -- libcurl asks for 100-continue on bodies over 1 MiB (older ones: 1 KiB).
    local body = '{"message":"' .. ("x"):rep(1100000) .. '"}'
    local resp = assert(t:request(send_req(srv.url, t.now() + 10, body)))
    assert.are.equal(201, resp.status)
    local conns = srv:wait_for(1)
    assert.is_nil(conns[1].head:lower():find("expect:", 1, true))
    assert.are.equal(body, conns[1].body)
    t:close()
  end)

  it("a read that reaches its deadline is idle, and the stream goes on", function()
    srv = script_server.start{ { status = 200, sse = true, body = { "data: a\n\n", 0.6, "data: b\n\n" } } }
    local t = curl_transport.new()
    local s = t:open{ method = "GET", url = srv.url .. "/events", headers = {}, connect_timeout = 5 }
    assert.are.equal(200, (s:head(t.now() + 5)))
    assert.are.equal("data: a\n\n", s:read(t.now() + 5))
    local bytes, fail = s:read(t.now() + 0.1)
    assert.is_nil(bytes)
    assert.are.equal("timeout", fail.kind)
    assert.is_true(fail.idle)
    assert.are.equal("data: b\n\n", s:read(t.now() + 5))
    assert.is_nil(s:read(t.now() + 5)) -- the clean end of the body
    s:close()
    t:close()
  end)

  it("inside gather, a call returns only once its whole answer is in", function()
    -- The head and the first bytes come 0.3 s before the rest of the body.
    srv = script_server.start{ { status = 200, sse = true, body = { "part one;", 0.3, "part two" } } }
    local t = curl_transport.new()
    local res = t:gather{ function()
      return t:request{ method = "GET", url = srv.url .. "/", headers = {}, deadline_at = t.now() + 5,
        connect_timeout = 5, max_body = 1000 }
    end }
    local resp = assert(res[1][1])
    assert.are.equal("part one;part two", resp.body)
    t:close()
  end)

  it("a scheduler deadline of a task that woke early never cuts its next wait short", function()
    srv = script_server.start{ { status = 200, body = { "{}" } } }
    local t = curl_transport.new()
    local order = {}
    t:gather{
      function()
        -- Answered at once, long before this deadline (0.3 s) ...
        assert(t:request{ method = "GET", url = srv.url .. "/", headers = {}, deadline_at = t.now() + 0.3,
          connect_timeout = 5, max_body = 1000 })
        -- ... which must not end this later wait.
        t:sleep(0.6)
        order[#order + 1] = "long"
      end,
      function()
        t:sleep(0.45)
        order[#order + 1] = "short"
      end,
      -- An earlier sleeper keeps the forgotten deadline inside the heap,
      -- not at its top, while the first task waits again.
      function()
        t:sleep(0.15)
        order[#order + 1] = "first"
      end,
    }
    assert.same({ "first", "short", "long" }, order)
    t:close()
  end)
end)
