--- The client: options, the request cycle (headers, JSON, errors, retries,
-- logging) and every public method. Chats, streams and ask are built by the
-- modules that export them; this file installs the methods.
--
-- Every call that sends takes the per-call options `max_retries`, `timeout`
-- (seconds per attempt), `deadline` (seconds for the whole call), `retry`
-- (a policy over the client's), `on_response` (`function(info)`: the raw
-- response), `observe` (replaces the client's hook for the call) and
-- `traceparent`/`tracestate` (W3C trace headers sent on every attempt). A
-- programming error raises at once, naming the argument; a runtime failure
-- returns `nil, err`, `err` a `homie.errors.Error`.
-- @module homie.client
local util = require "homie.util"
local session_mod = require "homie.session"
local chat_mod = require "homie.chat"
local stream_mod = require "homie.stream"
local api = require "homie.api"

local M = {}

local Client = {}
Client.__index = Client
Client.__name = "homie.Client"

M.VERSION = session_mod.VERSION

-- client -> its session. Only this file reads it: every other module is
-- handed the session (or a chat/stream made over it), never the client's
-- insides.
local session_of = setmetatable({}, { __mode = "k" })

-- The fields a client shows (read-only copies of the session's).
local PUBLIC = { "base_url", "environment", "timeout", "connect_timeout", "deadline",
  "max_retries", "max_body", "user_agent", "transport" }

-- The public face of a session.
local function facade(session)
  local self = {}
  for _, k in ipairs(PUBLIC) do self[k] = session[k] end
  session_of[setmetatable(self, Client)] = session
  return self
end

--- Creates a client.
-- @tparam[opt] table opts
--  `api_key` (default: env `HOMIE_API_KEY`; required),
--  `environment` (`"production"` or `"staging"`),
--  `base_url` (default: env `HOMIE_BASE_URL`, else the environment's),
--  `auth` (`"x-api-key"` or `"bearer"`), `timeout` (60 s per attempt),
--  `connect_timeout` (10 s), `deadline` (none), `max_retries` (2),
--  `max_body` (8 MiB), `headers` (extra request headers),
--  `user_agent` (appended to ours), `ca_file`, `ca_path`, `insecure` (false),
--  `logger` (`function(line)`; `HOMIE_LOG=debug` logs to stderr),
--  `transport` (`"curl"`, `"ngx"` or an object; default by runtime),
--  `reconcile` (false: see `Client:send_message`),
--  `observe` (`function(record)`: a record per attempt, stream event and
--  ask; doc/observe.md), `forward_trace` (true: inside an nginx request,
--  its incoming `traceparent` and `tracestate` go on every call; false
--  stops it), `getenv` (replaces `os.getenv`).
-- @treturn Client
-- @raise on a missing key, an unknown option (naming the nearest known one)
--  or a value of the wrong type or range
-- @usage local client = homie.new{ api_key = key, environment = "staging", timeout = 20 }
function M.new(opts)
  return facade(session_mod.new(opts))
end

function Client:__tostring()
  return ("homie.Client(%s)"):format(self.base_url)
end

local with_call_options, call_options = api.with_call_options, api.call_options

--- A client: holds the key (never printed), options and the transport.
-- Fields: `base_url`, `environment`, `timeout`, `connect_timeout`,
-- `deadline`, `max_retries`, `max_body`, `user_agent`, `transport`.
-- @type Client


--- A client with some options changed, sharing this one's transport (its
-- connection pools), key and base URL; this client is untouched. Closing
-- either closes the shared transport.
-- @tparam table opts any of `timeout`, `connect_timeout`, `max_retries`,
--  `deadline`, `retry`, `reconcile`, `observe`, `forward_trace`, `logger`, and `headers`
--  (added to this client's)
-- @treturn Client
-- @raise on an unknown option (naming the nearest known one) or a wrong value
-- @usage local patient = client:with{ timeout = 120, max_retries = 5 }
function Client:with(opts)
  return facade(session_of[self]:derive(opts))
end

-- REST calls ---------------------------------------------------------------

local CREATE = with_call_options({ "chatbotId", "userId" })
local LIST = with_call_options({ "page", "size" })
local ITER = with_call_options({ "size" })

local checked_opts = api.checked_opts

--- Creates a chat (`POST /v1/chats`).
-- Not idempotent: like a send, it is retried only when the server provably
-- did not act on it (429, 503, a refused connection).
-- @tparam table opts `chatbotId` (required), `userId`, and the per-call options
-- @treturn homie.chat.Chat the chat: `id`, `chatbotId`, `userId`, `organizationId`, `createdAt`
-- @return or `nil, err`
-- @raise on a malformed id or an unknown option
-- @usage local chat, err = client:create_chat{ chatbotId = BOT, userId = USER }
function Client:create_chat(opts)
  opts = checked_opts("create_chat", opts, CREATE)
  util.check_id("chatbotId", opts.chatbotId)
  if opts.userId ~= nil then util.check_id("userId", opts.userId) end
  local session = session_of[self]
  local data, err = session:call("POST", "/v1/chats", call_options(opts, {
    body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = false }))
  if not data then return nil, err end
  return chat_mod.new(self, session, data)
end

--- A handle for an existing chat, without a request.
-- @string chat_id the chat's id
-- @treturn homie.chat.Chat
-- @raise on a malformed id
-- @usage local chat = client:chat(saved_chat_id)
function Client:chat(chat_id)
  util.check_id("chat_id", chat_id)
  return chat_mod.new(self, session_of[self], { id = chat_id })
end

--- Sends a shopper's message and returns Homie's reply
-- (`POST /v1/chats/{id}/messages`). Never sent twice: retried only when the
-- server provably did not act on it.
--
-- A failed send's `err.maybe_stored` says whether the server may have
-- stored it. With `reconcile` (this call's option, else the client's), such
-- a failure is followed by a look at the chat's newest messages: the answer
-- after the newest question with the same text stored within 120 s of the
-- send is returned, marked `recovered = true`, the failure in `recovered_from`.
-- That look stays inside the call's `deadline`; without one it reads with
-- the call's `timeout` per read and polls for at most the policy's
-- `reconcile_wait` (10 s).
-- @string chat_id the chat's id
-- @string text the message (UTF-8)
-- @tparam table opts `currentUrl` (required: the page the shopper is on),
--  `store` (a store id), `reconcile` (boolean), and the per-call options
-- @treturn table the reply: `id`, `chatId`, `type`, `content`, `suggestions`,
--  `products` (each with `url`, copied from `uri` when only that came), `createdAt`
-- @return or `nil, err`
-- @raise on a malformed id, non-UTF-8 text, a missing `currentUrl`
-- @usage local reply = assert(client:send_message(chat_id, "Size L?", { currentUrl = url }))
function Client:send_message(chat_id, text, opts)
  util.check_id("chat_id", chat_id)
  opts = api.check_send(text, opts)
  return api.send(session_of[self], chat_id, text, opts)
end

--- One page of a chat's messages (`GET /v1/chats/{id}/messages`).
-- @string chat_id the chat's id
-- @tparam[opt] table opts `page` (1-based), `size`, and the per-call options
-- @treturn table `items`, `totalItems`, `size`, `totalPages`, `currentPage`,
--  `hasPrevPage`, `hasNextPage`, `prevPage`, `nextPage`
-- @return or `nil, err`
-- @raise on a malformed id or a page that is not a positive integer
-- @usage local page = assert(client:list_messages(chat_id, { page = 2, size = 20 }))
function Client:list_messages(chat_id, opts)
  util.check_id("chat_id", chat_id)
  opts = checked_opts("list_messages", opts, LIST)
  api.check_page_number("page", opts.page)
  api.check_page_number("size", opts.size)
  return api.read_page(session_of[self], chat_id, opts)
end

--- Every message across pages, fetched lazily.
-- @string chat_id the chat's id
-- @tparam[opt] table opts `size` (per page), and the per-call options (per page)
-- @treturn function an iterator: each message; on failure `false, err` once, then the end
-- @raise on a malformed id
-- @usage for msg, err in client:messages(chat_id) do
--   if not msg then error(err) end
--   print(msg.type, msg.content)
-- end
function Client:messages(chat_id, opts)
  util.check_id("chat_id", chat_id)
  opts = checked_opts("messages", opts, ITER)
  api.check_page_number("size", opts.size)
  local session = session_of[self]
  local page, items, i, last, over = 1, nil, 0, false, false
  return function()
    while not over do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      if last then break end
      local p, err = api.read_page(session, chat_id, call_options(opts, { page = page, size = opts.size }))
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

--- A chat's event stream: iterate it, or call `next_event`.
-- Nothing is sent until the first read (or `open`).
-- @string chat_id the chat's id
-- @tparam[opt] table opts `last_event_id` (resume after it), `idle_timeout`
--  (60 s of silence before a reconnect), `max_reconnects` (10 in a row),
--  `max_event_bytes` (1 MiB), `connect_timeout` (the client's `timeout`:
--  connecting and the response head, each attempt), `on_comment`
--  (`function(text)` per comment line, in order with the events), `observe`
--  (this stream's hook instead of the client's), `traceparent` and
--  `tracestate` (sent on every connection attempt)
-- @treturn homie.stream.Stream
-- @raise on a malformed id or a wrong option
-- @usage for ev, err in client:events(chat_id) do
--   if not ev then error(err) end
--   print(ev.type, ev.id, ev.data)
-- end
function Client:events(chat_id, opts)
  util.check_id("chat_id", chat_id)
  return stream_mod.new(session_of[self], chat_id, opts)
end

--- An event stream from any URL, with the engine of `events`: reconnects
-- with `Last-Event-ID`, the server's `retry:`, redirects, the same bounds.
-- The client's key goes only to the client's own origin (`base_url`);
-- another origin gets the request without it.
-- @string url an `http://` or `https://` URL
-- @tparam[opt] table opts as `events` (but `last_event_id` is any id), plus
--  `headers` (extra request headers) and `on_error` (`function(err)`, called
--  each time a connection fails or ends before the stream reconnects)
-- @treturn homie.stream.Stream
-- @raise on a URL that is not http(s) or a wrong option
-- @usage for ev in client:stream("https://example.com/feed") do print(ev.data) end
function Client:stream(url, opts)
  util.check_type("url", url, "string")
  if not url:match("^https?://[^/]") then
    util.fail(("url must start with http:// or https://, got %q"):format(url:sub(1, 100)))
  end
  return stream_mod.new(session_of[self], nil, opts, url)
end

--- Runs each function of `fns` as its own task, all transfers in flight
-- together (calls inside yield instead of blocking).
-- @tparam {function,...} fns the tasks
-- @treturn table element `i` is `table.pack(fns[i]())`
-- @raise when a task raises (naming it), or `fns` holds a non-function
-- @usage local r = client:gather{ function() return a:send(q1, o) end,
--                               function() return b:send(q2, o) end }
function Client:gather(fns)
  util.check_type("tasks", fns, "table")
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then util.fail(("gather task %d must be a function"):format(i)) end
  end
  return session_of[self].transport:gather(fns)
end

--- Seconds on the client's monotonic clock (the transport's).
-- @treturn number
-- @usage local t0 = client:now()
function Client:now() return session_of[self]:now() end

--- Closes the client: ends every transfer and frees pooled connections.
-- Idempotent; a later call raises.
-- @usage client:close()
function Client:close()
  session_of[self]:close()
end

-- A method called with a dot (client.send_message(id, ...)) gets its first
-- argument as `self`: say so, instead of failing somewhere inside.
util.guard_methods(Client, "client", function(v) return session_of[v] ~= nil end)

return M
