--- The client: options, the request cycle (headers, JSON, errors, retries,
-- logging) and every public method. Chats, streams and ask are built by the
-- modules that export them; this file installs the methods.
--
-- Every call that sends takes the per-call options `max_retries`, `timeout`
-- (seconds per attempt) and `deadline` (seconds for the whole call). A
-- programming error raises at once, naming the argument; a runtime failure
-- returns `nil, err`, `err` a `homie.errors.Error`.
-- @module homie.client
local util = require "homie.util"
local errors = require "homie.errors"
local retry = require "homie.retry"
local transports = require "homie.transport"
local chat_mod = require "homie.chat"
local stream_mod = require "homie.stream"
local message = require "homie.message"
local reconcile = require "homie.reconcile"

local M = {}

local Client = {}
Client.__index = Client
Client.__name = "homie.Client"

M.VERSION = "0.2.0"

local ENVIRONMENTS = {
  production = "https://api.yourhomie.ai",
  staging = "https://staging.api.yourhomie.ai",
}

local OPTIONS = {
  api_key = true, environment = true, base_url = true, auth = true, timeout = true,
  connect_timeout = true, headers = true, user_agent = true, max_retries = true,
  deadline = true, ca_file = true, ca_path = true, insecure = true, logger = true,
  max_body = true, getenv = true, transport = true, reconcile = true,
}

local function optional(name, v, want)
  if v ~= nil then util.check_type(name, v, want, 4) end
  return v
end

local function positive(name, v, default)
  if v == nil then return default end
  util.check_span(name, v, 3)  -- 1 this, 2 homie.new, 3 its caller (so: no tail call)
  return v
end

local function lua_version()
  return (_VERSION or "Lua"):match("%d+%.%d+") or "?"
end

-- Extra headers from the user, checked.
local function user_headers(list)
  local extra = {}
  for name, value in pairs(optional("headers", list, "table") or {}) do
    name = tostring(name)
    util.check_header_value("headers name", name, 3)
    if not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
      util.fail(("headers: %q is not a valid header name"):format(name), 3)
    end
    extra[name] = util.check_header_value("headers[" .. name .. "]", value, 3)
  end
  return extra
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
--  `getenv` (replaces `os.getenv`).
-- @treturn Client
-- @raise on a missing key, an unknown option (naming the nearest known one)
--  or a value of the wrong type or range
-- @usage local client = homie.new{ api_key = key, environment = "staging", timeout = 20 }
function M.new(opts)
  opts = util.check_opts("homie.new", opts, OPTIONS, 2)
  local getenv = optional("getenv", opts.getenv, "function") or os.getenv
  local key = optional("api_key", opts.api_key, "string") or getenv("HOMIE_API_KEY")
  if not key or key == "" then
    util.fail("no API key: pass api_key to homie.new or set HOMIE_API_KEY", 2)
  end
  util.check_header_value("api_key", key, 2)
  local env = optional("environment", opts.environment, "string") or "production"
  if not ENVIRONMENTS[env] then
    util.fail(("environment must be \"production\" or \"staging\", got %q"):format(env), 2)
  end
  local base = optional("base_url", opts.base_url, "string") or getenv("HOMIE_BASE_URL")
  if base == "" then base = nil end
  base = (base or ENVIRONMENTS[env]):gsub("/+$", "")
  if not base:match("^https?://[^/]") then
    util.fail(("base_url must start with http:// or https://, got %q"):format(base), 2)
  end
  local auth = optional("auth", opts.auth, "string") or "x-api-key"
  if auth ~= "x-api-key" and auth ~= "bearer" then
    util.fail(("auth must be \"x-api-key\" or \"bearer\", got %q"):format(auth), 2)
  end
  local extra = user_headers(opts.headers)
  if opts.user_agent ~= nil then util.check_header_value("user_agent", opts.user_agent, 2) end
  local logger = optional("logger", opts.logger, "function")
  if not logger and getenv("HOMIE_LOG") == "debug" then
    logger = function(line) io.stderr:write(line, "\n") end
  end
  local transport = transports.resolve(opts.transport, 2)
  local ua = ("homie-lua/%s (Lua %s; %s)"):format(M.VERSION, lua_version(), transport.version)
  if opts.user_agent ~= nil then ua = ua .. " " .. opts.user_agent end
  local self = setmetatable({
    base_url = base,
    environment = env,
    timeout = positive("timeout", opts.timeout, 60),
    connect_timeout = positive("connect_timeout", opts.connect_timeout, 10),
    deadline = positive("deadline", opts.deadline, nil),
    max_retries = math.floor(positive("max_retries", opts.max_retries, 2)),
    max_body = positive("max_body", opts.max_body, 8 * 1024 * 1024),  -- checked below
    ca_file = optional("ca_file", opts.ca_file, "string"),
    ca_path = optional("ca_path", opts.ca_path, "string"),
    insecure = optional("insecure", opts.insecure, "boolean") or false,
    reconcile = optional("reconcile", opts.reconcile, "boolean") or false,
    user_agent = ua,
    logger = logger,
    transport = transport,
  }, Client)
  if self.max_body < 1 or self.max_body > 2 ^ 32 or self.max_body % 1 ~= 0 then
    util.fail("max_body must be a whole number of bytes from 1 to 2^32", 2)
  end
  -- The key lives in closures, not fields: nothing can print it by accident.
  -- The headers every request carries are built here, once.
  local base_headers = { ["Accept"] = "application/json", ["User-Agent"] = ua }
  for k, v in pairs(extra) do base_headers[k] = v end
  if auth == "bearer" then
    base_headers["Authorization"] = "Bearer " .. key
  else
    base_headers["x-api-key"] = key
  end
  self._headers = function(more)
    local h = {}
    for k, v in pairs(base_headers) do h[k] = v end
    for k, v in pairs(more or {}) do h[k] = v end
    return h
  end
  self._secret = function() return key end
  return self
end

function Client:__tostring()
  return ("homie.Client(%s)"):format(self.base_url)
end

function Client:log(fmt, ...)
  if self.logger then
    self.logger(errors.redact(fmt:format(...), self._secret()))
  end
end

-- An error table for this client: the key is redacted from it.
function Client:error(fields)
  return errors.new(fields, self._secret())
end

-- The transport request for `path` (with its query string); see doc/transport.md.
function Client:request_for(method, path, body, idempotent, more_headers)
  return {
    method = method, url = self.base_url .. path, body = body, idempotent = idempotent,
    headers = self._headers(more_headers), connect_timeout = self.connect_timeout,
    max_body = self.max_body, ca_file = self.ca_file, ca_path = self.ca_path,
    insecure = self.insecure,
  }
end

-- The per-call options every sending call takes, copied in this one place.
local CALL_OPTIONS = { "max_retries", "timeout", "deadline" }
local function with_call_options(names)
  local t = {}
  for _, k in ipairs(CALL_OPTIONS) do t[k] = true end
  for _, k in ipairs(names) do t[k] = true end
  return t
end

local function check_call_options(opts)
  for _, k in ipairs(CALL_OPTIONS) do
    if opts[k] ~= nil then util.check_span(k, opts[k], 4) end  -- the public method's caller
  end
end

local function call_options(opts, o)
  for _, k in ipairs(CALL_OPTIONS) do o[k] = opts[k] end
  return o
end

-- One API call with retries. o: query (string), body (table), idempotent,
-- and the per-call options max_retries, timeout (per attempt), deadline
-- (the whole call). Returns the decoded body, the response; or nil, err.
-- (internal, not part of the API)
function Client:call(method, path, o)
  local t = self.transport
  local req = self:request_for(method, path .. (o.query or ""), o.body and util.encode(o.body),
    o.idempotent, o.body and { ["Content-Type"] = "application/json" })
  local max_retries = o.max_retries or self.max_retries
  local timeout = o.timeout or self.timeout
  local span = o.deadline or self.deadline
  local deadline_at = span and (t:now() + span) or nil
  local attempt = 0
  while true do
    attempt = attempt + 1
    local started_at = t:now()
    local attempt_at = timeout > 0 and started_at + timeout or nil
    req.deadline_at = util.earliest(attempt_at, deadline_at)
    local resp, fail = t:request(req)
    local err
    if resp and resp.status >= 200 and resp.status <= 299 then
      local data, why = util.decode(resp.body)
      if type(data) == "table" then
        self:log("homie: %s %s -> %d in %.0f ms [request id %s] attempt %d", method, path,
          resp.status, (t:now() - started_at) * 1000, tostring(resp.headers["x-request-id"]), attempt)
        return data, resp
      end
      err = self:error({ kind = "protocol", status = resp.status,
        message = "response body is not a JSON object: " .. tostring(why or type(data)),
        request_id = resp.headers["x-request-id"] })
    elseif resp then
      err = errors.from_response(resp.status, resp.headers, resp.body, util.decode, self._secret())
    else
      err = self:error({ kind = fail.kind, message = fail.message })
    end
    local wait = retry.decide(attempt, resp, fail, o.idempotent)
    err.retryable = wait ~= nil
    err.attempts = attempt
    -- Only the last attempt can have been stored: an earlier one was
    -- retried, so the server provably did not act on it.
    if o.idempotent == false then err.maybe_stored = retry.maybe_acted(resp, fail) end
    local give_up = not wait or attempt > max_retries
      or (deadline_at and t:now() + wait >= deadline_at)
    self:log("homie: %s %s -> %s in %.0f ms [request id %s] attempt %d: %s", method, path,
      tostring(err.status or err.kind), (t:now() - started_at) * 1000,
      tostring(err.request_id), attempt,
      give_up and "giving up" or ("retrying in %.2f s"):format(wait))
    if give_up then return nil, err end
    t:sleep(wait)
  end
end

--- A client: holds the key (never printed), options and the transport.
-- Fields: `base_url`, `environment`, `timeout`, `connect_timeout`,
-- `deadline`, `max_retries`, `max_body`, `user_agent`, `transport`.
-- @type Client


-- REST calls ---------------------------------------------------------------

local CREATE = with_call_options({ "chatbotId", "userId" })
local SEND = with_call_options({ "currentUrl", "store", "reconcile" })
local LIST = with_call_options({ "page", "size" })
local ITER = with_call_options({ "size" })

local function checked_opts(where, opts, allowed)
  opts = util.check_opts(where, opts, allowed, 3)
  check_call_options(opts)
  return opts
end

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
  util.check_id("chatbotId", opts.chatbotId, 2)
  if opts.userId ~= nil then util.check_id("userId", opts.userId, 2) end
  local data, err = self:call("POST", "/v1/chats", call_options(opts, {
    body = { chatbotId = opts.chatbotId, userId = opts.userId }, idempotent = false }))
  if not data then return nil, err end
  return chat_mod.new(self, data)
end

--- A handle for an existing chat, without a request.
-- @string chat_id the chat's id
-- @treturn homie.chat.Chat
-- @raise on a malformed id
-- @usage local chat = client:chat(saved_chat_id)
function Client:chat(chat_id)
  util.check_id("chat_id", chat_id, 2)
  return chat_mod.new(self, { id = chat_id })
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
  util.check_id("chat_id", chat_id, 2)
  util.check_text("text", text, 2)
  opts = checked_opts("send_message", opts, SEND)
  util.check_text("currentUrl", opts.currentUrl, 2)
  if opts.store ~= nil then util.check_text("store", opts.store, 2) end
  local recon = self.reconcile
  if opts.reconcile ~= nil then recon = util.check_type("reconcile", opts.reconcile, "boolean", 2) end
  local started = os.time()  -- wall clock: compared with the server's createdAt
  local data, err = self:call("POST", "/v1/chats/" .. chat_id .. "/messages", call_options(opts, {
    query = util.query({ { "store", opts.store } }),
    body = { message = text, currentUrl = opts.currentUrl }, idempotent = false }))
  if data then return message.normalize(data) end
  if recon and err.maybe_stored then
    local answer = reconcile.find_answer(self, chat_id, text, started, call_options(opts, {}))
    if answer then return message.recovered(answer, err) end
  end
  return nil, err
end

local function check_page_number(name, v)
  if v ~= nil and (type(v) ~= "number" or v < 1 or v ~= math.floor(v)) then
    util.fail(name .. " must be a positive integer", 3)
  end
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
  util.check_id("chat_id", chat_id, 2)
  opts = checked_opts("list_messages", opts, LIST)
  check_page_number("page", opts.page)
  check_page_number("size", opts.size)
  local fmt = function(v) return v and ("%d"):format(v) end
  local data, err = self:call("GET", "/v1/chats/" .. chat_id .. "/messages", call_options(opts, {
    query = util.query({ { "page", fmt(opts.page) }, { "size", fmt(opts.size) } }),
    idempotent = true }))
  if not data then return nil, err end
  for _, m in ipairs(data.items or {}) do message.normalize(m) end
  return data
end

--- Every message across pages, fetched lazily.
-- @string chat_id the chat's id
-- @tparam[opt] table opts `size` (per page), and the per-call options
-- @treturn function an iterator: each message; on failure `false, err` once, then the end
-- @raise on a malformed id
-- @usage for msg, err in client:messages(chat_id) do
--   if not msg then error(err) end
--   print(msg.type, msg.content)
-- end
function Client:messages(chat_id, opts)
  util.check_id("chat_id", chat_id, 2)
  opts = checked_opts("messages", opts, ITER)
  check_page_number("size", opts.size)
  local page, items, i, last, over = 1, nil, 0, false, false
  return function()
    while not over do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      if last then break end
      local p, err = self:list_messages(chat_id, call_options(opts, { page = page, size = opts.size }))
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
--  `max_event_bytes` (1 MiB), `connect_timeout` (the client's `timeout`)
-- @treturn homie.stream.Stream
-- @raise on a malformed id or a wrong option
-- @usage for ev, err in client:events(chat_id) do
--   if not ev then error(err) end
--   print(ev.type, ev.id, ev.data)
-- end
function Client:events(chat_id, opts)
  util.check_id("chat_id", chat_id, 2)
  local stream = stream_mod.new(self, chat_id, opts, 3)  -- not a tail call: level 3 is the caller
  return stream
end

--- Runs each function of `fns` as its own task, all transfers in flight
-- together (calls inside yield instead of blocking).
-- @tparam {function,...} fns the tasks
-- @treturn table element `i` is `table.pack(fns[i]())`
-- @raise when a task raises (naming it), or `fns` holds a non-function
-- @usage local r = client:gather{ function() return a:send(q1, o) end,
--                               function() return b:send(q2, o) end }
function Client:gather(fns)
  util.check_type("tasks", fns, "table", 2)
  for i, fn in ipairs(fns) do
    if type(fn) ~= "function" then util.fail(("gather task %d must be a function"):format(i), 2) end
  end
  return self.transport:gather(fns)
end

--- Seconds on the client's monotonic clock (the transport's).
-- @treturn number
-- @usage local t0 = client:now()
function Client:now() return self.transport:now() end

--- Closes the client: ends every transfer and frees pooled connections.
-- Idempotent; a later call raises.
-- @usage client:close()
function Client:close()
  self.transport:close()
end

return M
