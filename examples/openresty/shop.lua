-- The storefront's server side: three content handlers for nginx.conf.
-- The API key and the shop's secret stay here; the page gets a chat id and
-- a token that lets it follow that chat only.
local cjson = require "cjson.safe"
local homie = require "homie"
local relay = require "homie.ngx"
local metrics = require "metrics"

local M = {}

local CHATBOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"

-- One client per request: cheap, since idle connections live in nginx's
-- per-worker pool (homie.new picks cosockets here by itself). Its records
-- (every API call, and the relays, which use the client's hook) feed /metrics.
local function client()
  return homie.new{ api_key = os.getenv("HOMIE_API_KEY"), base_url = os.getenv("HOMIE_BASE_URL"),
                    observe = metrics.observe }
end

local function reply(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Cache-Control"] = "no-store"
  ngx.print(cjson.encode(value))
end

-- POST /shop/chat -> {chatId, token}: a new conversation for this shopper.
function M.new_chat()
  local chat, err = client():create_chat{ chatbotId = CHATBOT }
  if not chat then return reply(502, { error = err.kind }) end
  -- Following the chat takes a cookie sent only to its relay path (no token
  -- in URLs or logs; secure = false: the demo is plain http on loopback);
  -- posting takes the "post" token the page sends back with each question.
  ngx.header["Set-Cookie"] = relay.token_cookie(chat.id, os.getenv("SHOP_SECRET"),
    "/shop/chats/" .. chat.id .. "/events", { secure = false })
  reply(200, { chatId = chat.id, token = relay.chat_token(chat.id, os.getenv("SHOP_SECRET"), "post", 3600) })
end

-- POST /shop/ask {chatId, token, text, url} -> the reply. The page shows the
-- reply as it streams over the relay; this answer ends the request.
function M.ask()
  ngx.req.read_body()
  local body = cjson.decode(ngx.req.get_body_data() or "")
  if type(body) ~= "table" or type(body.text) ~= "string" or body.text == "" then
    return reply(400, { error = "send {chatId, token, text, url}" })
  end
  if not relay.check_token(body.chatId, os.getenv("SHOP_SECRET"), body.token, "post") then
    return reply(403, { error = "forbidden" })
  end
  local answer, err = client():send_message(body.chatId, body.text:sub(1, 2000),
    { currentUrl = type(body.url) == "string" and body.url or "https://store.example/" })
  if not answer then return reply(502, { error = err.kind }) end
  reply(200, { id = answer.id, content = answer.content })
end

-- The catalogue names its pictures by URL (".../images/blue-hoodie.png");
-- the page shows this server's own drawing of each (pictures.lua), so a
-- shopper's browser never loads anything from elsewhere.
local function local_images(ev)
  if ev.type ~= "message" or type(ev.data) ~= "table" or type(ev.data.products) ~= "table" then return ev end
  for _, p in ipairs(ev.data.products) do
    local slug = type(p) == "table" and type(p.image) == "string" and p.image:match("/images/([a-z0-9-]+)%.%w+$")
    if type(p) == "table" then p.image = "/images/" .. (slug or "product") .. ".svg" end
  end
  return ev
end

-- GET /shop/chats/<id>/events (with new_chat's cookie): the page's EventSource.
function M.events(chat_id)
  relay.relay_events(client(), chat_id, { secret = os.getenv("SHOP_SECRET"), cookie = true,
                                          max_seconds = 300, filter = local_images })
end

return M
