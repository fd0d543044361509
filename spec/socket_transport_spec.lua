-- The LuaSocket test transport (spec/support/socket_transport.lua) against
-- servers that drip or stall (spec/support/raw_server.lua): the exchange of
-- homie.transport.h1 keeps the caller's clock on any runtime. Each call is
-- bounded by timeout = 2 (deadline = 3); the servers would go on for 20 s.
-- Hang detectors, not timing benchmarks.
local homie = require "homie"
local raw_server = require "spec.support.raw_server"
local socket_transport = require "spec.support.socket_transport"
local now = require("homie.sse").now

local HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"

local function call(parts, opts)
  local srv = raw_server.start(parts, opts)
  local client = homie.new{ transport = socket_transport.new(), base_url = srv.url, api_key = "homie-test-key",
    timeout = 2, deadline = 3, max_retries = 0 }
  local started = now()
  local page, err = client:list_messages("00000000-0000-0000-0000-000000000000")
  local took = now() - started
  client:close()
  srv:stop()
  return page, err, took
end

local function timed_out(page, err, took)
  assert.is_nil(page)
  assert.equal("timeout", err.kind, err.message)
  assert.is_true(took < 10, tostring(took))
end

describe("socket test transport, bounded by the caller's clock against", function()
  it("a head dripped one byte every 0.5 s", function()
    timed_out(call({ HEAD }, { drip = 0.5 }))
  end)
  it("100 Continue heads, one every 0.3 s, without end", function()
    timed_out(call({ "HTTP/1.1 100 Continue\r\n\r\n", 0.3 }, { loop = true }))
  end)
  it("a stall in the middle of a chunk-size line", function()
    timed_out(call({ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n1" }))
  end)
  it("a server that accepts and says nothing", function()
    timed_out(call({}))
  end)
end)
