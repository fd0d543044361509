-- homie.core's transport objects directly, over real sockets.
local core = require "homie.core"
local mock = require "spec.support.mock"

local BOT = require("spec.support.fixtures").BOT

local function drive(m, pred, limit)
  local deadline = core.now() + (limit or 10)
  while not pred() do
    assert(core.now() < deadline, "transfer did not finish in time")
    m:step(0.05)
  end
end

describe("homie.core transport", function()
  local server, chat_id, auth

  setup(function()
    server = mock.start{}
    auth = "x-api-key: " .. server.api_key
    local m = core.multi()
    local r = m:request{ method = "POST", url = server.url .. "/v1/chats", body = '{"chatbotId":"' .. BOT .. '"}',
      headers = { auth, "Content-Type: application/json" } }
    drive(m, function() return r:done() end)
    chat_id = r:body():match('"id":"([^"]+)"')
    for i = 1, 40 do
      local s = m:request{ method = "POST", url = server.url .. "/v1/chats/" .. chat_id .. "/messages",
        body = '{"message":"hoodie ' .. i .. '","currentUrl":"u"}', headers = { auth, "Content-Type: application/json" } }
      drive(m, function() return s:done() end)
      s:close()
    end
    m:close()
  end)
  teardown(function() server:stop() end)

  it("parses headers, lower-cased", function()
    local m = core.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages", headers = { auth } }
    drive(m, function() return r:done() end)
    assert.are.equal(200, r:status())
    local h = r:headers()
    assert.matches("^application/json", h["content-type"])
    assert.is_string(h["x-request-id"])
    assert.is_nil(r:error())
    assert.is_true(r:info().request_bytes > 0)
    r:close()
    r:close() -- idempotent
    m:close()
  end)

  it("a stream's buffer stays bounded and loses no byte (back-pressure)", function()
    local m = core.multi()
    local whole = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages?size=100", headers = { auth } }
    drive(m, function() return whole:done() end)
    local expected = whole:body()
    assert.is_true(#expected > 40000)
    local limit = 4096
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages?size=100",
      headers = { auth }, stream = true, max_body = limit, accept_encoding = false }
    -- Let it run without reading: curl must be paused, not buffering it all.
    for _ = 1, 20 do m:step(0.02) end
    local got, most = {}, r:pending()
    assert.is_false(r:done())
    while true do
      m:step(0.05)
      most = math.max(most, r:pending())
      if r:pending() > 0 then got[#got + 1] = r:take() end
      if r:done() and r:pending() == 0 then break end
    end
    assert.is_nil(r:error())
    assert.are.equal(expected, table.concat(got))
    -- One write from curl may land in an empty buffer whole (at most 16 KiB).
    assert.is_true(most <= math.max(limit, 16384), "buffer reached " .. most)
    r:close()
    m:close()
  end)

  it("a non-stream body over max_body aborts with too_large", function()
    local m = core.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages?size=100",
      headers = { auth }, max_body = 1000 }
    drive(m, function() return r:done() end)
    local kind, msg = r:error()
    assert.are.equal("too_large", kind)
    assert.matches("max_body %(1000 bytes%)", msg)
    m:close()
  end)

  it("only speaks http and https", function()
    local m = core.multi()
    local r = m:request{ url = "file:///etc/passwd" }
    drive(m, function() return r:done() end)
    assert.are.equal("protocol", (r:error()))
    assert.are.equal("", r:body())
    m:close()
  end)

  it("closing the multi ends its transfers; a closed multi refuses new ones", function()
    local m = core.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages/events", headers = { auth }, stream = true }
    m:step(0.05)
    m:close()
    assert.is_true(r:done())
    assert.are.equal("closed", (r:error()))
    assert.has_error(function() m:request{ url = server.url } end, "homie: attempt to use a closed client transport")
    m:close() -- idempotent
    r:close()
  end)

  it("checks its arguments", function()
    local m = core.multi()
    assert.has_error(function() m:request{} end, "homie: request option 'url' is required")
    assert.has_error(function() m:request{ url = server.url, timeout = "x" } end,
      "homie: request option 'timeout' must be a number")
    assert.has_error(function() m:request("x") end)
    m:close()
  end)
end)
