--- The chat handle: a chat's fields as the server sent them, plus methods
-- that call the client's with the chat's id filled in. Made by
-- `homie.client.Client:create_chat` and `homie.client.Client:chat`.
-- @module homie.chat
local ask = require "homie.ask"
local util = require "homie.util"

local M = {}

--- A chat: `id`, and after `create_chat` also `chatbotId`, `userId`,
-- `organizationId`, `createdAt`.
-- @type Chat
local Chat = {}
Chat.__index = Chat
Chat.__name = "homie.Chat"
M.Chat = Chat

-- chat -> client, chat -> session; weak keys so a chat does not outlive its
-- last reference, while the client lives as long as any of its chats.
local owner = setmetatable({}, { __mode = "k" })
local session_of = setmetatable({}, { __mode = "k" })

-- Called by the client, which hands over its session for ask.
function M.new(client, session, fields)
  local chat = setmetatable(fields, Chat)
  owner[chat], session_of[chat] = client, session
  return chat
end

--- The client this chat belongs to.
-- @treturn homie.client.Client
-- @usage local client = chat:client()
function Chat:client() return owner[self] end

--- Sends a message: `homie.client.Client:send_message` with this chat's id.
-- @string text the message
-- @tparam table opts `currentUrl` (required), `store`, per-call options
-- @treturn table the reply, or `nil, err`
-- @raise as `send_message`
-- @usage local reply, err = chat:send("Size L?", { currentUrl = url })
function Chat:send(text, opts) return owner[self]:send_message(self.id, text, opts) end

--- One page of this chat's messages: `homie.client.Client:list_messages`.
-- @tparam[opt] table opts `page`, `size`, per-call options
-- @treturn table the page, or `nil, err`
-- @raise as `list_messages`
-- @usage local page = assert(chat:list_messages{ size = 50 })
function Chat:list_messages(opts) return owner[self]:list_messages(self.id, opts) end

--- Every message of this chat: `homie.client.Client:messages`.
-- @tparam[opt] table opts `size`, per-call options
-- @treturn function the iterator
-- @raise as `messages`
-- @usage for msg in chat:messages() do print(msg.content) end
function Chat:messages(opts) return owner[self]:messages(self.id, opts) end

--- This chat's event stream: `homie.client.Client:events`. A stream shows
-- the events that happen after it connects (or after `last_event_id`): open
-- it before the send whose reply you want to watch, or use `ask`.
-- @tparam[opt] table opts as `events`
-- @treturn homie.stream.Stream
-- @raise as `events`
-- @usage local stream <close> = chat:events()
function Chat:events(opts) return owner[self]:events(self.id, opts) end

--- Sends `text` while watching this chat's stream, and returns the reply
-- once the stream carried its final `message` event (or `final_wait`
-- seconds after the send returned).
-- @string text the message
-- @tparam table opts `currentUrl` (required), `store`, `on_event`
--  (`function(ev)`, called for typing, tool steps, chunks as they arrive),
--  `idle_timeout`, `final_wait` (5 s), per-call options
-- @treturn table the reply, or `nil, err` when the send failed (trouble
--  on the stream is not an error). When the send failed after the server
--  may have stored the message (`err.maybe_stored`), the answer the stream
--  carried is returned instead, with `recovered = true` and the failure in
--  `recovered_from`.
-- @raise as `send`, or what `on_event` raises (the stream is closed first)
-- @usage local reply = assert(chat:ask("Size L?", { currentUrl = url,
--   on_event = function(ev) if ev.type == "chunk" then io.write(ev.data.content) end end }))
function Chat:ask(text, opts)
  return ask.ask(session_of[self], self, text, opts)
end

function Chat:__tostring() return "homie.Chat(" .. tostring(self.id) .. ")" end

util.guard_methods(Chat, "chat", function(v) return owner[v] ~= nil end)

return M
