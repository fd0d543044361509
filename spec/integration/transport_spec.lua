-- homie.curl's transport objects directly, over real sockets.
local curl = require "homie.curl"
local now = require("homie.sse").now
local mock = require "spec.support.mock"
local script_server = require "spec.support.script_server"

local BOT = require("spec.support.fixtures").BOT

local function drive(m, pred, limit)
  local deadline = now() + (limit or 10)
  while not pred() do
    assert(now() < deadline, "transfer did not finish in time")
    m:step(0.05)
  end
end

describe("homie.curl transport", function()
  local server, chat_id, auth

  setup(function()
    server = mock.start{}
    auth = "x-api-key: " .. server.api_key
    local m = curl.multi()
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
    local m = curl.multi()
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
    local m = curl.multi()
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
    local m = curl.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages?size=100",
      headers = { auth }, max_body = 1000 }
    drive(m, function() return r:done() end)
    local kind, msg = r:error()
    assert.are.equal("too_large", kind)
    assert.matches("max_body %(1000 bytes%)", msg)
    m:close()
  end)

  it("accepts a body of exactly max_body bytes and refuses one byte more", function()
    local body = ("x"):rep(5000)
    local srv = script_server.start{ { status = 200, body = { body } } }
    finally(function() srv:stop() end) -- also when an assertion fails
    local m = curl.multi()
    local function fetch(max_body)
      local r = m:request{ url = srv.url .. "/", max_body = max_body }
      drive(m, function() return r:done() end)
      local kind, b = r:error(), r:body()
      r:close()
      return kind, b
    end
    local kind, got = fetch(#body)
    assert.is_nil(kind)
    assert.are.equal(body, got)
    assert.are.equal("too_large", (fetch(#body - 1)))
    m:close()
  end)

  it("only speaks http and https", function()
    local m = curl.multi()
    local r = m:request{ url = "file:///etc/passwd" }
    drive(m, function() return r:done() end)
    assert.are.equal("protocol", (r:error()))
    assert.are.equal("", r:body())
    m:close()
  end)

  it("closing the multi ends its transfers; a closed multi refuses new ones", function()
    local m = curl.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages/events", headers = { auth }, stream = true }
    m:step(0.05)
    m:close()
    assert.is_true(r:done())
    assert.are.equal("closed", (r:error()))
    assert.has_error(function() m:request{ url = server.url } end, "homie: attempt to use a closed client transport")
    m:close() -- idempotent
    r:close()
  end)

  it("checks its arguments, naming the option", function()
    local m = curl.multi()
    local url = server.url
    assert.has_error(function() m:request{} end, "homie: request option 'url' is required")
    assert.has_error(function() m:request("x") end, "homie: request options must be a table, got string")
    assert.has_error(function() m:request{ url = url, timeuot = 1 } end, "homie: unknown request option 'timeuot'")
    assert.has_error(function() m:request{ url = url, [1] = "x" } end,
      "homie: request option names must be strings, got number")
    for _, key in ipairs({ "timeout", "connect_timeout" }) do
      local want = "homie: request option '" .. key .. "' must be a finite number of seconds >= 0, got "
      assert.has_error(function() m:request{ url = url, [key] = "x" } end, want .. "string")
      assert.has_error(function() m:request{ url = url, [key] = -1 } end, want .. "-1")
      assert.has_error(function() m:request{ url = url, [key] = math.huge } end)
      assert.has_error(function() m:request{ url = url, [key] = 0 / 0 } end)
    end
    for _, bad in ipairs({ 0, -5, 1.5, 2 ^ 32 + 1, 0 / 0, "1" }) do
      local ok, err = pcall(m.request, m, { url = url, max_body = bad })
      assert.is_false(ok)
      assert.matches("^homie: request option 'max_body' must be a whole number from 1 to 2%^32", err)
    end
    assert.has_error(function() m:request{ url = url, stream = 1 } end,
      "homie: request option 'stream' must be a boolean, got number")
    assert.has_error(function() m:request{ url = url, headers = "Accept: x" } end,
      "homie: request option 'headers' must be a table, got string")
    assert.has_error(function() m:request{ url = url, headers = { "A: b", 2 } } end,
      "homie: request header 2 must be a string, got number")
    assert.has_error(function() m:request{ url = url, method = true } end,
      "homie: request option 'method' must be a string, got boolean")
    assert.has_error(function() m:step(0 / 0) end)
    assert.is_number(m:step(-1)) -- a deadline already past only polls
    m:close()
  end)

  it("a bad option leaves no transfer behind", function()
    local m = curl.multi()
    assert.has_error(function() m:request{ url = server.url, max_body = 0 } end)
    assert.are.equal(0, m:step(0))
    m:close()
  end)

  it("a closed request refuses every method but close", function()
    local m = curl.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages", headers = { auth } }
    drive(m, function() return r:done() end)
    r:close()
    for _, name in ipairs({ "done", "headers_done", "status", "headers", "body", "take", "pending", "error", "info" }) do
      assert.has_error(function() r[name](r) end, "homie: attempt to use a closed request")
    end
    r:close() -- idempotent
    assert.has_no.errors(function() m:step(0) end) -- the multi is still open
    m:close()
    assert.has_error(function() m:step(0) end, "homie: attempt to use a closed client transport")
  end)

  it("a method refuses an object of another class", function()
    -- Methods compare self's metatable with their own upvalue
    -- (homie_checkself): an open multi is no request, and no string is.
    local m = curl.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages", headers = { auth } }
    assert.has_error(function() r.id(m) end)
    assert.has_error(function() r.done("x") end)
    assert.has_error(function() m.step(r, 0) end)
    drive(m, function() return r:done() end)
    r:close()
    m:close()
  end)

  it("close, __gc and __close are the same function", function()
    local m = curl.multi()
    local r = m:request{ url = server.url }
    for _, obj in ipairs({ m, r }) do
      local mt = getmetatable(obj)
      assert.are.equal(mt.close, mt.__gc)
      assert.are.equal(mt.close, mt.__close)
    end
    m:close()
    r:close()
  end)

  it("ends requests and multis in to-be-closed variables where the language has them", function()
    if _VERSION ~= "Lua 5.4" then return end
    local m, r = assert(load [[
      local curl, url = ...
      local m <close> = curl.multi()
      local r <close> = m:request{ url = url }
      return m, r
    ]])(curl, server.url)
    assert.has_error(function() r:done() end, "homie: attempt to use a closed request")
    assert.has_error(function() m:step(0) end, "homie: attempt to use a closed client transport")
  end)

  it("a tiny positive timeout still times out (not rounded to none)", function()
    local m = curl.multi()
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages/events", headers = { auth },
      stream = true, timeout = 0.0001 }
    drive(m, function() return r:done() end, 5)
    assert.are.equal("timeout", (r:error()))
    m:close()
  end)

  it("timeout ends a transfer whose server never answers, in seconds", function()
    local srv = script_server.start{ { status = 200, delay = 20, body = { "{}" } } }
    finally(function() srv:stop() end) -- also when an assertion fails
    local m = curl.multi()
    local t0 = now()
    local r = m:request{ url = srv.url .. "/", timeout = 0.3 }
    drive(m, function() return r:done() end, 8) -- a hang bound: 0.3 s taken as 300 s would trip it
    assert.is_true(now() - t0 < 8)
    assert.are.equal("timeout", (r:error()))
    m:close()
  end)

  it("gets a slow answer on a connection of its own (its socket's events reach its multi handle)", function()
    local m = curl.multi()
    server:fault{ method = "GET", path = "/messages$", fault = { delay_ms = 300 } }
    local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages", headers = { auth },
      fresh_connect = true }
    drive(m, function() return r:done() end, 5)
    assert.is_nil(r:error())
    assert.are.equal(200, r:status())
    m:close()
  end)

  it("reuses a pooled connection, unless fresh_connect asks for a new one", function()
    local m = curl.multi()
    local function connects(fresh)
      local r = m:request{ url = server.url .. "/v1/chats/" .. chat_id .. "/messages", headers = { auth },
        fresh_connect = fresh }
      drive(m, function() return r:done() end)
      assert.is_nil(r:error())
      local n = r:connects()
      assert.are.equal(n, r:info().new_connections)
      -- and runs apart, where no other transfer can join its connection
      assert.are.equal(fresh, r:info().own_connection)
      r:close()
      return n
    end
    assert.are.equal(1, connects(false))
    assert.are.equal(0, connects(false))
    assert.are.equal(1, connects(true))
    m:close()
  end)

  it("a pooled connection the server closes does not cut a later wait short", function()
    -- Between transfers a keep-alive socket stays in the multi's epoll set
    -- (transport.c, parked); once the server closes it, it is readable for
    -- good, and a wait that passed it on to libcurl would end at once.
    local srv = require("spec.support.raw_server").start({ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
      { hold = 0.05 })
    finally(function() srv:stop() end)
    local m = curl.multi()
    local r = m:request{ url = srv.url .. "/" }
    drive(m, function() return r:done() end)
    assert.is_nil(r:error())
    assert.are.equal("ok", r:body())
    r:close()
    require("socket").sleep(0.3) -- the server has closed its end
    m:step(0)
    local t0 = now()
    m:step(0.3)
    m:step(0.3)
    assert.is_true(now() - t0 >= 0.5, "steps ended early: " .. (now() - t0))
    m:close()
  end)

  it("a transfer inherits no option of an earlier one on the same multi", function()
    -- Closed transfers leave their handles to the next ones.
    local srv = script_server.start{ { status = 200, body = { "{}" } } }
    finally(function() srv:stop() end) -- also when an assertion fails
    local m = curl.multi()
    local first = m:request{ url = srv.url .. "/", method = "PUT", body = "x", max_body = 1,
      headers = { "X-First: 1" } }
    drive(m, function() return first:done() end)
    assert.are.equal("too_large", (first:error()))
    first:close()
    local r = m:request{ url = srv.url .. "/" }
    drive(m, function() return r:done() end)
    assert.is_nil(r:error())
    assert.are.equal("{}", r:body())
    local conns = srv:wait_for(2)
    assert.matches("^GET / ", conns[2].head)
    assert.is_nil(conns[2].head:find("X-First", 1, true))
    m:close()
  end)

  it("a transfer of the same shape as the last on its handle still sends only its own options", function()
    -- A closed transfer's handle keeps its options when the next one has
    -- the same shape (lrequest.c, set_options): its URL, body, headers and
    -- limits must still be its own. Each on a connection of its own
    -- (fresh_connect), so the server's log has one request per entry.
    local srv = script_server.start{ { status = 200, body = { "{}" } }, { status = 200, delay = 0.6, body = { "{}" } },
      { status = 200, body = { "{}" } } }
    finally(function() srv:stop() end) -- also when an assertion fails
    local m = curl.multi()
    local function run(opts)
      opts.fresh_connect = true
      local r = m:request(opts)
      drive(m, function() return r:done() end)
      local err = r:error()
      r:close()
      return err
    end
    assert.is_nil(run{ url = srv.url .. "/one", method = "PUT", body = "first", timeout = 0.3,
      headers = { "X-First: 1", "X-Both: a" } })
    -- Answered after 0.6 s: the first one's 0.3 s timeout must not stay.
    assert.is_nil(run{ url = srv.url .. "/two", method = "PUT", body = "2", headers = { "X-Both: b" } })
    -- No body: none of the last one's may go.
    assert.is_nil(run{ url = srv.url .. "/three", method = "PUT", headers = { "X-Third: 3" } })
    -- No headers at all: the last one's list must not stay.
    assert.is_nil(run{ url = srv.url .. "/four", method = "PUT" })
    -- A user agent (a transfer whose options have no shape), then none.
    assert.is_nil(run{ url = srv.url .. "/five", user_agent = "first-agent/1" })
    assert.is_nil(run{ url = srv.url .. "/six" })
    local conns = srv:wait_for(6)
    assert.matches("^PUT /one ", conns[1].head)
    assert.are.equal("first", conns[1].body)
    assert.matches("^PUT /two ", conns[2].head)
    assert.are.equal("2", conns[2].body)
    assert.matches("X%-Both: b", conns[2].head)
    assert.is_nil(conns[2].head:find("X-First", 1, true))
    assert.matches("^PUT /three ", conns[3].head)
    assert.are.equal("", conns[3].body)
    assert.is_nil(conns[3].head:lower():find("content-length", 1, true))
    assert.is_nil(conns[3].head:find("X-Both", 1, true))
    assert.matches("^PUT /four ", conns[4].head)
    assert.is_nil(conns[4].head:find("X-", 1, true))
    assert.matches("first%-agent/1", conns[5].head)
    assert.matches("^GET /six ", conns[6].head)
    assert.is_nil(conns[6].head:find("first-agent", 1, true))
    m:close()
  end)

  it("says connect for a refused connection, and nothing was sent", function()
    local m = curl.multi()
    local r = m:request{ url = "http://127.0.0.1:" .. mock.dead_port() .. "/" }
    drive(m, function() return r:done() end)
    assert.are.equal("connect", (r:error()))
    assert.are.equal(0, r:info().request_bytes)
    m:close()
  end)

  it("curl.wait takes at most 64 multis, naming the count", function()
    local ms = {}
    for i = 1, 65 do ms[i] = curl.multi() end
    assert.has_error(function() curl.wait(ms, 0) end, "homie: curl.wait takes at most 64 multis, got 65")
    ms[65]:close()
    ms[65] = nil
    assert.has_no.errors(function() curl.wait(ms, 0) end)
    for _, m in ipairs(ms) do m:close() end
  end)

  it("reports the libcurl version", function()
    assert.matches("^%d+%.%d+%.%d+", curl.version())
  end)
end)
