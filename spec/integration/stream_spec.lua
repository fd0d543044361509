-- Event streams, resumption, gather and ask, over real sockets.
local homie = require "homie"
local sse = require "homie.sse"
local sleep = require("socket").sleep
local mock = require "spec.support.mock"

local fx = require "spec.support.fixtures"
local BOT, PAGE, HOODIE = fx.BOT, fx.PAGE, fx.HOODIE

-- Reads events until the final `message` event; returns them all.
local function until_final(stream, limit)
  local evs = {}
  local deadline = sse.now() + (limit or 15)
  while sse.now() < deadline do
    local ev, err = stream:next_event(math.max(0, deadline - sse.now()))
    assert(ev, tostring(err))
    evs[#evs + 1] = ev
    if ev.type == "message" and type(ev.data) == "table" and ev.data.type == "answer" then return evs end
  end
  error("no final message event in time")
end

local function check_reply_events(evs, reply)
  assert.are.equal("typing", evs[1].type)
  assert.is_true(evs[1].data.typing)
  local text, tools, last_id = {}, 0, 0
  for _, ev in ipairs(evs) do
    local id = tonumber(ev.id)
    assert.are.equal(last_id + 1, id, "ids go up by one with nothing lost or repeated")
    last_id = id
    if ev.type == "chunk" then text[#text + 1] = ev.data.content end
    if ev.type == "message" and ev.data.toolName then tools = tools + 1 end
  end
  assert.is_true(tools >= 2)
  local final = evs[#evs]
  assert.are.equal("typing", evs[#evs - 1].type)
  assert.is_false(evs[#evs - 1].data.typing)
  assert.are.equal(table.concat(text), final.data.content)
  if reply then assert.are.same(reply, final.data) end
  assert.is_string(final.raw)
end

describe("event streams", function()
  local server, client, chat

  setup(function() server = mock.start{ heartbeat = 1 } end)
  teardown(function() server:stop() end)
  before_each(function()
    server:reset()
    client = homie.new{ api_key = server.api_key, base_url = server.url, max_retries = 0 }
    chat = assert(client:create_chat{ chatbotId = BOT })
  end)

  it("delivers the whole vocabulary of one reply, in order", function()
    local stream = chat:events()
    assert.is_true(stream:open())
    local reply = assert(chat:send(HOODIE, { currentUrl = PAGE }))
    local evs = until_final(stream)
    check_reply_events(evs, reply)
    stream:close()
    assert.is_nil(stream:next_event())
  end)

  it("works as a generic for iterator and closes with <close>", function()
    local got = 0
    do
      local stream <close> = chat:events()
      assert(stream:open())
      assert(chat:send("hoodie", { currentUrl = PAGE }))
      for ev, err in stream do
        assert.is_nil(err)
        got = got + 1
        if ev.type == "message" and ev.data.type == "answer" then break end
      end
    end
    assert.is_true(got >= 5)
    -- The server notices the closed connection within moments.
    local deadline = sse.now() + 5
    while (server:stats().streams_open or 0) > 0 and sse.now() < deadline do sleep(0.05) end
    assert.are.equal(0, server:stats().streams_open or 0)
  end)

  it("resumes after a cut with Last-Event-ID: nothing lost, nothing twice", function()
    server:fault{ method = "GET", path = "/events$", fault = { cut_after = 3 } }
    local stream = chat:events()
    assert(stream:open())
    local reply = assert(chat:send(HOODIE, { currentUrl = PAGE }))
    local evs = until_final(stream)
    check_reply_events(evs, reply)
    assert.is_true(stream.reconnects >= 1)
    stream:close()
  end)

  it("replays from last_event_id", function()
    local s1 = chat:events()
    assert(s1:open())
    assert(chat:send(HOODIE, { currentUrl = PAGE }))
    local first = until_final(s1)
    s1:close()
    local s2 = chat:events{ last_event_id = first[2].id }
    local ev = assert(s2:next_event(5))
    assert.are.equal(tonumber(first[3].id), tonumber(ev.id))
    s2:close()
  end)

  it("reconnects when the stream goes silent past idle_timeout", function()
    server:fault{ method = "GET", path = "/events$", fault = { stall_stream = true } }
    local stream = chat:events{ idle_timeout = 0.5 }
    assert(stream:open())
    assert(chat:send(HOODIE, { currentUrl = PAGE }))
    local evs = until_final(stream)
    assert.is_true(stream.reconnects >= 1)
    assert.are.equal("answer", evs[#evs].data.type)
    stream:close()
  end)

  it("falls back once to the introduction's path on a 404", function()
    server:fault{ method = "GET", path = "/messages/events$", fault = { status = 404 } }
    local stream = chat:events()
    assert(stream:open())
    assert(chat:send(HOODIE, { currentUrl = PAGE }))
    check_reply_events(until_final(stream))
    stream:close()
    assert.is_true((server:stats().requests["GET /v1/chats/:id/events"] or 0) >= 1)
    -- Remembered by the client: its next stream goes straight there.
    local spec_path = server:stats().requests["GET /v1/chats/:id/messages/events"]
    local again = chat:events()
    assert(again:open())
    again:close()
    assert.are.equal(spec_path, server:stats().requests["GET /v1/chats/:id/messages/events"])
  end)

  it("an unknown chat is not_found on both paths, and the client stays on the spec's", function()
    local stream = client:events("00000000-0000-4000-8000-000000000000")
    local ev, err = stream()
    assert.is_false(ev)
    assert.are.equal("not_found", err.kind)
    assert.are.equal(1, server:stats().requests["GET /v1/chats/:id/events"])
    -- Not remembered: the next stream starts on the spec's path again.
    local again = client:events("00000000-0000-4000-8000-000000000000")
    again()
    assert.are.equal(2, server:stats().requests["GET /v1/chats/:id/messages/events"])
  end)

  it("does not retry 401 and ends after reporting it once", function()
    local bad = homie.new{ api_key = "nope", base_url = server.url }
    local stream = bad:events(chat.id)
    local ev, err = stream()
    assert.is_false(ev)
    assert.are.equal("authentication", err.kind)
    assert.is_nil(stream())
  end)

  it("stops for good on a 204", function()
    server:fault{ method = "GET", path = "/events$", fault = { status = 204 } }
    local stream = chat:events()
    assert.is_nil(stream())
  end)

  it("retries a 503 and a wrong content type is a protocol error", function()
    server:fault{ method = "GET", path = "/events$", fault = { status = 503, headers = { ["Retry-After"] = "0" } } }
    local stream = chat:events()
    assert.is_true(stream:open())
    assert.are.equal(1, stream.reconnects)
    stream:close()
    server:fault{ method = "GET", path = "/events$", fault = { status = 200, body = { ok = true } } }
    local s2 = chat:events()
    local ev, err = s2()
    assert.is_false(ev)
    assert.are.equal("protocol", err.kind)
    assert.matches("text/event%-stream", err.message)
  end)

  it("a wait before reconnecting honours the caller's deadline without hammering", function()
    server:fault{ method = "GET", path = "/events$", fault = { status = 503, headers = { ["Retry-After"] = "1" } } }
    local stream = chat:events()
    local t0 = sse.now()
    local ev, why = stream:next_event(0.2)
    assert.is_nil(ev)
    assert.are.equal("timeout", why)
    assert.is_true(sse.now() - t0 < 0.9)
    for _ = 1, 3 do assert.are.equal("timeout", select(2, stream:next_event(0.05))) end
    assert.are.equal(1, server:stats().requests["GET /v1/chats/:id/messages/events"])
    assert.is_true(stream:open(5))
    assert.are.equal(2, server:stats().requests["GET /v1/chats/:id/messages/events"])
    stream:close()
  end)

  it("gives up after max_reconnects consecutive failures", function()
    server:fault{ method = "GET", path = "/events$", times = 5,
      fault = { status = 503, headers = { ["Retry-After"] = "0" } } }
    local stream = chat:events{ max_reconnects = 2 }
    local ev, err = stream()
    assert.is_false(ev)
    assert.are.equal("server", err.kind)
    assert.are.equal(503, err.status)
    assert.are.equal(3, stream.reconnects)
    assert.is_nil(stream())
    server:reset()
  end)

  it("reports the server's heartbeat comments to on_comment, as sent after the colon", function()
    local comments = {}
    local stream = chat:events{ on_comment = function(text) comments[#comments + 1] = text end }
    assert(stream:open())
    local deadline = sse.now() + 15
    while #comments == 0 and sse.now() < deadline do
      assert.is_nil(stream:next_event(0.5))
    end
    assert.are.equal(" ping", comments[1])
    stream:close()
  end)

  it("skips garbage lines and keeps going", function()
    server:fault{ method = "GET", path = "/events$", fault = { garbage = true } }
    local stream = chat:events()
    assert(stream:open())
    assert(chat:send(HOODIE, { currentUrl = PAGE }))
    local evs = until_final(stream)
    assert.are.equal("answer", evs[#evs].data.type)
    stream:close()
  end)

  it("reports an event over max_event_bytes after delivering the ones before", function()
    local stream = chat:events{ max_event_bytes = 200 }
    assert(stream:open())
    assert(chat:send(HOODIE, { currentUrl = PAGE }))
    local kinds, err = {}, nil
    for ev, e in stream do
      if not ev then err = e break end
      kinds[#kinds + 1] = ev.type
    end
    assert.are.equal("protocol", err.kind)
    assert.matches("200", err.message)
    assert.are.equal("typing", kinds[1])
  end)
end)

describe("gather and ask", function()
  local server, client

  setup(function() server = mock.start{ chunk_delay_ms = 20 } end)
  teardown(function() server:stop() end)
  before_each(function()
    client = homie.new{ api_key = server.api_key, base_url = server.url }
  end)

  it("runs several conversations at once and returns each task's results", function()
    local tasks = {}
    for i = 1, 4 do
      tasks[i] = function()
        local chat = assert(client:create_chat{ chatbotId = BOT })
        local reply, err = chat:send("hoodie " .. i, { currentUrl = PAGE })
        return reply and reply.chatId == chat.id, err, i
      end
    end
    local results = client:gather(tasks)
    assert.are.equal(4, #results)
    for i, r in ipairs(results) do
      assert.is_true(r[1])
      assert.are.equal(i, r[3])
      assert.are.equal(3, r.n)
    end
  end)

  it("overlaps the waits: paced replies in parallel beat the same replies in series", function()
    local function one()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      return assert(chat:send(HOODIE, { currentUrl = PAGE }))
    end
    local t0 = sse.now()
    one()
    local single = sse.now() - t0
    t0 = sse.now()
    client:gather({ one, one, one, one })
    local four = sse.now() - t0
    -- Each reply is paced by the server; in series four would take 4x.
    assert.is_true(four < single * 3, ("4 parallel %.3fs vs 1 alone %.3fs"):format(four, single))
  end)

  it("drives the transfers of other clients used inside its tasks", function()
    local other = homie.new{ api_key = server.api_key, base_url = server.url }
    local results = client:gather({
      function() return other:create_chat{ chatbotId = BOT } end,
      function() return client:create_chat{ chatbotId = BOT } end,
    })
    assert.is_string(results[1][1].id)
    assert.is_string(results[2][1].id)
  end)

  it("raises when a task raises", function()
    assert.has_error(function() client:gather({ function() error("boom") end }) end)
  end)

  it("ask streams the reply live and returns the POST's reply", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    local evs, text = {}, {}
    local reply, err = chat:ask(HOODIE, { currentUrl = PAGE, on_event = function(ev)
      evs[#evs + 1] = ev
      if ev.type == "chunk" then text[#text + 1] = ev.data.content end
    end })
    assert.is_nil(err)
    assert.are.equal(reply.content, table.concat(text))
    check_reply_events(evs, reply)
  end)

  it("ask closes its stream when on_event raises, and raises", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    assert.has_error(function()
      chat:ask(HOODIE, { currentUrl = PAGE, on_event = function() error("stop here") end })
    end)
    local deadline = sse.now() + 5
    while (server:stats().streams_open or 0) > 0 and sse.now() < deadline do sleep(0.05) end
    assert.are.equal(0, server:stats().streams_open)
  end)

  it("ask returns the send's error when the send fails", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    server:fault{ method = "POST", path = "/messages$", fault = { status = 400 } }
    local reply, err = chat:ask("hi", { currentUrl = PAGE })
    assert.is_nil(reply)
    assert.are.equal("invalid_request", err.kind)
  end)
end)
