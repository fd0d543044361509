-- The API as issue 12 part 5 states it: timeouts in seconds, attempts on
-- stream errors, every option type-checked alike, and an oversize event that
-- ends the stream at its place. Seen from outside, over a scripted loopback
-- server that counts connections.
local homie = require "homie"
local socket = require "socket"
local limit = require "spec.support.limit"
local script_server = require "spec.support.script_server"

local CHAT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
local PAGE = require("spec.support.fixtures").PAGE

describe("api contract", function()
  local srv
  after_each(function() if srv then srv:stop() end srv = nil end)
  local function client() return homie.new{ api_key = "k", base_url = srv.url } end

  it("next_event(timeout) waits that many seconds", function()
    srv = script_server.start{ { status = 200, sse = true, body = { "retry: 100\n\n" }, hold = 10 } }
    local stream = client():events(CHAT)
    assert.is_true(limit.within(5, function() return stream:open() end, "opening a stream"))
    local t0 = socket.gettime()
    local ev, why = limit.within(5, function() return stream:next_event(0.5) end, "next_event(0.5)")
    local took = socket.gettime() - t0
    stream:close()
    assert.is_nil(ev)
    assert.are.equal("timeout", why)
    assert(took >= 0.2 and took <= 0.75, ("next_event(0.5) returned after %.3f s"):format(took))
  end)

  it("a stream's error carries attempts: the connections it made", function()
    srv = script_server.start{ { status = 503, headers = { ["Retry-After"] = "0" } } }
    local stream = client():events(CHAT, { max_reconnects = 2 })
    local ev, err = limit.within(10, function() return stream() end, "a stream refused by 503s")
    assert.is_false(ev)
    assert.are.equal(503, err.status)
    socket.sleep(0.2)
    assert.are.equal(#srv:connections(), err.attempts)
    assert.are.equal(3, err.attempts)
  end)

  it("a stream that gives up on a wrong content type counts its attempts too", function()
    srv = script_server.start{
      { status = 503, headers = { ["Retry-After"] = "0" } },
      { status = 200, body = { "{}" } },
    }
    local stream = client():events(CHAT)
    local ev, err = limit.within(10, function() return stream() end, "a stream answered JSON")
    assert.is_false(ev)
    assert.are.equal("protocol", err.kind)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, #srv:connections())
  end)

  it("an oversize event ends the stream at its place: the events before, the error, nothing after", function()
    srv = script_server.start{ { status = 200, sse = true, hold = 10, body = {
      "id: 1\ndata: before\n\nid: 2\ndata: " .. ("x"):rep(300) .. "\n\nid: 3\ndata: after\n\n" } } }
    local stream = client():events(CHAT, { max_event_bytes = 200 })
    local got = limit.within(5, function()
      local out = {}
      for _ = 1, 4 do out[#out + 1] = { stream() } end
      return out
    end, "reading past an oversize event")
    assert.are.equal("before", got[1][1].raw)
    assert.is_false(got[2][1])
    assert.are.equal("protocol", got[2][2].kind)
    assert.is_nil(got[3][1])
    assert.is_nil(got[4][1])
    assert.are.equal(1, #srv:connections())
  end)
end)

describe("option types", function()
  -- Every option of every call raises on a wrong type, naming it.
  local c = homie.new{ api_key = "k", base_url = "http://127.0.0.1:9" }
  local chat = c:chat(CHAT)
  local cases = {
    { "homie.new insecure", function() homie.new{ api_key = "k", insecure = "yes" } end, "insecure" },
    { "homie.new timeout", function() homie.new{ api_key = "k", timeout = "5" } end, "timeout" },
    { "homie.new max_retries", function() homie.new{ api_key = "k", max_retries = "2" } end, "max_retries" },
    { "homie.new logger", function() homie.new{ api_key = "k", logger = "stderr" } end, "logger" },
    { "events idle_timeout", function() c:events(CHAT, { idle_timeout = "60" }) end, "idle_timeout" },
    { "events max_reconnects", function() c:events(CHAT, { max_reconnects = true }) end, "max_reconnects" },
    { "send timeout", function() chat:send("hi", { currentUrl = PAGE, timeout = "1" }) end, "timeout" },
    { "send deadline", function() chat:send("hi", { currentUrl = PAGE, deadline = {} }) end, "deadline" },
    { "ask final_wait", function() chat:ask("hi", { currentUrl = PAGE, final_wait = "5" }) end, "final_wait" },
    { "ask on_event", function() chat:ask("hi", { currentUrl = PAGE, on_event = 1 }) end, "on_event" },
  }
  for _, case in ipairs(cases) do
    it(case[1] .. " of the wrong type raises naming it", function()
      local ok, err = pcall(limit.within, 2, case[2], case[1])
      assert.is_false(ok)
      assert.matches("^homie: " .. case[3] .. " must be", tostring(err):gsub("^.-:%d+: ", ""))
    end)
  end
end)
