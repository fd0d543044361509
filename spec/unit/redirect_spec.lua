-- Redirects, on the fake transport: reads and streams follow 301/302/303/
-- 307/308 up to 5 hops; another origin never gets the key; https never goes
-- down to http; a send or a chat creation never follows one.
local h = require "spec.unit.helpers"

local function moved(status, to) return { status = status, headers = { location = to }, body = "" } end

describe("redirects", function()
  it("a read follows every redirect status to the same origin, keeping the key", function()
    for _, status in ipairs({ 301, 302, 303, 307, 308 }) do
      local client, fake = h.client()
      fake:on("GET", h.MESSAGES, moved(status, "/v2" .. h.MESSAGES))
      fake:on("GET", "/v2" .. h.MESSAGES, { status = 200, json = { items = {}, totalItems = 0 } })
      local page = assert(client:list_messages(h.CHAT))
      assert.are.equal(0, page.totalItems)
      assert.are.equal("unit-key", fake.log[2].headers["x-api-key"], "status " .. status)
    end
  end)

  it("another origin gets no x-api-key and no Authorization", function()
    for _, auth in ipairs({ "x-api-key", "bearer" }) do
      local client, fake = h.client{ auth = auth }
      fake:on("GET", h.MESSAGES, moved(302, "http://elsewhere.test/m"))
      fake:on("GET", "/m", { status = 200, json = { items = {} } })
      assert(client:list_messages(h.CHAT))
      assert.is_nil(fake.log[2].headers["x-api-key"])
      assert.is_nil(fake.log[2].headers["Authorization"])
      assert.is_truthy(fake.log[2].headers["User-Agent"])
    end
  end)

  it("stops after 5 hops with a protocol error", function()
    local client, fake = h.client{ max_retries = 0 }
    fake:on("GET", h.MESSAGES, moved(307, h.MESSAGES))
    local _, err = client:list_messages(h.CHAT)
    assert.are.equal("protocol", err.kind)
    assert.matches("more than 5 redirects", err.message)
    assert.are.equal(6, fake:count("^GET"))
  end)

  it("refuses https to http", function()
    local fake = require("spec.support.fake_transport").new()
    local client = require("homie").new{ api_key = "k", base_url = "https://fake.test", transport = fake }
    fake:on("GET", h.MESSAGES, moved(301, "http://fake.test/x"))
    local _, err = client:list_messages(h.CHAT)
    assert.are.equal("protocol", err.kind)
    assert.matches("https to http refused", err.message)
    assert.are.equal(1, fake:count("^GET"))
  end)

  it("a send never follows a redirect: it fails with the status and the Location", function()
    local client, fake = h.client()
    fake:on("POST", h.MESSAGES, moved(307, "/elsewhere"))
    local _, err = client:send_message(h.CHAT, "L?", { currentUrl = h.PAGE })
    assert.are.equal(307, err.status)
    assert.are.equal("/elsewhere", err.location)
    assert.are.equal(1, #fake.log)
    client, fake = h.client()
    fake:on("POST", "/v1/chats", moved(308, "/v2/chats"))
    _, err = client:create_chat{ chatbotId = h.BOT }
    assert.are.equal(308, err.status)
    assert.are.equal("/v2/chats", err.location)
    assert.are.equal(1, #fake.log)
  end)

  it("a stream follows a redirect and reads the events there", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, moved(307, "http://other.test/ev"))
    fake:on("GET", "/ev", { status = 200, stream = { h.sse(7, "chunk", { content = "hi" }) } })
    local stream = client:events(h.CHAT)
    local ev = assert(stream:next_event(5))
    assert.are.equal("7", ev.id)
    assert.are.equal("hi", ev.data.content)
    assert.is_nil(fake.log[2].headers["x-api-key"], "another origin: no key")
    stream:close()
  end)
end)

describe("stream ids as an EventSource reports them", function()
  it("an event without id: after a reconnect carries the last id, and Last-Event-ID is sent", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, {
      { status = 200, stream = { "id: 5\ndata: a\n\n" } },
      { status = 200, stream = { "data: b\n\n", "id:\ndata: c\n\n", "data: d\n\n" } },
      { status = 200, stream = { { stall = true } } },
    })
    local stream = client:events(h.CHAT, { reconnect_delay = 0.25 })
    local t0 = fake:now()
    assert.are.equal("5", assert(stream:next_event(10)).id)
    local b = assert(stream:next_event(10))
    assert.are.equal("b", b.raw)
    assert.are.equal("5", b.id)
    assert.is_true(fake:now() - t0 >= 0.25 * 0.75 and fake:now() - t0 <= 0.25, "the first reconnect waits reconnect_delay")
    assert.are.equal("5", fake.log[2].headers["Last-Event-ID"])
    assert.are.equal("", assert(stream:next_event(10)).id)
    assert.are.equal("", assert(stream:next_event(10)).id, "reset persists")
    stream:next_event(1)
    assert.is_nil(fake.log[3].headers["Last-Event-ID"], "after a reset none is sent")
    stream:close()
  end)

  it("restart reconnects at once with the last id", function()
    local client, fake = h.client()
    fake:on("GET", h.EVENTS, { status = 200, stream = { "id: 9\ndata: a\n\n", { stall = true } } })
    local stream = client:events(h.CHAT)
    assert(stream:next_event(1))
    stream:restart()
    local t0 = fake:now()
    assert(stream:next_event(1))
    assert.are.equal(0, fake:now() - t0)
    assert.are.equal(2, fake:count("^GET"))
    assert.are.equal("9", fake.log[2].headers["Last-Event-ID"])
    stream:close()
  end)
end)

describe("a stream retries what may pass", function()
  for _, status in ipairs({ 408, 409, 429, 500, 502, 503, 504 }) do
    it("a " .. status .. " is tried again, then the events flow", function()
      local client, fake = h.client()
      fake:on("GET", h.EVENTS, { { status = status, json = {} },
        { status = 200, stream = { "id: 1\ndata: a\n\n", { stall = true } } } })
      local stream = client:events(h.CHAT)
      local ev = assert(stream:next_event(60))
      assert.are.equal("a", ev.raw)
      assert.are.equal(2, fake:count("^GET"))
      stream:close()
    end)
  end
  for _, status in ipairs({ 400, 401, 403, 422 }) do
    it("a " .. status .. " ends the stream at once", function()
      local client, fake = h.client()
      fake:on("GET", h.EVENTS, { status = status, json = {} })
      local ok, err = client:events(h.CHAT):next_event(60)
      assert.is_false(ok)
      assert.are.equal(status, err.status)
      assert.are.equal(1, fake:count("^GET"))
    end)
  end
end)

describe("client:stream", function()
  it("sends the stream's extra headers, and the key only to the client's own origin", function()
    local client, fake = h.client()
    fake:on("GET", "/feed", { status = 200, stream = { "data: a\n\n", { stall = true } } })
    local stream = client:stream("http://other.test/feed", { headers = { ["X-Shop"] = "blue" } })
    assert.are.equal("a", assert(stream:next_event(1)).raw)
    assert.are.equal("blue", fake.log[1].headers["X-Shop"])
    assert.is_nil(fake.log[1].headers["x-api-key"])
    stream:close()
    stream = client:stream("http://fake.test/feed")
    assert(stream:next_event(1))
    assert.are.equal("unit-key", fake.log[2].headers["x-api-key"])
    stream:close()
  end)
end)
