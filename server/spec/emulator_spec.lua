-- Specs of the emulator itself (server/, bin/homie-mock, spec/support/mock.lua),
-- over real sockets. Run from the repo root:
--   lua5.4 /usr/bin/busted server/spec/emulator_spec.lua
local socket = require "socket"
local cjson = require "cjson"
local mock = require "spec.support.mock"

local fx = require "spec.support.fixtures"
local BOT, USER = fx.BOT, fx.USER
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local HOODIE_Q = { message = fx.HOODIE, currentUrl = fx.PAGE }

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sh(cmd)
  local p = assert(io.popen(cmd, "r")); local out = p:read("a"); p:close(); return out
end

-- A raw HTTP/1.1 connection that decodes the response incrementally, so a
-- spec can watch an event stream while it sends other requests.
local Conn = {}
Conn.__index = Conn

local function open(server, method, path, headers, body)
  local sock = assert(socket.tcp())
  sock:settimeout(5)
  assert(sock:connect("127.0.0.1", server.port))
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  assert(sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
  return setmetatable({ sock = sock, raw = "", body = "", reads = 0 }, Conn)
end

function Conn:decode()
  if not self.status then
    local e = self.raw:find("\r\n\r\n", 1, true)
    if not e then return end
    local head = self.raw:sub(1, e - 1)
    self.raw = self.raw:sub(e + 4)
    self.status = tonumber(head:match("^HTTP/1%.1 (%d+)"))
    self.headers = {}
    for k, v in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do self.headers[k:lower()] = v end
    self.chunked = self.headers["transfer-encoding"] == "chunked"
  end
  if not self.chunked then
    self.body, self.raw = self.body .. self.raw, ""
    return
  end
  while true do
    local le = self.raw:find("\r\n", 1, true)
    if not le then return end
    local size = tonumber(self.raw:sub(1, le - 1), 16)
    if size == 0 then self.ended = true return end
    if not size or #self.raw < le + 1 + size + 2 then return end
    self.body = self.body .. self.raw:sub(le + 2, le + 1 + size)
    self.raw = self.raw:sub(le + size + 4)
  end
end

function Conn:fill(timeout)
  self.sock:settimeout(timeout)
  local s, err, partial = self.sock:receive(8192)
  local data = s or partial
  if data and #data > 0 then self.raw, self.reads = self.raw .. data, self.reads + 1 end
  if err == "closed" then self.closed = true end
  self:decode()
end

-- Reads until pred(self) holds; false on timeout or close.
function Conn:wait(pred, timeout)
  local deadline = socket.gettime() + (timeout or 5)
  while not pred(self) do
    if self.closed or socket.gettime() > deadline then return pred(self) and true or false end
    self:fill(0.05)
  end
  return true
end

-- Complete SSE blocks of the body: { id, event, data (decoded), raw }, comments counted.
function Conn:events()
  local list, pings = {}, 0
  for block in self.body:gmatch("(.-)\n\n") do
    local ev = {}
    for line in (block .. "\n"):gmatch("(.-)\n") do
      if line == ": ping" then pings = pings + 1 end
      local k, v = line:match("^(%a+): (.*)$")
      if k == "id" or k == "event" or k == "data" or k == "retry" then ev[k] = v end
    end
    if ev.data then
      ev.raw, ev.data, ev.id = ev.data, cjson.decode(ev.data), tonumber(ev.id)
      list[#list + 1] = ev
    end
  end
  return list, pings
end

function Conn:close() self.sock:close() end

local function has_final(c)
  for _, e in ipairs((c:events())) do if e.event == "message" then return true end end
  return false
end

describe("homie-mock", function()
  local server, key, other_server_key

  local function call(method, path, body, headers)
    local h = headers or { ["x-api-key"] = key }
    local status, hdrs, data = server:request(method, path,
      type(body) == "table" and cjson.encode(body) or body, h)
    local ok, decoded = pcall(cjson.decode, data)
    return status, ok and decoded or data, hdrs, data
  end

  local function new_chat(k)
    local status, chat = call("POST", "/v1/chats", { chatbotId = BOT }, { ["x-api-key"] = k or key })
    assert.equal(201, status)
    return chat
  end

  local function send(chat_id, msg, headers)
    return call("POST", "/v1/chats/" .. chat_id .. "/messages", msg or HOODIE_Q, headers)
  end

  local function stream(chat_id, headers, path)
    headers = headers or {}
    headers["x-api-key"] = headers["x-api-key"] or key
    local c = open(server, "GET", path or ("/v1/chats/" .. chat_id .. "/messages/events"), headers)
    assert.is_true(c:wait(function(x) return x.status ~= nil and (x.status ~= 200 or x.body:find("retry", 1, true)) end))
    return c
  end

  setup(function()
    server = mock.start{ api_keys = { "homie-test-key", "other-key" } }
    key, other_server_key = server.api_key, "other-key"
  end)
  teardown(function() server:stop() end)
  before_each(function() server:reset() end)

  describe("helper", function()
    it("exposes url, port and the first key", function()
      assert.equal("http://127.0.0.1:" .. server.port, server.url)
      assert.equal("homie-test-key", key)
      assert.is_truthy(server:prefix())
    end)
  end)

  describe("POST /v1/chats", function()
    it("creates a chat with every ChatDto field", function()
      local status, chat, hdrs = call("POST", "/v1/chats", { chatbotId = BOT, userId = USER })
      assert.equal(201, status)
      assert.matches("^application/json", hdrs["content-type"])
      assert.matches(UUID, chat.id)
      assert.equal("4", chat.id:sub(15, 15))
      assert.equal(BOT, chat.chatbotId)
      assert.equal(USER, chat.userId)
      assert.matches(UUID, chat.organizationId)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", chat.createdAt)
    end)

    it("sends userId as null when not given, and fresh ids", function()
      local _, _, _, raw = call("POST", "/v1/chats", { chatbotId = BOT })
      assert.matches('"userId":null', raw)
      assert.are_not.equal(new_chat().id, new_chat().id)
    end)

    it("derives organizationId from the key", function()
      local a, b = new_chat(), new_chat()
      local c = new_chat(other_server_key)
      assert.equal(a.organizationId, b.organizationId)
      assert.are_not.equal(a.organizationId, c.organizationId)
    end)

    it("accepts Authorization: Bearer", function()
      local status = call("POST", "/v1/chats", { chatbotId = BOT }, { Authorization = "Bearer " .. key })
      assert.equal(201, status)
    end)

    it("answers 401 for a missing or wrong key, NestJS-style", function()
      local status, body = call("POST", "/v1/chats", { chatbotId = BOT }, {})
      assert.equal(401, status)
      assert.same({ statusCode = 401, error = "Unauthorized" }, { statusCode = body.statusCode, error = body.error })
      assert.is_string(body.message)
      assert.equal(401, (call("POST", "/v1/chats", { chatbotId = BOT }, { ["x-api-key"] = "nope" })))
      assert.equal(401, (call("POST", "/v1/chats", { chatbotId = BOT }, { Authorization = "Bearer nope" })))
    end)

    it("answers 400 naming the field", function()
      local cases = {
        { '{"userId":"' .. USER .. '"}', "chatbotId" },
        { '{"chatbotId":42}', "chatbotId" },
        { '{"chatbotId":"not-a-uuid"}', "chatbotId" },
        { '{"chatbotId":"' .. BOT .. '","userId":"x"}', "userId" },
        { '{"chatbotId":', "JSON" },
      }
      for _, case in ipairs(cases) do
        local status, body = call("POST", "/v1/chats", case[1])
        assert.equal(400, status)
        assert.equal("Bad Request", body.error)
        assert.matches(case[2], body.message)
      end
    end)

    it("answers 413 over 64 KiB, also when nginx refuses the body", function()
      local pad = string.rep("a", 70000)
      local status, body = call("POST", "/v1/chats", '{"chatbotId":"' .. BOT .. '","pad":"' .. pad .. '"}')
      assert.equal(413, status)
      assert.equal("Payload Too Large", body.error)
      status, body = call("POST", "/v1/chats", string.rep("b", 2 * 1024 * 1024))
      assert.equal(413, status)
      assert.equal(413, body.statusCode)
    end)

    it("answers 405 for a wrong method and 404 for an unknown path", function()
      local status, body, hdrs = call("GET", "/v1/chats")
      assert.equal(405, status)
      assert.equal("POST", hdrs["allow"])
      assert.equal("Method Not Allowed", body.error)
      status, body = call("GET", "/v2/nothing")
      assert.equal(404, status)
      assert.equal("Not Found", body.error)
    end)
  end)

  describe("POST /v1/chats/:id/messages", function()
    it("answers the docs' hoodie question with the blue hoodie", function()
      local chat = new_chat()
      local status, msg = send(chat.id, nil)
      assert.equal(201, status)
      assert.matches(UUID, msg.id)
      assert.equal(chat.id, msg.chatId)
      assert.equal("answer", msg.type)
      assert.matches("^Yes! Size L is in stock", msg.content)
      assert.is_true(#msg.suggestions >= 2 and #msg.suggestions <= 3)
      local p = msg.products[1]
      assert.matches("Blue Hoodie", p.designation)
      assert.equal("1234567890123", p.gtin)
      assert.equal(59.99, p.price)
      assert.equal("in_stock", p.availability.status)
      for _, field in ipairs({ "gtin", "brand", "designation", "url", "image", "price", "priceInfo",
          "currency", "location", "availability", "category", "query", "description",
          "recommendationText", "flags" }) do
        assert.is_not_nil(p[field], field)
      end
      assert.is_string(p.location[1].key)
      assert.is_string(p.flags[1].title)
      assert.is_number(p.availability.quantity)
    end)

    it("is deterministic and handles ?store=", function()
      local a = select(2, send(new_chat().id))
      local status, b = call("POST", "/v1/chats/" .. new_chat().id .. "/messages?store=store-7", HOODIE_Q)
      assert.equal(201, status)
      assert.equal(a.content, b.content)
      assert.same(a.products, b.products)
    end)

    it("matches other categories and answers politely without a match", function()
      local chat = new_chat()
      local _, jeans = send(chat.id, { message = "Do you have black jeans?", currentUrl = "https://store.com/" })
      assert.equal("jeans", jeans.products[1].category)
      local _, none, _, raw = send(chat.id, { message = "What is the meaning of life?", currentUrl = "https://store.com/" })
      assert.equal(0, #none.products)
      assert.matches('"products":%[%]', raw)
      assert.matches("sorry", none.content)
    end)

    it("validates the body and the chat", function()
      local chat = new_chat()
      local status, body = send(chat.id, { currentUrl = "x" })
      assert.equal(400, status); assert.matches("message", body.message)
      status, body = send(chat.id, { message = "", currentUrl = "x" })
      assert.equal(400, status); assert.matches("message", body.message)
      status, body = send(chat.id, { message = "hi" })
      assert.equal(400, status); assert.matches("currentUrl", body.message)
      status, body = send("not-a-chat-id")
      assert.equal(400, status); assert.matches("chatId", body.message)
      status = send("00000000-0000-0000-0000-000000000000")
      assert.equal(404, status)
      status, body = send(chat.id, nil, { ["x-api-key"] = other_server_key })
      assert.equal(404, status); assert.equal("Not Found", body.error)
      assert.equal(405, (call("DELETE", "/v1/chats/" .. chat.id .. "/messages")))
    end)
  end)

  describe("GET /v1/chats/:id/messages", function()
    it("pages the history, oldest first", function()
      local chat = new_chat()
      for i = 1, 3 do send(chat.id, { message = "hoodie " .. i, currentUrl = "x" }) end
      local status, page = call("GET", "/v1/chats/" .. chat.id .. "/messages?page=2&size=4")
      assert.equal(200, status)
      assert.same({ 6, 4, 2, 2, true, false, 1 },
        { page.totalItems, page.size, page.totalPages, page.currentPage, page.hasPrevPage, page.hasNextPage, page.prevPage })
      assert.equal(cjson.null, page.nextPage)
      assert.equal(2, #page.items)
      assert.equal("question", page.items[1].type)
      assert.equal("hoodie 3", page.items[1].content)
      assert.equal("answer", page.items[2].type)
      local _, first = call("GET", "/v1/chats/" .. chat.id .. "/messages")
      assert.equal(20, first.size)
      assert.equal("hoodie 1", first.items[1].content)
      assert.equal(cjson.null, first.prevPage)
    end)

    it("rejects bad page and size", function()
      local chat = new_chat()
      for _, q in ipairs({ "page=0", "page=x", "size=0", "size=101", "size=-1" }) do
        local status, body = call("GET", "/v1/chats/" .. chat.id .. "/messages?" .. q)
        assert.equal(400, status, q)
        assert.matches(q:match("^%a+"), body.message)
      end
      assert.equal(200, (call("GET", "/v1/chats/" .. chat.id .. "/messages?size=100")))
    end)
  end)

  describe("headers", function()
    it("sets a unique x-request-id on every response, errors included", function()
      local _, _, a = call("POST", "/v1/chats", { chatbotId = BOT })
      local _, _, b = call("GET", "/nope")
      assert.is_truthy(a["x-request-id"]); assert.is_truthy(b["x-request-id"])
      assert.are_not.equal(a["x-request-id"], b["x-request-id"])
      assert.is_truthy(b["x-homie-mock-connection"])
    end)

    it("shows keep-alive through x-homie-mock-connection", function()
      local out = sh("curl -s -D - -o /dev/null -o /dev/null -H 'x-api-key: " .. key .. "' "
        .. server.url .. "/v1/chats/" .. new_chat().id .. "/messages " .. server.url .. "/nope")
      local ids = {}
      for id in out:gmatch("x%-homie%-mock%-connection: (%d+)") do ids[#ids + 1] = id end
      assert.equal(2, #ids)
      assert.equal(ids[1], ids[2])
      local _, _, h1 = call("GET", "/nope")
      local _, _, h2 = call("GET", "/nope")
      assert.are_not.equal(h1["x-homie-mock-connection"], h2["x-homie-mock-connection"])
    end)
  end)

  it("runs the docs' curl examples verbatim", function()
    local script = [[
set -e
BASE=$1
curl -X POST $BASE/v1/chats \
  -H "x-api-key: $HOMIE_STAGING_KEY" \
  -H "Content-Type: application/json" \
  -d '{ "chatbotId": "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f", "userId": "1bd2e7c4-8a90-4b17-9f36-6e2b5d8f7a3e" }' > "$2/chat"
CHAT_ID=$(sed 's/.*"id":"\([^"]*\)".*/\1/' "$2/chat")
curl -X POST $BASE/v1/chats/$CHAT_ID/messages \
  -H "x-api-key: $HOMIE_STAGING_KEY" \
  -H "Content-Type: application/json" \
  -d '{ "message": "Does the blue hoodie come in size L?", "currentUrl": "https://store.com/products/blue-hoodie" }' > "$2/msg"
curl $BASE/v1/chats/$CHAT_ID/events \
  -H "x-api-key: $HOMIE_STAGING_KEY" --max-time 1 -s -D "$2/headers" > "$2/events" || true
]]
    local dir = sh("mktemp -d"):gsub("%s+$", "")
    local f = assert(io.open(dir .. "/run.sh", "w")); f:write(script); f:close()
    sh("HOMIE_STAGING_KEY=" .. key .. " bash " .. dir .. "/run.sh " .. server.url .. " " .. dir .. " 2>/dev/null")
    local chat = cjson.decode(io.open(dir .. "/chat"):read("a"))
    local msg = cjson.decode(io.open(dir .. "/msg"):read("a"))
    local headers = io.open(dir .. "/headers"):read("a")
    local events = io.open(dir .. "/events"):read("a")
    sh("rm -rf " .. shq(dir))
    assert.equal(USER, chat.userId)
    assert.matches("^Yes! Size L is in stock", msg.content)
    assert.matches("Blue Hoodie", msg.products[1].designation)
    assert.matches("text/event%-stream", headers)
    assert.matches("^retry: 1000\nid: %d+\n\n", events)
  end)

  describe("event streams", function()
    it("streams the vocabulary in order with increasing ids", function()
      local chat = new_chat()
      local c = stream(chat.id)
      assert.equal(200, c.status)
      assert.matches("^text/event%-stream", c.headers["content-type"])
      assert.equal("no-cache", c.headers["cache-control"])
      assert.matches("^retry: 1000\nid: 0\n\n", c.body)
      local _, _, _, reply_raw = send(chat.id)
      local reply = cjson.decode(reply_raw)
      assert.is_true(c:wait(has_final))
      local evs = c:events()
      c:close()
      for i, e in ipairs(evs) do assert.equal(i, e.id) end
      assert.equal("typing", evs[1].event); assert.is_true(evs[1].data.typing)
      assert.equal(chat.id, evs[1].data.chatId)
      local tool1, tool2 = evs[2], evs[3]
      assert.is_nil(tool1.event)
      assert.same({ "product_search", "inProgress" }, { tool1.data.toolName, tool1.data.status })
      assert.equal(tool1.data.eventId, tool2.data.eventId)
      assert.equal("completed", tool2.data.status)
      assert.is_string(tool1.data.toolArgs.query)
      assert.equal(1, tool2.data.toolResponse.count)
      local text, n, i = "", 0, 4
      while evs[i].event == "chunk" do
        assert.equal(n, evs[i].data.index)
        assert.equal(reply.id, evs[i].data.messageId)
        text, n, i = text .. evs[i].data.content, n + 1, i + 1
      end
      assert.is_true(n >= 3)
      assert.equal(reply.content, text)
      assert.equal("typing", evs[i].event); assert.is_false(evs[i].data.typing)
      assert.equal("message", evs[i + 1].event)
      assert.equal(reply_raw, evs[i + 1].raw)
      assert.equal(i + 1, #evs)
    end)

    it("serves the introduction's path too, and only new events", function()
      local chat = new_chat()
      send(chat.id)  -- 15-ish events before anyone listens
      local c = stream(chat.id, nil, "/v1/chats/" .. chat.id .. "/events")
      send(chat.id, { message = "hello", currentUrl = "x" })
      assert.is_true(c:wait(has_final))
      local evs = c:events()
      c:close()
      assert.is_true(evs[1].id > 1)
      assert.equal("typing", evs[1].event)
      assert.equal(1, select(2, c.body:gsub("event: message", "")))
    end)

    it("replays after Last-Event-ID, then continues live, without duplicates", function()
      local chat = new_chat()
      send(chat.id)
      local c = stream(chat.id, { ["Last-Event-ID"] = "3" })
      assert.is_true(c:wait(has_final))
      send(chat.id, { message = "hello", currentUrl = "x" })
      assert.is_true(c:wait(function(x) return select(2, x.body:gsub("event: message", "")) == 2 end))
      local evs = c:events()
      c:close()
      assert.equal(4, evs[1].id)
      for i = 2, #evs do assert.equal(evs[i - 1].id + 1, evs[i].id) end
    end)

    it("answers 404 and 401 as JSON", function()
      local c = stream("00000000-0000-4000-8000-000000000000")
      c:wait(function(x) return x.body:find("}") end)
      assert.equal(404, c.status)
      assert.equal(404, cjson.decode(c.body).statusCode)
      c:close()
      c = stream(new_chat().id, { ["x-api-key"] = "bad" })
      assert.equal(401, c.status)
      c:close()
    end)

    it("counts open streams", function()
      local c = stream(new_chat().id)
      assert.equal(1, server:stats().streams_open)
      c:close()
      local deadline = socket.gettime() + 3
      while server:stats().streams_open ~= 0 and socket.gettime() < deadline do socket.sleep(0.05) end
      assert.equal(0, server:stats().streams_open)
    end)
  end)

  describe("faults", function()
    local function count(chat_id)
      return select(2, call("GET", "/v1/chats/" .. chat_id .. "/messages")).totalItems
    end

    it("answers an injected status with headers, not storing the message", function()
      local chat = new_chat()
      server:fault{ method = "POST", path = "/messages$", fault = { status = 503, headers = { ["Retry-After"] = "1" } } }
      assert.equal(201, (call("POST", "/v1/chats", { chatbotId = BOT })))  -- path does not match
      local status, body, hdrs = send(chat.id)
      assert.equal(503, status)
      assert.equal("1", hdrs["retry-after"])
      assert.same({ 503, "Service Unavailable" }, { body.statusCode, body.error })
      assert.equal(0, count(chat.id))
      assert.equal(0, server:stats().messages_received)
      assert.equal(201, (send(chat.id)))
      assert.equal(1, server:stats().messages_received)
    end)

    it("uses custom bodies, times and FIFO order", function()
      server:fault{ times = 2, fault = { status = 429, body = { message = "slow down" } } }
      server:fault{ fault = { status = 502, body = "Bad gateway" } }
      assert.equal(3, server:stats().faults_pending)
      local s1, b1 = call("GET", "/nope")
      local s2 = call("GET", "/nope")
      local s3, _, _, raw3 = call("GET", "/nope")
      assert.same({ 429, 429, 502 }, { s1, s2, s3 })
      assert.equal("slow down", b1.message)
      assert.equal("Bad gateway", raw3)
      assert.equal(404, (call("GET", "/nope")))
    end)

    it("matches faults by method", function()
      server:fault{ method = "GET", path = cjson.null, fault = { status = 418 } }
      assert.equal(201, (call("POST", "/v1/chats", { chatbotId = BOT })))
      local status, body = call("GET", "/nope")
      assert.equal(418, status)
      assert.equal(418, body.statusCode)
    end)

    it("delays a stream's headers", function()
      local chat = new_chat()
      server:fault{ path = "/events$", fault = { delay_ms = 300 } }
      local t = socket.gettime()
      local c = stream(chat.id)
      assert.equal(200, c.status)
      assert.is_true(socket.gettime() - t >= 0.28)
      c:close()
    end)

    it("rejects an invalid fault", function()
      assert.has_error(function() server:fault{ fault = { explode = true } } end)
      assert.has_error(function() server:fault{ fault = { status = 503, stall = true } } end)
      assert.has_error(function() server:fault{ path = "(", fault = { stall = true } } end)
    end)

    it("delays the answer after storing the message", function()
      local chat = new_chat()
      server:fault{ fault = { delay_ms = 400 } }
      local t = socket.gettime()
      assert.equal(201, (send(chat.id)))
      assert.is_true(socket.gettime() - t >= 0.38)
      assert.equal(2, count(chat.id))
    end)

    it("stalls without answering and stores nothing", function()
      local chat = new_chat()
      server:fault{ fault = { stall = true } }
      local c = open(server, "POST", "/v1/chats/" .. chat.id .. "/messages",
        { ["x-api-key"] = key }, cjson.encode(HOODIE_Q))
      assert.is_false(c:wait(function(x) return x.raw ~= "" or x.status end, 0.6))
      assert.is_nil(c.closed)
      c:close()
      assert.equal(0, count(chat.id))
    end)

    it("resets before headers", function()
      local chat = new_chat()
      server:fault{ fault = { reset = "before_headers" } }
      local c = open(server, "POST", "/v1/chats/" .. chat.id .. "/messages",
        { ["x-api-key"] = key }, cjson.encode(HOODIE_Q))
      c:wait(function() return false end, 2)
      assert.is_true(c.closed)
      assert.equal("", c.raw)
      assert.is_nil(c.status)
      assert.equal(0, count(chat.id))
    end)

    it("resets mid-body after storing the message", function()
      local chat = new_chat()
      server:fault{ fault = { reset = "mid_body" } }
      local c = open(server, "POST", "/v1/chats/" .. chat.id .. "/messages",
        { ["x-api-key"] = key }, cjson.encode(HOODIE_Q))
      c:wait(function() return false end, 3)
      assert.is_true(c.closed)
      assert.equal(201, c.status)
      assert.is_true(#c.body > 0)
      assert.is_true(tonumber(c.headers["content-length"]) > #c.body)
      assert.equal(2, count(chat.id))
    end)

    it("truncates JSON with a correct Content-Length", function()
      server:fault{ fault = { truncate = true } }
      local status, body, hdrs, raw = call("POST", "/v1/chats", { chatbotId = BOT })
      assert.equal(201, status)
      assert.is_string(body)  -- did not decode
      assert.equal(#raw, tonumber(hdrs["content-length"]))
      assert.is_false(pcall(cjson.decode, raw))
    end)

    it("sends a malformed body", function()
      server:fault{ fault = { malformed = true } }
      local status, _, hdrs, raw = call("POST", "/v1/chats", { chatbotId = BOT })
      assert.equal(201, status)
      assert.equal("not json at all", raw)
      assert.matches("application/json", hdrs["content-type"])
    end)

    it("drips the body slowly", function()
      server:fault{ fault = { drip_ms = 50 } }
      local c = open(server, "POST", "/v1/chats", { ["x-api-key"] = key }, cjson.encode({ chatbotId = BOT }))
      local t = socket.gettime()
      assert.is_true(c:wait(function(x) return x.status and #x.body == tonumber(x.headers["content-length"]) end))
      c:close()
      assert.is_true(socket.gettime() - t >= 0.3)
      assert.is_true(c.reads >= 4)
      assert.equal(BOT, cjson.decode(c.body).chatbotId)
    end)

    it("cuts a stream after N events", function()
      local chat = new_chat()
      server:fault{ path = "/events$", fault = { cut_after = 3 } }
      local c = stream(chat.id)
      send(chat.id)
      c:wait(function() return false end, 3)
      assert.is_true(c.closed)
      assert.equal(3, #c:events())
      assert.is_nil(c.ended)  -- no terminating chunk: a drop, not a clean end
      c:close()
    end)

    it("keeps stream faults for streams and REST faults for REST", function()
      local chat = new_chat()
      server:fault{ fault = { cut_after = 1 } }
      assert.equal(201, (send(chat.id)))
      assert.equal(1, server:stats().faults_pending)
      server:reset()
      server:fault{ fault = { malformed = true } }
      local c = stream(chat.id)
      assert.equal(200, c.status)
      c:close()
      assert.equal(1, server:stats().faults_pending)
    end)

    it("writes garbage into a stream and continues normally", function()
      local chat = new_chat()
      server:fault{ fault = { garbage = true } }
      local c = stream(chat.id)
      local _, _, _, raw = send(chat.id)
      assert.is_true(c:wait(has_final))
      c:close()
      assert.matches("no colon", c.body)
      assert.is_truthy(c.body:find("\255", 1, true))
      local evs = c:events()
      assert.equal(raw, evs[#evs].raw)
      for i = 2, #evs do assert.equal(evs[i - 1].id + 1, evs[i].id) end
    end)
  end)

  describe("control API", function()
    it("counts requests by route and received messages; reset clears them", function()
      local chat = new_chat()
      send(chat.id)
      call("GET", "/v1/chats/" .. chat.id .. "/messages")
      local s = server:stats()
      assert.equal(1, s.requests["POST /v1/chats"])
      assert.equal(1, s.requests["POST /v1/chats/:id/messages"])
      assert.equal(1, s.requests["GET /v1/chats/:id/messages"])
      assert.equal(1, s.messages_received)
      server:fault{ fault = { stall = true } }
      assert.equal(1, server:stats().faults_pending)
      server:reset()
      s = server:stats()
      assert.is_nil(s.requests["POST /v1/chats"])
      assert.equal(0, s.messages_received)
      assert.equal(0, s.faults_pending)
      assert.equal(200, (call("GET", "/v1/chats/" .. chat.id .. "/messages")))  -- chats kept
    end)

    it("is not counted nor authenticated", function()
      server:stats()
      assert.same({}, server:stats().requests)
      assert.has_error(function() server:control("GET", "/__mock/nothing") end)
    end)
  end)
end)

describe("homie-mock options", function()
  it("sends heartbeats, and stall_stream suppresses them", function()
    local server = mock.start{ heartbeat = 1 }
    finally(function() server:stop() end)
    local _, _, body = server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }),
      { ["x-api-key"] = server.api_key })
    local id = cjson.decode(body).id
    local c = open(server, "GET", "/v1/chats/" .. id .. "/events", { ["x-api-key"] = server.api_key })
    assert.is_true(c:wait(function(x) return select(2, x:events()) >= 1 end, 2.5))
    c:close()
    server:fault{ fault = { stall_stream = true } }
    c = open(server, "GET", "/v1/chats/" .. id .. "/events", { ["x-api-key"] = server.api_key })
    assert.is_false(c:wait(function(x) return select(2, x:events()) >= 1 end, 1.6))
    assert.equal(200, c.status)
    assert.matches("^retry: 1000\nid: %d+\n\n$", c.body)
    assert.is_nil(c.closed)
    c:close()
  end)

  it("paces chunks with chunk_delay_ms", function()
    local server = mock.start{ chunk_delay_ms = 20 }
    finally(function() server:stop() end)
    local h = { ["x-api-key"] = server.api_key }
    local id = cjson.decode(select(3, server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }), h))).id
    local t = socket.gettime()
    local status = server:request("POST", "/v1/chats/" .. id .. "/messages", cjson.encode(HOODIE_Q), h)
    assert.equal(201, status)
    assert.is_true(socket.gettime() - t >= 0.2)  -- 13 paced events x 20 ms
  end)

  it("serves HTTPS with a given certificate", function()
    local dir = sh("mktemp -d"):gsub("%s+$", "")
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout "
       .. dir .. "/key.pem -out " .. dir .. "/cert.pem 2>/dev/null")
    local server = mock.start{ tls_cert = dir .. "/cert.pem", tls_key = dir .. "/key.pem" }
    finally(function() server:stop(); sh("rm -rf " .. shq(dir)) end)
    assert.equal("https://127.0.0.1:" .. server.port, server.url)
    local out = sh("curl -s --cacert " .. dir .. "/cert.pem -H 'x-api-key: homie-test-key' -d '{\"chatbotId\":\""
      .. BOT .. "\"}' " .. server.url .. "/v1/chats")
    assert.equal(BOT, cjson.decode(out).chatbotId)
    assert.equal(0, server:stats().messages_received)
  end)

  it("accepts several keys", function()
    local server = mock.start{ api_keys = { "k1", "k2" } }
    finally(function() server:stop() end)
    for _, k in ipairs({ "k1", "k2" }) do
      assert.equal(201, (server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }), { ["x-api-key"] = k })))
    end
    assert.equal(401, (server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }), { ["x-api-key"] = "homie-test-key" })))
  end)

  it("stops cleanly, with a stream open, leaving no process or file", function()
    local server = mock.start{}
    local prefix = server:prefix()
    local nginx_pid = tonumber(io.open(prefix .. "/nginx.pid"):read("a"))
    assert.is_true(mock.alive(nginx_pid))
    local h = { ["x-api-key"] = server.api_key }
    local id = cjson.decode(select(3, server:request("POST", "/v1/chats", cjson.encode({ chatbotId = BOT }), h))).id
    local c = open(server, "GET", "/v1/chats/" .. id .. "/events", h)
    assert.is_true(c:wait(function(x) return x.body ~= "" end))
    server:stop()
    server:stop()  -- idempotent
    c:close()
    assert.is_false(mock.alive(server.pid))
    assert.is_false(mock.alive(nginx_pid))
    assert.is_nil(io.open(prefix .. "/nginx.conf"))
    assert.is_nil(io.open(server.log))
    assert.equal("", sh("ls -A " .. shq(server.tmpdir) .. " 2>/dev/null"))
  end)

  it("exits non-zero with nginx's error log when nginx cannot start", function()
    local busy = mock.start{}
    finally(function() busy:stop() end)
    local out = sh(shq(mock.root .. "/bin/homie-mock") .. " --port " .. busy.port .. " 2>&1; echo \"rc=$?\"")
    assert.matches("rc=1", out)
    assert.matches("Address already in use", out)
    assert.is_nil(out:find("listening", 1, true))
  end)
end)
