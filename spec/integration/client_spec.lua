-- The REST surface over real sockets against the emulator.
local homie = require "homie"
local mock = require "spec.support.mock"

local fx = require "spec.support.fixtures"
local BOT, USER, HOODIE, PAGE = fx.BOT, fx.USER, fx.HOODIE, fx.PAGE

describe("client against the emulator", function()
  local server, client

  setup(function()
    server = mock.start{ api_keys = { "homie-test-key", "other-key" } }
  end)
  teardown(function() server:stop() end)
  before_each(function()
    client = homie.new{ api_key = "homie-test-key", base_url = server.url, max_retries = 0 }
  end)

  it("creates a chat with every ChatDto field and methods", function()
    local chat, err = client:create_chat{ chatbotId = BOT, userId = USER }
    assert.is_nil(err)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", chat.id)
    assert.are.equal(BOT, chat.chatbotId)
    assert.are.equal(USER, chat.userId)
    assert.is_string(chat.organizationId)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", chat.createdAt)
    assert.is_function(chat.send)
  end)

  it("answers the hoodie question with the blue hoodie among the products", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    local reply, err = chat:send(HOODIE, { currentUrl = PAGE })
    assert.is_nil(err)
    assert.are.equal("answer", reply.type)
    assert.are.equal(chat.id, reply.chatId)
    assert.matches("Size L", reply.content)
    local found
    for _, p in ipairs(reply.products) do
      if p.designation:find("Blue Hoodie", 1, true) then found = p end
    end
    assert.is_table(found)
    assert.is_number(found.price)
    assert.is_string(found.url)
    assert.is_table(found.availability)
    if math.type then assert.are.equal("integer", math.type(found.availability.quantity)) end
  end)

  it("sends the store query parameter, encoded", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    local reply = assert(client:send_message(chat.id, "jeans?", { currentUrl = PAGE, store = "store 1&x=y" }))
    assert.are.equal("answer", reply.type)
  end)

  it("lists history in pages and iterates across them lazily", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    for i = 1, 3 do assert(chat:send("question " .. i .. " about hoodies", { currentUrl = PAGE })) end
    local page = assert(chat:list_messages{ page = 1, size = 4 })
    assert.are.equal(6, page.totalItems)
    assert.are.equal(2, page.totalPages)
    assert.is_true(page.hasNextPage)
    assert.are.equal(2, page.nextPage)
    assert.is_nil(page.prevPage)
    assert.are.equal(4, #page.items)
    local seen = {}
    for msg, e in chat:messages{ size = 2 } do
      assert.is_nil(e)
      seen[#seen + 1] = msg
    end
    assert.are.equal(6, #seen)
    assert.are.equal("question 1 about hoodies", seen[1].content)
    assert.are.equal("answer", seen[6].type)
  end)

  it("a client:chat handle works without a request", function()
    local made = assert(client:create_chat{ chatbotId = BOT })
    local before = server:stats().requests
    local chat = client:chat(made.id)
    assert.are.same(before, server:stats().requests)
    assert(chat:send("hoodie?", { currentUrl = PAGE }))
  end)

  it("authenticates with a bearer token too", function()
    local c = homie.new{ api_key = "homie-test-key", base_url = server.url, auth = "bearer" }
    assert(c:create_chat{ chatbotId = BOT })
  end)

  it("reuses one connection for 20 sequential calls", function()
    local chat = assert(client:create_chat{ chatbotId = BOT })
    local conns, seen = {}, 0
    local function note(info)
      conns[info.headers["x-homie-mock-connection"]] = true
      seen = seen + 1
      assert.are.equal(200, info.status)
      assert.are.equal(1, info.attempts)
    end
    for _ = 1, 20 do assert(client:list_messages(chat.id, { on_response = note })) end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.are.equal(20, seen)
    assert.are.equal(1, n)
  end)

  -- A send goes on a fresh connection (never replayed) and closes it after:
  -- kept, every send's connection idled in libcurl's cache (1,000
  -- concurrent asks left 970 sockets open).
  it("leaves no connection open behind 20 concurrent sends", function()
    local port = tonumber(server.url:match(":(%d+)"))
    -- Established connections to the emulator, as the kernel lists them.
    local function connected()
      local n = 0
      for line in io.lines("/proc/net/tcp") do
        local rem, st = line:match("^%s*%d+: %x+:%x+ %x+:(%x+) (%x+)")
        if rem and tonumber(rem, 16) == port and st == "01" then n = n + 1 end
      end
      return n
    end
    local c = homie.new{ api_key = server.api_key, base_url = server.url }
    local chat = assert(c:create_chat{ chatbotId = BOT })
    assert(chat:list_messages())  -- the reads' one keep-alive connection
    local before = connected()
    local tasks = {}
    for i = 1, 20 do
      tasks[i] = function() return assert(chat:send("size L? " .. i, { currentUrl = "https://s/p" })) end
    end
    for i, r in ipairs(c:gather(tasks)) do assert(r[1], "send " .. i .. ": " .. tostring(r[2])) end
    local after = connected()
    assert.is_true(after <= before, "connections to the emulator went " .. before .. " -> " .. after)
    c:close()
  end)

  describe("errors", function()
    it("a wrong key is an authentication error with a request id", function()
      local c = homie.new{ api_key = "wrong-key-123", base_url = server.url }
      local chat, err = c:create_chat{ chatbotId = BOT }
      assert.is_nil(chat)
      assert.are.equal("authentication", err.kind)
      assert.are.equal(401, err.status)
      assert.is_false(err.retryable)
      assert.is_string(err.request_id)
      assert.are.equal(401, err.body.statusCode)
      assert.is_nil(tostring(err):find("wrong-key-123", 1, true))
    end)

    it("an unknown chat, or another key's chat, is not_found", function()
      local _, err = client:send_message("00000000-0000-4000-8000-000000000000", "hi", { currentUrl = PAGE })
      assert.are.equal("not_found", err.kind)
      assert.are.equal(404, err.status)
      local other = homie.new{ api_key = "other-key", base_url = server.url }
      local theirs = assert(other:create_chat{ chatbotId = BOT })
      local _, err2 = client:list_messages(theirs.id)
      assert.are.equal("not_found", err2.kind)
    end)

    it("input the server refuses is invalid_request naming the field", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      local _, err = chat:send("", { currentUrl = PAGE })
      assert.are.equal("invalid_request", err.kind)
      assert.are.equal(400, err.status)
      assert.matches("message", err.message)
      local _, big = chat:send(("x"):rep(70000), { currentUrl = PAGE })
      assert.are.equal("invalid_request", big.kind)
      assert.are.equal(413, big.status)
    end)

    it("403 is a permission error, 5xx a server error", function()
      local chat = assert(client:create_chat{ chatbotId = BOT })
      server:fault{ path = "/messages$", fault = { status = 403 } }
      local _, err = chat:list_messages()
      assert.are.equal("permission", err.kind)
      assert.are.equal(403, err.status)
      server:fault{ path = "/messages$", fault = { status = 500 } }
      local _, err2 = chat:list_messages()
      assert.are.equal("server", err2.kind)
    end)

    it("a refused connection is a connection error", function()
      local c = homie.new{ api_key = "k", base_url = "http://127.0.0.1:" .. mock.dead_port(), max_retries = 1 }
      local _, err = c:create_chat{ chatbotId = BOT }
      assert.are.equal("connection", err.kind)
      assert.is_nil(err.status)
      assert.are.equal(2, err.attempts)
      assert.is_true(err.retryable)
    end)

    it("programming errors raise naming the argument", function()
      local chat = client:chat(BOT)
      assert.has_error(function() chat:send(42, { currentUrl = PAGE }) end, "homie: text must be a string, got number")
      assert.has_error(function() chat:send("hi", { currentUrl = PAGE, colour = "blue" }) end,
        "homie: unknown option 'colour' for send_message")
      assert.has_error(function() chat:send("hi", {}) end, "homie: currentUrl must be a string, got nil")
      assert.has_error(function() chat:send("\xff", { currentUrl = PAGE }) end, "homie: text must be valid UTF-8")
      assert.has_error(function() client:chat("not-an-id") end)
      assert.has_error(function() client:create_chat{ chatbotId = "x" } end)
      assert.has_error(function() client:list_messages(BOT, { page = 0 }) end, "homie: page must be a positive integer")
    end)
  end)
end)

describe("homie.new", function()
  it("raises without a key, and reads HOMIE_API_KEY / HOMIE_BASE_URL", function()
    local env = {}
    local getenv = function(k) return env[k] end
    assert.has_error(function() homie.new{ getenv = getenv } end,
      "homie: no API key: pass api_key to homie.new or set HOMIE_API_KEY")
    env.HOMIE_API_KEY, env.HOMIE_BASE_URL = "k-env", "http://127.0.0.1:9/"
    local c = homie.new{ getenv = getenv }
    assert.are.equal("http://127.0.0.1:9", c.base_url)
  end)

  it("picks the environment's base URL, production by default", function()
    assert.are.equal("https://api.yourhomie.ai", homie.new{ api_key = "k", getenv = function() end }.base_url)
    assert.are.equal("https://staging.api.yourhomie.ai",
      homie.new{ api_key = "k", environment = "staging", getenv = function() end }.base_url)
    assert.has_error(function() homie.new{ api_key = "k", environment = "dev" } end)
  end)

  it("refuses unknown options and bad values", function()
    assert.has_error(function() homie.new{ api_key = "k", api_kye = "x" } end,
      "homie: unknown option 'api_kye' for homie.new; did you mean 'api_key'?")
    assert.has_error(function() homie.new{ api_key = "k", timeout = "5" } end, "homie: timeout must be a number, got string")
    assert.has_error(function() homie.new{ api_key = "k", auth = "basic" } end)
    assert.has_error(function() homie.new{ api_key = "k", headers = { ["X-A"] = "1\r\nX-B: 2" } } end,
      "homie: headers[X-A] must not contain CR, LF or NUL")
  end)

  it("never shows the key in tostring, and has a version", function()
    local c = homie.new{ api_key = "secret-key-xyz", base_url = "http://127.0.0.1:9" }
    assert.is_nil(tostring(c):find("secret-key-xyz", 1, true))
    assert.matches("^%d+%.%d+%.%d+", homie.VERSION)
    assert.matches("^homie%-lua/" .. homie.VERSION:gsub("%.", "%%.") .. " %(Lua 5%.%d; libcurl %d", c.user_agent)
  end)
end)
