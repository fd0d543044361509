-- The chat handle: a chat's fields as the server sent them, plus methods
-- that call the client's with the chat's id filled in.
local ask = require "homie.ask"

local M = {}
local Chat = {}
Chat.__index = Chat
Chat.__name = "homie.Chat"
M.Chat = Chat

-- chat -> client; weak keys so a chat does not outlive its last reference,
-- while the client lives as long as any of its chats.
local owner = setmetatable({}, { __mode = "k" })

function M.new(client, fields)
  local chat = setmetatable(fields, Chat)
  owner[chat] = client
  return chat
end

function Chat:client() return owner[self] end
function Chat:send(text, opts) return owner[self]:send_message(self.id, text, opts) end
function Chat:list_messages(opts) return owner[self]:list_messages(self.id, opts) end
function Chat:messages(opts) return owner[self]:messages(self.id, opts) end
function Chat:events(opts) return owner[self]:events(self.id, opts) end
function Chat:ask(text, opts)
  local reply, err = ask.ask(self, text, opts)  -- not a tail call: errors name the caller's line
  return reply, err
end

function Chat:__tostring() return "homie.Chat(" .. tostring(self.id) .. ")" end

return M
