-- The REST calls (on the client) and the chat handle that wraps them.
local util = require "homie.util"
local client_mod = require "homie.client"

local Client = client_mod.Client
local CALL = client_mod.CALL_OPTIONS

local Chat = {}
Chat.__index = Chat
Chat.__name = "homie.Chat"

-- chat -> client; weak keys so a chat does not outlive its last reference,
-- while the client lives as long as any of its chats.
local owner = setmetatable({}, { __mode = "k" })

local function with(allowed, extra)
  local t = {}
  for k in pairs(allowed) do t[k] = true end
  for _, k in ipairs(extra) do t[k] = true end
  return t
end

local CREATE = with(CALL, { "chatbotId", "userId" })
local SEND = with(CALL, { "currentUrl", "store" })
local LIST = with(CALL, { "page", "size" })
local ITER = with(CALL, { "size" })

local function call_opts(opts, o)
  o.max_retries, o.timeout, o.deadline = opts.max_retries, opts.timeout, opts.deadline
  return o
end

local function make_chat(client, fields)
  local chat = setmetatable(fields, Chat)
  owner[chat] = client
  return chat
end

-- A product that only has the introduction's `uri` also gets `url`.
local function normalize_message(m)
  if type(m) == "table" and type(m.products) == "table" then
    for _, p in ipairs(m.products) do
      if type(p) == "table" and p.url == nil and p.uri ~= nil then p.url = p.uri end
    end
  end
  return m
end

function Client:create_chat(opts)
  opts = util.check_opts("create_chat", opts, CREATE, 2)
  util.check_id("chatbotId", opts.chatbotId, 2)
  if opts.userId ~= nil then util.check_id("userId", opts.userId, 2) end
  local data, err = self:call("POST", "/v1/chats", call_opts(opts, {
    body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = false }))
  if not data then return nil, err end
  return make_chat(self, data)
end

function Client:chat(chat_id)
  util.check_id("chat_id", chat_id, 2)
  return make_chat(self, { id = chat_id })
end

function Client:send_message(chat_id, text, opts)
  util.check_id("chat_id", chat_id, 2)
  util.check_text("text", text, 2)
  opts = util.check_opts("send_message", opts, SEND, 2)
  util.check_text("currentUrl", opts.currentUrl, 2)
  if opts.store ~= nil then util.check_text("store", opts.store, 2) end
  local data, err = self:call("POST", "/v1/chats/" .. chat_id .. "/messages", call_opts(opts, {
    query = util.query({ { "store", opts.store } }),
    body = { message = text, currentUrl = opts.currentUrl }, idempotent = false }))
  if not data then return nil, err end
  return normalize_message(data)
end

local function check_page_number(name, v)
  if v ~= nil and (type(v) ~= "number" or v < 1 or v ~= math.floor(v)) then
    util.fail(name .. " must be a positive integer", 4)
  end
end

function Client:list_messages(chat_id, opts)
  util.check_id("chat_id", chat_id, 2)
  opts = util.check_opts("list_messages", opts, LIST, 2)
  check_page_number("page", opts.page)
  check_page_number("size", opts.size)
  local fmt = function(v) return v and ("%d"):format(v) end
  local data, err = self:call("GET", "/v1/chats/" .. chat_id .. "/messages", call_opts(opts, {
    query = util.query({ { "page", fmt(opts.page) }, { "size", fmt(opts.size) } }),
    idempotent = true }))
  if not data then return nil, err end
  for _, m in ipairs(data.items or {}) do normalize_message(m) end
  return data
end

-- Every message across pages, fetched lazily. On failure yields false, err
-- once, then ends.
function Client:messages(chat_id, opts)
  util.check_id("chat_id", chat_id, 2)
  opts = util.check_opts("messages", opts, ITER, 2)
  check_page_number("size", opts.size)
  local page, items, i, last, over = 1, nil, 0, false, false
  return function()
    while not over do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      if last then break end
      local p, err = self:list_messages(chat_id, { page = page, size = opts.size,
        max_retries = opts.max_retries, timeout = opts.timeout, deadline = opts.deadline })
      if not p then
        over = true
        return false, err
      end
      items, i = p.items or {}, 0
      last = not p.hasNextPage or #items == 0
      page = (p.nextPage and p.nextPage > page) and p.nextPage or page + 1
    end
    over = true
    return nil
  end
end

-- Chat methods: the same calls with the chat's id filled in.
function Chat:send(text, opts) return owner[self]:send_message(self.id, text, opts) end
function Chat:list_messages(opts) return owner[self]:list_messages(self.id, opts) end
function Chat:messages(opts) return owner[self]:messages(self.id, opts) end
function Chat:client() return owner[self] end

function Chat:__tostring() return "homie.Chat(" .. tostring(self.id) .. ")" end

return Chat
