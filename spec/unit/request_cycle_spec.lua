-- The request cycle on the fake transport: no socket, virtual time.
local h = require "spec.unit.helpers"

describe("client (fake transport)", function()
  it("runs a whole conversation with no socket: create, ask with events, history, an error", function()
    local client, fake = h.client()
    local reply = h.reply("11111111-2222-4333-8444-555555555555", "Yes! Size L is in stock.")
    fake:on("POST", "/v1/chats", { status = 201, json = { id = h.CHAT, chatbotId = h.BOT,
      userId = h.BOT, organizationId = "o", createdAt = "2025-07-08T16:32:11Z" } })
    fake:on("GET", h.EVENTS, { status = 200, stream = h.reply_events(1, reply, 0.05) })
    fake:on("POST", h.MESSAGES, { status = 201, json = reply, delay = 0.1 })
    fake:on("GET", h.MESSAGES, { status = 200, json = { items = { { id = "q", type = "question", content = "L?" }, reply },
      totalItems = 2, hasNextPage = false, currentPage = 1 } })
    local chat = assert(client:create_chat{ chatbotId = h.BOT })
    assert.are.equal(h.CHAT, chat.id)
    local seen, chunks = {}, {}
    local got = assert(chat:ask("Does the blue hoodie come in size L?", { currentUrl = h.PAGE,
      on_event = function(ev)
        seen[#seen + 1] = ev.type
        if ev.type == "chunk" then chunks[#chunks + 1] = ev.data.content end
      end }))
    assert.are.equal(reply.content, got.content)
    assert.are.equal(reply.content, table.concat(chunks))
    assert.are.same({ "typing", "message", "chunk", "chunk", "typing", "message" }, seen)
    assert.are.equal("https://store.com/products/blue-hoodie", got.products[1].url)  -- uri copied
    local page = assert(chat:list_messages())
    assert.are.equal(2, page.totalItems)
    fake:on("POST", h.MESSAGES, { status = 404, json = { statusCode = 404, message = "Chat not found" },
      headers = { ["x-request-id"] = "req-9" } })
    local none, err = chat:send("x", { currentUrl = h.PAGE })
    assert.is_nil(none)
    assert.are.equal("not_found", err.kind)
    assert.are.equal("req-9", err.request_id)
    assert.are.equal(1, err.attempts)
    assert.are.equal(0, fake.open_now, "ask closed its stream")
  end)

  it("sends the key, JSON and the User-Agent through the transport's request", function()
    local client, fake = h.client{ user_agent = "shop/2" }
    fake:on("POST", "/v1/chats", { status = 201, json = { id = h.CHAT } })
    assert(client:create_chat{ chatbotId = h.BOT })
    local r = fake.log[1]
    assert.are.equal("unit-key", r.headers["x-api-key"])
    assert.are.equal("application/json", r.headers["Content-Type"])
    assert.matches("^homie%-lua/%S+ %(Lua %d%.%d; fake 1%) shop/2$", r.headers["User-Agent"])
    assert.is_false(r.idempotent)
    assert.are.same({ chatbotId = h.BOT }, require("cjson").decode(r.body))
  end)

  it("retries a read after the server's Retry-After, exactly", function()
    local client, fake = h.client()
    fake:on("GET", h.MESSAGES, { { status = 503, headers = { ["Retry-After"] = "3" } },
      { status = 200, json = { items = {} } } })
    local t0 = fake:now()
    assert(client:list_messages(h.CHAT))
    assert.are.equal(2, fake:count("^GET"))
    assert.are.equal(3, fake.log[2].at - fake.log[1].at)
    assert.are.equal(3, fake:now() - t0)
  end)

  it("backs off 0.5 s doubling (with at most a quarter of jitter) when the server names no wait", function()
    local client, fake = h.client{ max_retries = 3 }
    fake:on("GET", h.MESSAGES, { status = 500 })
    local _, err = client:list_messages(h.CHAT)
    assert.are.equal("server", err.kind)
    assert.are.equal(4, err.attempts)
    for i, base in ipairs({ 0.5, 1, 2 }) do
      local gap = fake.log[i + 1].at - fake.log[i].at
      assert.is_true(gap > base * 0.74 and gap <= base, ("gap %d was %.3f"):format(i, gap))
    end
  end)

  it("never re-sends a message the server may have seen, and retries one it provably did not", function()
    local client, fake = h.client()
    fake:on("POST", h.MESSAGES, { fail = { kind = "connection", message = "reset", sent = true, retryable = true } })
    local _, err = client:send_message(h.CHAT, "hi", { currentUrl = h.PAGE })
    assert.are.equal("connection", err.kind)
    assert.is_false(err.retryable)
    assert.are.equal(1, fake:count("^POST"))
    fake:on("POST", h.MESSAGES, { { fail = { kind = "connection", message = "refused", sent = false, retryable = true } },
      { status = 429 }, { status = 201, json = h.reply("r", "ok") } })
    assert(client:send_message(h.CHAT, "hi", { currentUrl = h.PAGE }))
    assert.are.equal(4, fake:count("^POST"))
    fake:on("POST", h.MESSAGES, { status = 500 })
    local _, e500 = client:send_message(h.CHAT, "hi", { currentUrl = h.PAGE })
    assert.are.equal(1, e500.attempts, "a 500 after a send is not retried")
  end)

  it("treats create_chat like a send: a 500 is not retried, a 503 is", function()
    local client, fake = h.client()
    fake:on("POST", "/v1/chats", { status = 500 })
    local _, err = client:create_chat{ chatbotId = h.BOT }
    assert.are.equal(1, err.attempts)
    fake:on("POST", "/v1/chats", { { status = 503 }, { status = 201, json = { id = h.CHAT } } })
    assert(client:create_chat{ chatbotId = h.BOT })
    assert.are.equal(3, fake:count("^POST /v1/chats$"))
  end)

  it("never retries a failure the transport calls final (a bad certificate)", function()
    local client, fake = h.client()
    fake:on("GET", h.MESSAGES, { fail = { kind = "connection", message = "TLS: bad cert", sent = false, retryable = false } })
    local _, err = client:list_messages(h.CHAT)
    assert.are.equal(1, fake:count("^GET"))
    assert.is_false(err.retryable)
  end)

  it("gives each attempt `timeout` seconds and the whole call `deadline`", function()
    local client, fake = h.client{ timeout = 2, max_retries = 5 }
    fake:on("GET", h.MESSAGES, { status = 200, json = {}, delay = 100 })
    local t0 = fake:now()
    local _, err = client:list_messages(h.CHAT, { deadline = 5 })
    assert.are.equal("timeout", err.kind)
    assert.are.equal(2, fake.log[1].at + 2 - t0)  -- the first attempt ended at its own timeout
    assert.is_true(fake:now() - t0 <= 5, "the deadline bounds the call")
    assert.is_true(fake:count("^GET") >= 2)
  end)

  it("keeps the key out of errors, logs and tostring", function()
    local lines = {}
    local client, fake = h.client{ api_key = "sk-secret-1", logger = function(l) lines[#lines + 1] = l end }
    fake:on("GET", h.MESSAGES, { status = 401, json = { message = "bad key sk-secret-1" },
      headers = { ["x-request-id"] = "echo-sk-secret-1" } })
    local _, err = client:list_messages(h.CHAT)
    assert.are.equal("authentication", err.kind)
    assert.is_nil(tostring(err):find("sk-secret-1", 1, true))
    assert.are.equal("echo-[redacted]", err.request_id)
    assert.is_nil(tostring(client):find("sk-secret-1", 1, true))
    assert.is_true(#lines > 0)
    for _, l in ipairs(lines) do assert.is_nil(l:find("sk-secret-1", 1, true)) end
  end)

  it("keeps the key out of the log line of a successful call too", function()
    local lines = {}
    local client, fake = h.client{ api_key = "sk-secret-2", logger = function(l) lines[#lines + 1] = l end }
    fake:on("GET", h.MESSAGES, { status = 200, json = { items = {} },
      headers = { ["x-request-id"] = "echo-sk-secret-2" } })
    assert(client:list_messages(h.CHAT))
    assert.are.equal(1, #lines)
    assert.matches("echo%-%[redacted%]", lines[1])
    assert.is_nil(lines[1]:find("sk-secret-2", 1, true))
  end)

  it("type-checks every option the same way", function()
    assert.has_error(function() h.client{ insecure = "yes" } end, "homie: insecure must be a boolean, got string")
    assert.has_error(function() h.client{ timeout = "5" } end, "homie: timeout must be a number, got string")
    assert.has_error(function() h.client{ max_body = 2 ^ 33 } end,
      "homie: max_body must be a whole number of bytes from 1 to 2^32")
    local client = h.client()
    assert.has_error(function() client:list_messages(h.CHAT, { timeout = -1 }) end)
  end)
end)
