-- POST /v1/chats and the chat lookup every chat route shares.
local http = require "homie_mock.http"
local json = require "homie_mock.json"
local store = require "homie_mock.store"
local util = require "homie_mock.util"

local M = {}

function M.create(req)
  local body = http.read_json()
  if body.chatbotId == nil then
    return http.error(400, "chatbotId is required and must be a UUID")
  end
  if not util.is_uuid(body.chatbotId) then
    return http.error(400, "chatbotId must be a UUID")
  end
  local user_id = body.userId
  if user_id ~= nil and user_id ~= json.null and not util.is_uuid(user_id) then
    return http.error(400, "userId must be a UUID")
  end
  local chat = {
    id = util.uuid4(),
    chatbotId = body.chatbotId,
    userId = user_id or json.null,
    organizationId = req.org,
    createdAt = util.now_iso(),
  }
  local encoded = json.encode(chat)
  store.put_chat(encoded, chat.id, req.org)
  return http.send(201, encoded)
end

-- Returns the chat JSON, or sends 404 (also for a chat of another key:
-- its existence is not revealed).
function M.require_chat(req)
  local chat = store.get_chat(req.chat_id, req.org)
  if not chat then
    return http.error(404, "Chat " .. req.chat_id .. " not found")
  end
  return chat
end

return M
