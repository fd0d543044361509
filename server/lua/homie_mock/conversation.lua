-- What a chat is talking about: the gtin of the product its last answer
-- showed, so a follow-up ("How does the sizing run?") stays on it. Kept in
-- the shared dict beside the chat (store.lua's layout: `about:<chat id>`).
local dict = ngx.shared.homie_state

local M = {}

function M.subject(chat_id)
  return dict:get("about:" .. chat_id)
end

function M.remember(chat_id, gtin)
  if gtin then dict:set("about:" .. chat_id, gtin) end
end

return M
