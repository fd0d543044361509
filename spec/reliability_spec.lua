-- Retries, timeouts, limits, logging and TLS against an emulator that
-- misbehaves on command (its /__mock/faults control API).
local homie = require "homie"
local sse = require "homie.sse"
local mock = require "spec.support.mock"

local fx = require "spec.support.fixtures"
local BOT, PAGE = fx.BOT, fx.PAGE
local KEY = "homie-test-key"

describe("reliability", function()
  local server, chat, lines

  local function new_client(opts)
    opts = opts or {}
    opts.api_key = opts.api_key or KEY
    opts.base_url = server.url
    opts.logger = function(line) lines[#lines + 1] = line end
    return homie.new(opts)
  end

  local function received() return server:stats().messages_received end

  setup(function() server = mock.start{} end)
  teardown(function() server:stop() end)
  before_each(function()
    lines = {}
    server:reset()
    chat = assert(new_client():create_chat{ chatbotId = BOT })
    lines = {}
  end)

  it("retries a 503 on a message send after Retry-After and stores it once", function()
    local c = new_client()
    server:fault{ method = "POST", path = "/messages$", fault = { status = 503, headers = { ["Retry-After"] = "1" } } }
    local before = received()
    local t0 = sse.now()
    local reply, err = c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
    assert.is_nil(err)
    assert.are.equal("answer", reply.type)
    assert.is_true(sse.now() - t0 >= 0.9, "waited for Retry-After")
    assert.are.equal(before + 1, received())
    assert.matches("retrying in 1%.00 s", lines[1])
  end)

  it("never retries a message send the application may have acted on", function()
    local c = new_client()
    for _, fault in ipairs({ { status = 500 }, { status = 502 }, { reset = "mid_body" }, { truncate = true } }) do
      local before = received()
      server:fault{ method = "POST", path = "/messages$", fault = fault }
      local reply, err = c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
      assert.is_nil(reply)
      assert.are.equal(1, err.attempts)
      assert.is_false(err.retryable)
      assert.is_true(received() <= before + 1)
    end
    assert.are.equal(0, server:stats().faults_pending)
  end)

  it("a connection reset before the answer is reported, never re-sent", function()
    -- The client has a kept-alive connection: on such a connection libcurl
    -- would silently re-send a request the server closed on. Message sends
    -- therefore take a new connection, so the reset reaches the caller.
    local c = new_client()
    assert(c:list_messages(chat.id))
    local before = received()
    server:fault{ method = "POST", path = "/messages$", fault = { reset = "before_headers" } }
    local reply, err = c:send_message(chat.id, "hoodie?", { currentUrl = PAGE })
    assert.is_nil(reply)
    assert.are.equal("connection", err.kind)
    assert.are.equal(1, err.attempts)
    assert.are.equal(before, received())
    assert.are.equal(1, server:stats().requests["POST /v1/chats/:id/messages"])
  end)

  it("retries idempotent reads through 502, resets and cut bodies", function()
    local c = new_client()
    server:fault{ method = "GET", path = "/messages$", times = 2, fault = { status = 502 } }
    assert(c:list_messages(chat.id))
    server:fault{ method = "GET", path = "/messages$", fault = { reset = "mid_body" } }
    assert(c:list_messages(chat.id))
    server:fault{ method = "GET", path = "/messages$", fault = { reset = "before_headers" } }
    assert(new_client():list_messages(chat.id))
    local n = 0
    for _, l in ipairs(lines) do if l:find("retrying", 1, true) then n = n + 1 end end
    assert.are.equal(4, n)
  end)

  it("gives up after max_retries and reports the attempts", function()
    local c = new_client{ max_retries = 1 }
    server:fault{ method = "GET", path = "/messages$", times = 3, fault = { status = 503, headers = { ["retry-after-ms"] = "10" } } }
    local _, err = c:list_messages(chat.id)
    assert.are.equal("server", err.kind)
    assert.are.equal(503, err.status)
    assert.are.equal(2, err.attempts)
    assert.is_true(err.retryable)
    assert.matches("after 2 attempts", tostring(err))
    server:reset()
  end)

  it("429 is a rate_limit error retried even for a message send", function()
    local c = new_client{ max_retries = 0 }
    server:fault{ method = "POST", path = "/messages$", fault = { status = 429, headers = { ["Retry-After"] = "0" } } }
    local _, err = c:send_message(chat.id, "hi", { currentUrl = PAGE })
    assert.are.equal("rate_limit", err.kind)
    assert.is_true(err.retryable)
    server:fault{ method = "POST", path = "/messages$", fault = { status = 429, headers = { ["Retry-After"] = "0" } } }
    assert(new_client():send_message(chat.id, "hi", { currentUrl = PAGE }))
  end)

  it("a server that never answers ends in a timeout at the configured time", function()
    local c = new_client{ timeout = 0.5, max_retries = 0 }
    server:fault{ method = "GET", path = "/messages$", fault = { stall = true } }
    local t0 = sse.now()
    local _, err = c:list_messages(chat.id)
    assert.are.equal("timeout", err.kind)
    assert.is_true(sse.now() - t0 < 10)
  end)

  it("deadline bounds a call including its retries", function()
    local c = new_client{ timeout = 30, max_retries = 5 }
    server:fault{ method = "GET", path = "/messages$", times = 6, fault = { stall = true } }
    local t0 = sse.now()
    local _, err = c:list_messages(chat.id, { deadline = 0.7 })
    assert.are.equal("timeout", err.kind)
    assert.is_true(sse.now() - t0 < 10)
    server:reset()
  end)

  it("malformed and truncated JSON are protocol errors; slow drips still arrive", function()
    local c = new_client{ max_retries = 0 }
    server:fault{ method = "GET", path = "/messages$", fault = { malformed = true } }
    local _, err = c:list_messages(chat.id)
    assert.are.equal("protocol", err.kind)
    assert.are.equal(200, err.status)
    server:fault{ method = "GET", path = "/messages$", fault = { drip_ms = 5 } }
    assert(c:list_messages(chat.id))
    server:fault{ method = "GET", path = "/messages$", fault = { delay_ms = 200 } }
    assert(c:list_messages(chat.id))
  end)

  it("a body over max_body is a clean protocol error and the client stays usable", function()
    local c = new_client{ max_body = 64 }
    local _, err = c:list_messages(chat.id)
    assert.are.equal("protocol", err.kind)
    assert.matches("max_body", err.message)
    assert.are.equal(1, err.attempts)
    local big = new_client()
    assert(big:list_messages(chat.id))
    c.max_body = 1e6
    assert(c:list_messages(chat.id))
  end)

  it("logs each attempt with the request id, and never the key", function()
    local c = new_client{ api_key = KEY, max_retries = 1 }
    server:fault{ method = "GET", path = "/messages$", fault = { status = 500 } }
    assert(c:list_messages(chat.id))
    assert.are.equal(2, #lines)
    assert.matches("GET /v1/chats/.-/messages %-> 500 .- attempt 1: retrying", lines[1])
    assert.matches("GET /v1/chats/.-/messages %-> 200 in %d+ ms %[request id %S+%] attempt 2", lines[2])
    local env = { HOMIE_LOG = "debug", HOMIE_API_KEY = KEY }
    local dbg = homie.new{ getenv = function(k) return env[k] end, base_url = server.url }
    assert.is_function(dbg.logger)
  end)

  it("the key never appears in errors, tostring or logs", function()
    local secret = "sk-live-very-secret-123"
    server:fault{ method = "GET", path = "/messages$", fault = { status = 500, body = { message = "bad key " .. secret } } }
    local c = homie.new{ api_key = secret, base_url = server.url, max_retries = 0,
      logger = function(l) lines[#lines + 1] = l end }
    local _, err = c:list_messages(chat.id)
    local outputs = { tostring(err), err.message, tostring(c), table.concat(lines, "\n") }
    local ok, raised = pcall(homie.new, { api_key = secret, timeout = "soon" })
    assert.is_false(ok)
    outputs[#outputs + 1] = raised
    outputs[#outputs + 1] = debug.traceback()
    for _, o in ipairs(outputs) do assert.is_nil(o:find(secret, 1, true), o) end
    assert.matches("%[redacted%]", err.message)
  end)
end)

describe("TLS", function()
  local dir, server

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    assert(os.execute(("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      .. "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s/cert.pem 2>/dev/null"):format(dir, dir)))
    server = mock.start{ tls_cert = dir .. "/cert.pem", tls_key = dir .. "/key.pem" }
  end)
  teardown(function()
    server:stop()
    os.execute("rm -rf " .. dir)
  end)

  it("refuses an unknown certificate by default, without retrying", function()
    local c = homie.new{ api_key = KEY, base_url = server.url }
    local _, err = c:create_chat{ chatbotId = BOT }
    assert.are.equal("connection", err.kind)
    assert.matches("TLS", err.message)
    assert.are.equal(1, err.attempts)
  end)

  it("an event stream gives up on a bad certificate at once", function()
    local c = homie.new{ api_key = KEY, base_url = server.url }
    local stream = c:events(BOT)
    local ev, err = stream()
    assert.is_false(ev)
    assert.are.equal("connection", err.kind)
    assert.matches("TLS", err.message)
    assert.are.equal(0, stream.reconnects)
  end)

  it("trusts it with ca_file, or with insecure named", function()
    local c = homie.new{ api_key = KEY, base_url = server.url, ca_file = dir .. "/cert.pem" }
    assert(c:create_chat{ chatbotId = BOT })
    local i = homie.new{ api_key = KEY, base_url = server.url, insecure = true }
    assert(i:create_chat{ chatbotId = BOT })
  end)
end)
