-- Shared set-up of the unit specs: a client on the fake transport, and the
-- SSE text of the events the emulator would send for one reply.
local homie = require "homie"
local fake_transport = require "spec.support.fake_transport"
local cjson = require "cjson"

local M = {}

M.CHAT = "0f4b1c2d-3d4e-4f60-b2f2-9f4b1c2d3e4f"
M.BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
M.PAGE = "https://store.com/products/blue-hoodie"
M.EVENTS = "/v1/chats/" .. M.CHAT .. "/messages/events"
M.MESSAGES = "/v1/chats/" .. M.CHAT .. "/messages"

function M.client(opts)
  local fake = fake_transport.new()
  opts = opts or {}
  opts.api_key, opts.base_url, opts.transport = opts.api_key or "unit-key", "http://fake.test", fake
  return homie.new(opts), fake
end

-- ISO-8601 UTC of os.time() + `offset` seconds, the server's createdAt shape.
function M.iso(offset)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + (offset or 0))
end

-- A stored shopper's question, in the emulator's shape.
function M.question(id, content, created_at)
  return { id = id, chatId = M.CHAT, type = "question", content = content, suggestions = {},
    products = {}, createdAt = created_at or M.iso() }
end

function M.reply(id, content, created_at)
  return { id = id, chatId = M.CHAT, type = "answer", content = content,
    createdAt = created_at or "2025-07-08T16:32:11Z",
    products = { { designation = "Blue Hoodie", uri = "https://store.com/products/blue-hoodie", price = 59.99 } } }
end

-- One SSE block: id, optional event name, JSON data.
function M.sse(id, event, data)
  return ("id: %s\n%sdata: %s\n\n"):format(id, event and ("event: " .. event .. "\n") or "", cjson.encode(data))
end

-- The emulator's vocabulary for one reply, as stream items every `gap` s.
function M.reply_events(first_id, reply, gap)
  local items, id = {}, first_id
  local function add(event, data)
    items[#items + 1] = { wait = gap, data = M.sse(id, event, data) }
    id = id + 1
  end
  add("typing", { chatId = M.CHAT, typing = true })
  add(nil, { chatId = M.CHAT, eventId = "e1", toolName = "product_search", status = "inProgress" })
  local half = math.floor(#reply.content / 2)
  add("chunk", { chatId = M.CHAT, messageId = reply.id, index = 0, content = reply.content:sub(1, half) })
  add("chunk", { chatId = M.CHAT, messageId = reply.id, index = 1, content = reply.content:sub(half + 1) })
  add("typing", { chatId = M.CHAT, typing = false })
  add("message", reply)
  return items
end

return M
