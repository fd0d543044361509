-- POST and GET /v1/chats/{chatId}/messages.
-- A POST stores the shopper's message (type "question") and the reply
-- (type "answer"), queues the reply's events for the chat's streams, waits
-- until the last of them is due, then answers with the reply.
local chats = require "homie_mock.chats"
local conversation = require "homie_mock.conversation"
local config = require "homie_mock.config"
local faults = require "homie_mock.faults"
local http = require "homie_mock.http"
local json = require "homie_mock.json"
local replies = require "homie_mock.replies"
local store = require "homie_mock.store"
local util = require "homie_mock.util"

local M = {}

-- Splits text into chunks of three words (keeping all whitespace), so the
-- chunks concatenate to exactly the text.
local function split(text)
  local pieces, group, n = {}, text:match("^%s*"), 0
  for word in text:gmatch("%S+%s*") do
    group, n = group .. word, n + 1
    if n == 3 then pieces[#pieces + 1], group, n = group, "", 0 end
  end
  if group ~= "" or #pieces == 0 then pieces[#pieces + 1] = group end
  return pieces
end

local function events_for(chat_id, reply, answer, answer_json, store_id)
  local d = config.get().chunk_delay
  local event_id = util.uuid4()
  local args = { query = reply.query }
  if store_id then args.store = store_id end
  local items = {
    { event = "typing", data = json.encode({ chatId = chat_id, typing = true }) },
    { delay = d, data = json.encode({ chatId = chat_id, eventId = event_id, toolName = "product_search",
        content = "Searching the catalog for \"" .. reply.query .. "\"", toolArgs = args, status = "inProgress" }) },
    { delay = d, data = json.encode({ chatId = chat_id, eventId = event_id, toolName = "product_search",
        content = "Found " .. #reply.gtins .. " matching product(s)", toolArgs = args,
        toolResponse = { count = #reply.gtins, gtins = reply.gtins }, status = "completed" }) },
  }
  for i, piece in ipairs(split(answer.content)) do
    items[#items + 1] = { delay = d, event = "chunk",
      data = json.encode({ chatId = chat_id, messageId = answer.id, index = i - 1, content = piece }) }
  end
  items[#items + 1] = { delay = d, event = "typing", data = json.encode({ chatId = chat_id, typing = false }) }
  items[#items + 1] = { event = "message", data = answer_json }
  return items
end

function M.create(req)
  chats.require_chat(req)
  local body = http.read_json()
  if type(body.message) ~= "string" or body.message == "" then
    return http.error(400, "message must be a non-empty string")
  end
  if type(body.currentUrl) ~= "string" then
    return http.error(400, "currentUrl must be a string")
  end
  local store_id = ngx.var.arg_store
  local reply = replies.answer(body.message, body.currentUrl, conversation.subject(req.chat_id))
  local now = util.now_iso()
  local question = { id = util.uuid4(), chatId = req.chat_id, type = "question", content = body.message,
                     suggestions = json.array(), products = json.array(), createdAt = now }
  local answer = { id = util.uuid4(), chatId = req.chat_id, type = "answer", content = reply.content,
                   suggestions = reply.suggestions, products = reply.products, createdAt = now }
  local answer_json = json.encode(answer)
  store.add_message(req.chat_id, json.encode(question))
  store.add_message(req.chat_id, answer_json)
  conversation.remember(req.chat_id, reply.subject)
  faults.count_message()
  local last_due = store.append_events(req.chat_id, events_for(req.chat_id, reply, answer, answer_json, store_id))
  local wait = last_due - ngx.now()
  if wait > 0 then ngx.sleep(wait) end
  return http.send(201, answer_json)
end

-- Parses an optional positive integer query value; nil, message when bad.
local function int_arg(name, default, max)
  local raw = ngx.var["arg_" .. name]
  if raw == nil or raw == "" then return default end
  local n = raw:match("^%d+$") and tonumber(raw)
  if not n or n < 1 or (max and n > max) then
    return nil, name .. " must be an integer between 1 and " .. (max or "infinity")
  end
  return n
end

function M.list(req)
  chats.require_chat(req)
  local page, err = int_arg("page", 1)
  if not page then return http.error(400, err) end
  local size, err2 = int_arg("size", 20, 100)
  if not size then return http.error(400, err2) end
  local total = store.message_count(req.chat_id)
  local pages = math.ceil(total / size)
  local items = {}
  for i = (page - 1) * size + 1, math.min(page * size, total) do
    items[#items + 1] = store.message(req.chat_id, i)
  end
  local meta = json.encode({
    totalItems = total, size = size, totalPages = pages, currentPage = page,
    hasPrevPage = page > 1, hasNextPage = page < pages,
    prevPage = page > 1 and page - 1 or json.null,
    nextPage = page < pages and page + 1 or json.null,
  })
  -- Stored messages are already JSON: splice them in rather than re-encode.
  return http.send(200, '{"items":[' .. table.concat(items, ",") .. "]," .. meta:sub(2))
end

return M
