-- Event-stream reconnection seen from the server's side: a scripted
-- loopback server logs when each connection arrived and closed, so the
-- waits between them are measured against the configured values (within
-- 0.4-1.5x: jitter takes up to a quarter off, never adds), and requests are
-- counted. Nothing here reads the stream's private fields.
local homie = require "homie"
local socket = require "socket"
local limit = require "spec.support.limit"
local script_server = require "spec.support.script_server"

local CHAT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"

local function gap(conns, i)  -- from connection i-1 closing to connection i arriving
  return conns[i].at - assert(conns[i - 1].closed, "connection " .. (i - 1) .. " never closed")
end

local function assert_near(expected, got, what)
  assert(got >= 0.4 * expected and got <= 1.5 * expected,
    ("%s: waited %.3f s, expected %.3f s (0.4-1.5x)"):format(what, got, expected))
end

-- Reads n events (each must arrive; bounded), returns their data strings.
local function read(stream, n, seconds)
  return limit.within(seconds or 10, function()
    local got = {}
    while #got < n do
      local ev, err = stream()
      assert(ev, "stream ended early: " .. tostring(err))
      got[#got + 1] = ev.raw
    end
    return got
  end, ("reading %d events"):format(n))
end

describe("stream reconnection timing", function()
  local srv
  after_each(function() if srv then srv:stop() end srv = nil end)

  local function client() return homie.new{ api_key = "k", base_url = srv.url } end

  it("waits the server's retry:, doubles per consecutive failure, and starts over after an event", function()
    srv = script_server.start{
      { status = 200, sse = true, body = { "retry: 200\n\nid: 1\ndata: one\n\n" } },
      { status = 503 },
      { status = 503 },
      { status = 200, sse = true, body = { "id: 2\ndata: two\n\n" } },
      { status = 200, sse = true, body = { "id: 3\ndata: three\n\n" }, hold = 10 },
    }
    local stream = client():events(CHAT)
    assert.are.same({ "one", "two", "three" }, read(stream, 3, 15))
    stream:close()
    local conns = srv:wait_for(5)
    assert.are.equal(5, #conns)
    assert_near(0.2, gap(conns, 2), "first reconnect (retry: 200)")
    assert_near(0.4, gap(conns, 3), "second consecutive failure (doubled)")
    assert_near(0.8, gap(conns, 4), "third consecutive failure (doubled again)")
    assert_near(0.2, gap(conns, 5), "after an event was delivered (count reset)")
    -- Every reconnect resumes from the last id seen.
    assert.is_nil(conns[1].head:lower():find("last-event-id", 1, true))
    for i, want in pairs({ [2] = "1", [3] = "1", [4] = "1", [5] = "2" }) do
      assert.matches("\nlast%-event%-id: " .. want .. "\n", conns[i].head:lower() .. "\n", nil, false)
    end
  end)

  it("waits Retry-After on a 429 and retry-after-ms on a 503 instead of its own backoff", function()
    srv = script_server.start{
      { status = 200, sse = true, body = { "retry: 100\n\nid: 1\ndata: one\n\n" } },
      { status = 429, headers = { ["Retry-After"] = "1" } },
      { status = 503, headers = { ["retry-after-ms"] = "600" } },
      { status = 200, sse = true, body = { "id: 2\ndata: two\n\n" }, hold = 10 },
    }
    local stream = client():events(CHAT)
    assert.are.same({ "one", "two" }, read(stream, 2, 10))
    stream:close()
    local conns = srv:wait_for(4)
    assert_near(0.1, gap(conns, 2), "reconnect after retry: 100")
    assert_near(1.0, gap(conns, 3), "after a 429 with Retry-After: 1")
    assert_near(0.6, gap(conns, 4), "after a 503 with retry-after-ms: 600")
  end)

  it("reconnects a silent stream after idle_timeout", function()
    srv = script_server.start{
      { status = 200, sse = true, body = { "retry: 100\n\n" }, hold = 20 },
      { status = 200, sse = true, body = { "id: 1\ndata: one\n\n" }, hold = 10 },
    }
    local stream = client():events(CHAT, { idle_timeout = 0.5 })
    assert.are.same({ "one" }, read(stream, 1, 5))
    stream:close()
    local conns = srv:wait_for(2)
    assert_near(0.5 + 0.1, conns[2].at - conns[1].at, "idle_timeout 0.5 s then retry: 100")
  end)

  it("gives up waiting for a stream's head after connect_timeout", function()
    srv = script_server.start{ { status = 200, sse = true, delay = 5, body = { "data: late\n\n" } } }
    local stream = client():events(CHAT, { connect_timeout = 0.5, max_reconnects = 0 })
    local t0 = socket.gettime()
    local ev, err = limit.within(4, function() return stream() end, "a stream whose head never comes")
    assert.is_false(ev)
    assert.are.equal("timeout", err.kind)
    assert_near(0.5, socket.gettime() - t0, "connect_timeout 0.5 s")
  end)

  it("ends for good on a 204, with one request", function()
    srv = script_server.start{ { status = 204 } }
    local stream = client():events(CHAT)
    assert.is_nil(limit.within(5, function() return stream() end, "a stream answered 204"))
    assert.is_nil(stream())
    socket.sleep(0.3)
    assert.are.equal(1, #srv:connections())
  end)

  it("does not retry a 401 or a 403", function()
    for _, status in ipairs({ 401, 403 }) do
      srv = script_server.start{ { status = status } }
      local stream = client():events(CHAT)
      local ev, err = limit.within(5, function() return stream() end, "a stream answered " .. status)
      assert.is_false(ev)
      assert.are.equal(status, err.status)
      socket.sleep(0.3)
      assert.are.equal(1, #srv:connections(), "requests after a " .. status)
      srv:stop()
    end
    srv = nil
  end)

  it("after a 404 tries the introduction's path once, then reports not_found", function()
    srv = script_server.start{ { status = 404 } }
    local stream = client():events(CHAT)
    local ev, err = limit.within(5, function() return stream() end, "a stream answered 404")
    assert.is_false(ev)
    assert.are.equal("not_found", err.kind)
    socket.sleep(0.3)
    local conns = srv:connections()
    assert.are.equal(2, #conns)
    assert.matches("^GET /v1/chats/" .. CHAT:gsub("%-", "%%-") .. "/messages/events ", conns[1].head)
    assert.matches("^GET /v1/chats/" .. CHAT:gsub("%-", "%%-") .. "/events ", conns[2].head)
  end)
end)
