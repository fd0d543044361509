-- README promises checked from outside: the emulator's request counts say
-- what went on the wire, the wall clock says how long a call took against
-- its configured bound (0.4-1.5x), and lifecycle tests run with the garbage
-- collector stopped, so only an explicit close can close a stream.
local homie = require "homie"
local socket = require "socket"
local limit = require "spec.support.limit"
local mock = require "spec.support.mock"
local script_server = require "spec.support.script_server"

local fx = require "spec.support.fixtures"
local BOT, PAGE, HOODIE = fx.BOT, fx.PAGE, fx.HOODIE

local SPEC_EVENTS, INTRO_EVENTS = "GET /v1/chats/:id/messages/events", "GET /v1/chats/:id/events"

local function assert_near(expected, got, what)
  assert(got >= 0.4 * expected and got <= 1.5 * expected,
    ("%s took %.3f s, expected %.3f s (0.4-1.5x)"):format(what, got, expected))
end

-- Polls (bounded) until f() is true; returns whether it became true.
local function eventually(f, seconds)
  local deadline = socket.gettime() + (seconds or 5)
  while socket.gettime() < deadline do
    if f() then return true end
    socket.sleep(0.05)
  end
  return f()
end

describe("contract", function()
  local server, client

  local function count(route) return server:stats().requests[route] or 0 end
  -- The server's own gauge of open streams reaches n (bounded wait).
  local function streams_open_becomes(n, why)
    assert.is_true(eventually(function() return server:stats().streams_open == n end), why)
  end

  setup(function() server = mock.start{} end)
  teardown(function() server:stop() end)
  before_each(function()
    server:reset()
    client = homie.new{ api_key = server.api_key, base_url = server.url }
  end)
  after_each(function() collectgarbage("restart") end)

  describe("streams", function()
    it("do not retry a 401: one request, then the error once, then the end", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      local bad = homie.new{ api_key = "not-the-key", base_url = server.url }
      local stream = bad:events(chat.id)
      local ev, err = limit.within(5, function() return stream() end, "a stream answered 401")
      assert.is_false(ev)
      assert.are.equal("authentication", err.kind)
      assert.is_nil(stream())
      socket.sleep(0.3)
      assert.are.equal(1, count(SPEC_EVENTS) + count(INTRO_EVENTS))
    end)

    it("end for good on a 204: one request", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      server:fault{ method = "GET", path = "/events$", times = 5, fault = { status = 204 } }
      local stream = chat:events()
      assert.is_nil(limit.within(5, function() return stream() end, "a stream answered 204"))
      socket.sleep(0.3)
      assert.are.equal(1, count(SPEC_EVENTS) + count(INTRO_EVENTS))
    end)

    it("remember the introduction's path for every later stream of the client", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      server:fault{ method = "GET", path = "/messages/events$", fault = { status = 404 } }
      for _ = 1, 3 do
        local stream = chat:events()
        assert.is_true(limit.within(5, function() return stream:open() end, "opening a stream"))
        stream:close()
      end
      assert.are.equal(1, count(SPEC_EVENTS))
      assert.are.equal(3, count(INTRO_EVENTS))
      -- Another client starts on the spec's path again.
      local other = homie.new{ api_key = server.api_key, base_url = server.url }
      local s = other:events(chat.id)
      assert.is_true(limit.within(5, function() return s:open() end, "opening a stream"))
      s:close()
      assert.are.equal(2, count(SPEC_EVENTS))
    end)

    it("close on :close() and on <close>, with the garbage collector stopped", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      collectgarbage("stop")
      local s = chat:events()
      assert.is_true(limit.within(5, function() return s:open() end, "opening a stream"))
      streams_open_becomes(1)
      s:close()
      streams_open_becomes(0, "the server still sees the stream after :close()")
      do
        local s2 <close> = chat:events()
        assert.is_true(limit.within(5, function() return s2:open() end, "opening a stream"))
        streams_open_becomes(1)
      end
      streams_open_becomes(0, "the server still sees the stream after leaving its <close> scope")
    end)

    it("ask closes its stream when on_event raises, with the garbage collector stopped", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      collectgarbage("stop")
      local ok, err = pcall(limit.within, 10, function()
        return chat:ask(HOODIE, { currentUrl = PAGE, on_event = function() error("stop here") end })
      end, "ask")
      assert.is_false(ok)
      assert.matches("stop here", tostring(err))
      streams_open_becomes(0, "ask left its stream open")
    end)

    it("ask closes its stream when it returns, with the garbage collector stopped", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      collectgarbage("stop")
      local reply = assert(limit.within(10, function() return chat:ask(HOODIE, { currentUrl = PAGE }) end, "ask"))
      assert.are.equal("answer", reply.type)
      streams_open_becomes(0, "ask left its stream open")
    end)
  end)

  describe("README helpers and stream positions", function()
    it("a stream without last_event_id sees only later events; last_event_id = \"0\" replays all", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      local reply = assert(chat:send(HOODIE, { currentUrl = PAGE }))
      local fresh = chat:events()
      local ev, why = limit.within(5, function() return fresh:next_event(0.5) end, "next_event(0.5)")
      fresh:close()
      assert.is_nil(ev)
      assert.are.equal("timeout", why)
      local replay = chat:events{ last_event_id = "0" }
      local evs = limit.within(5, function()
        local out = {}
        repeat
          local e = assert(replay())
          out[#out + 1] = e
        until e.type == "message" and type(e.data) == "table" and e.data.type == "answer"
        return out
      end, "replaying a chat's events")
      replay:close()
      assert.are.equal("1", evs[1].id)
      assert.are.same(reply, evs[#evs].data)
    end)

    it("stream:open() returns nil on a 204", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      server:fault{ method = "GET", path = "/events$", fault = { status = 204 } }
      local s = chat:events()
      assert.is_nil(limit.within(5, function() return s:open() end, "opening a stream answered 204"))
    end)

    it("chat:client() is the chat's client; client:close() is idempotent and later calls raise", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      assert.are.equal(client, chat:client())
      client:close()
      client:close()
      assert.has_error(function() chat:list_messages() end)
      local ok, err = pcall(chat.list_messages, chat)
      assert.is_false(ok)
      assert.matches("homie: attempt to use a closed client", tostring(err))
    end)
  end)

  describe("create_chat", function()
    it("follows the send rule: never retried once the server may have acted", function()
      for _, fault in ipairs({ { status = 500 }, { status = 502 }, { reset = "mid_body" } }) do
        server:reset()
        server:fault{ method = "POST", path = "^/v1/chats$", fault = fault }
        local chat, err = client:create_chat{ chatbotId = BOT }
        assert.is_nil(chat)
        assert.are.equal(1, err.attempts)
        assert.is_false(err.retryable)
        assert.are.equal(1, count("POST /v1/chats"))
      end
    end)

    it("is retried when the server provably did not act (429, 503)", function()
      server:fault{ method = "POST", path = "^/v1/chats$", fault = { status = 503, headers = { ["retry-after-ms"] = "10" } } }
      server:fault{ method = "POST", path = "^/v1/chats$", fault = { status = 429, headers = { ["retry-after-ms"] = "10" } } }
      assert(client:create_chat{ chatbotId = BOT })
      assert.are.equal(3, count("POST /v1/chats"))
    end)

    it("never goes out twice on a connection reset, even on a kept-alive connection", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      assert(chat:list_messages())
      server:reset()
      server:fault{ method = "POST", path = "^/v1/chats$", fault = { reset = "before_headers" } }
      local made, err = client:create_chat{ chatbotId = BOT }
      assert.is_nil(made)
      assert.are.equal("connection", err.kind)
      assert.are.equal(1, count("POST /v1/chats"))
    end)
  end)

  describe("errors", function()
    it("408 is a timeout, retried for a read", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      server:reset()
      server:fault{ method = "GET", path = "/messages$", times = 3,
        fault = { status = 408, headers = { ["retry-after-ms"] = "10" } } }
      local _, err = chat:list_messages()
      assert.are.equal("timeout", err.kind)
      assert.are.equal(408, err.status)
      assert.are.equal(3, err.attempts)
      assert.are.equal(3, count("GET /v1/chats/:id/messages"))
    end)

    it("a send's error says maybe_stored: false when refused (4xx, 429, 503), true after a 500", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      local c = homie.new{ api_key = server.api_key, base_url = server.url, max_retries = 0 }
      for status, maybe in pairs({ [400] = false, [429] = false, [503] = false, [500] = true }) do
        server:fault{ method = "POST", path = "/messages$", fault = { status = status } }
        local reply, err = c:send_message(chat.id, "hi", { currentUrl = PAGE })
        assert.is_nil(reply)
        assert.are.equal(status, err.status)
        assert.are.equal(maybe, err.maybe_stored, "after a " .. status)
      end
    end)

    it("messages() yields false, err once on failure, then ends", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      for i = 1, 2 do assert(chat:send("question " .. i, { currentUrl = PAGE })) end
      local c = homie.new{ api_key = server.api_key, base_url = server.url, max_retries = 0 }
      server:fault{ method = "GET", path = "/messages$", fault = { status = 400 } }
      local seen = {}
      for a, b in c:messages(chat.id) do seen[#seen + 1] = { a, b } end
      assert.are.equal(1, #seen)
      assert.is_false(seen[1][1])
      assert.are.equal("invalid_request", seen[1][2].kind)
      -- A failure on page 2 comes after page 1's items.
      server:fault{ method = "GET", path = "/messages$", fault = { delay_ms = 0 } }
      server:fault{ method = "GET", path = "/messages$", fault = { status = 400 } }
      seen = {}
      for a, b in c:messages(chat.id, { size = 2 }) do seen[#seen + 1] = { a, b } end
      assert.are.equal(3, #seen)
      assert.are.equal("question 1", seen[1][1].content)
      assert.are.equal("answer", seen[2][1].type)
      assert.is_false(seen[3][1])
      assert.are.equal(400, seen[3][2].status)
    end)
  end)

  describe("logging", function()
    it("HOMIE_LOG=debug writes one line per attempt to stderr, the key redacted", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      local key = server.api_key
      -- A server that echoes the key back (here in its request id) must not
      -- get it into a log line.
      server:fault{ method = "GET", path = "/messages$",
        fault = { status = 500, headers = { ["x-request-id"] = "echo-" .. key } } }
      local env = { HOMIE_LOG = "debug", HOMIE_API_KEY = key }
      local c = homie.new{ getenv = function(k) return env[k] end, base_url = server.url }
      local captured, real = {}, io.stderr
      io.stderr = { write = function(self, ...)  -- luacheck: ignore 122 (captured, then restored)
        for _, s in ipairs({ ... }) do captured[#captured + 1] = s end
        return self
      end }
      local ok, err = pcall(c.list_messages, c, chat.id)
      io.stderr = real  -- luacheck: ignore 122
      assert(ok, err)
      local text = table.concat(captured)
      local lines = {}
      for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(2, #lines, text)
      assert.matches("%-> 500 .-%[request id echo%-%[redacted%]%] attempt 1: retrying", lines[1])
      assert.matches("%-> 200 .- attempt 2", lines[2])
      assert.is_nil(text:find(key, 1, true))
    end)
  end)

  describe("time bounds", function()
    it("timeout bounds one attempt", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      local c = homie.new{ api_key = server.api_key, base_url = server.url, timeout = 0.5, max_retries = 0 }
      server:fault{ method = "GET", path = "/messages$", fault = { stall = true } }
      local t0 = socket.gettime()
      local _, err = limit.within(5, function() return c:list_messages(chat.id) end, "a stalled read")
      assert.are.equal("timeout", err.kind)
      assert_near(0.5, socket.gettime() - t0, "a stalled read with timeout 0.5")
    end)

    it("deadline bounds a call with its retries", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      server:fault{ method = "GET", path = "/messages$", times = 6, fault = { stall = true } }
      local t0 = socket.gettime()
      local _, err = limit.within(5, function()
        return chat:list_messages{ deadline = 0.7, timeout = 30, max_retries = 5 }
      end, "a stalled read with a deadline")
      assert.are.equal("timeout", err.kind)
      assert_near(0.7, socket.gettime() - t0, "a stalled read with deadline 0.7")
      server:reset()
    end)
  end)
end)

describe("contract without a server", function()
  it("an api_key with CR or LF raises, naming it", function()
    for _, bad in ipairs({ "key\r\nX-Evil: 1", "key\nx", "key\rx" }) do
      assert.has_error(function() homie.new{ api_key = bad, base_url = "http://127.0.0.1:9" } end,
        "homie: api_key must not contain CR, LF or NUL")
    end
  end)

  it("a product with only uri also gets url, in replies and in history", function()
    local product = '{"designation":"Blue Hoodie","uri":"https://store.com/products/blue-hoodie"}'
    local msg = '{"id":"m1","chatId":"' .. BOT .. '","type":"answer","content":"ok","createdAt":"t","products":[' .. product .. ']}'
    local srv = script_server.start{
      { status = 201, body = { msg } },
      { status = 200, body = { '{"items":[' .. msg .. '],"totalItems":1,"hasNextPage":false}' } },
    }
    local c = homie.new{ api_key = "k", base_url = srv.url, max_retries = 0 }
    local reply = assert(c:send_message(BOT, "hi", { currentUrl = PAGE }))
    local page = assert(c:list_messages(BOT))
    srv:stop()
    assert.are.equal("https://store.com/products/blue-hoodie", reply.products[1].url)
    assert.are.equal("https://store.com/products/blue-hoodie", reply.products[1].uri)
    assert.are.equal("https://store.com/products/blue-hoodie", page.items[1].products[1].url)
  end)
end)
