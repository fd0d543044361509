--- The runtime error model. A programming error (a wrong argument, an
-- unknown option) raises at once; every other failure of a call is
-- returned as `nil, err`, `err` being an `Error`: a table with the fields
-- below and a `__tostring`. The API key never appears in any of it.
--
-- `err.kind` says what happened. A *send* is a message send or a chat
-- creation: it is retried only when the server provably did not act on it.
--
-- | kind | when | retried (up to `max_retries`) |
-- |---|---|---|
-- | `connection` | refused, reset, TLS failure, DNS | yes, except a bad certificate; a send only when nothing went out |
-- | `timeout` | an attempt's `timeout`, the call's `deadline`, HTTP 408 | yes; a send only when nothing went out |
-- | `authentication` | HTTP 401 | no |
-- | `permission` | HTTP 403 | no |
-- | `not_found` | HTTP 404 (also another key's chat) | no |
-- | `invalid_request` | HTTP 400, 409, 413, 415, 422 and any other 4xx | 409 only, and not a send |
-- | `rate_limit` | HTTP 429 | yes, after `Retry-After`; a send too |
-- | `server` | HTTP 5xx | 503 always; 500, 502, 504 except a send |
-- | `protocol` | an unparseable or unexpected answer, a body over `max_body`, an event over `max_event_bytes` | no |
--
-- @module homie.errors
-- @usage
-- local reply, err = chat:send(text, { currentUrl = url })
-- if not reply then
--   if err.kind == "rate_limit" then ... end
--   print(tostring(err))  -- homie: rate_limit (HTTP 429): ... [request id ...] after 3 attempts
-- end
local M = {}

local Error = {}
Error.__index = Error
Error.__name = "homie.Error"

function Error:__tostring()
  local s = "homie: " .. self.kind
  if self.status then s = s .. " (HTTP " .. self.status .. ")" end
  s = s .. ": " .. tostring(self.message)
  if self.request_id then s = s .. " [request id " .. self.request_id .. "]" end
  if self.attempts and self.attempts > 1 then s = s .. " after " .. self.attempts .. " attempts" end
  return s
end

local by_status = {
  [400] = "invalid_request", [401] = "authentication", [403] = "permission",
  [404] = "not_found", [408] = "timeout", [409] = "invalid_request",
  [413] = "invalid_request", [415] = "invalid_request", [422] = "invalid_request",
  [429] = "rate_limit",
}

-- The kind of an HTTP status that is not a success.
function M.kind_of_status(status)
  if by_status[status] then return by_status[status] end
  if status >= 500 and status <= 599 then return "server" end
  if status >= 400 and status <= 499 then return "invalid_request" end
  return "protocol"
end

-- A Lua pattern matching `s` in any case: "[aA]" for each letter.
local function any_case(s)
  return (s:gsub(".", function(c)
    if c:find("%a") then return "[" .. c:lower() .. c:upper() .. "]" end
    if c:find("%w") then return c end
    return "%" .. c
  end))
end

-- The patterns a server's echo of the key may take: as it is, upper- or
-- lower-cased, URL-encoded (its reserved characters, or every character;
-- hex digits in either case), JSON-escaped ("/" as "\/"). Made once per key.
local cached_secret, cached_patterns
local function patterns(secret)
  if secret == cached_secret then return cached_patterns end
  local forms, seen, list = {
    secret,
    (secret:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end)),
    (secret:gsub(".", function(c) return ("%%%02X"):format(c:byte()) end)),
    (secret:gsub("/", "\\/")),
  }, {}, {}
  for _, f in ipairs(forms) do
    if not seen[f] then
      seen[f] = true
      list[#list + 1] = any_case(f)
    end
  end
  cached_secret, cached_patterns = secret, list
  return list
end

-- Replaces every form of `secret` (above) in the strings of `v`, keys of
-- tables included (a JSON body may echo the key as an object key).
local function redact(v, secret)
  if not secret or secret == "" then return v end
  if type(v) == "string" then
    for _, p in ipairs(patterns(secret)) do v = v:gsub(p, "[redacted]") end
    return v
  elseif type(v) == "table" then
    local renamed = {}
    for k, x in pairs(v) do
      v[k] = redact(x, secret)
      if type(k) == "string" then
        local k2 = redact(k, secret)
        if k2 ~= k then renamed[k] = k2 end
      end
    end
    for k, k2 in pairs(renamed) do
      v[k2], v[k] = v[k], nil
    end
  end
  return v
end
M.redact = redact

-- fields: kind, message and any of status, body, request_id, retryable, ...
function M.new(fields, secret)
  fields.retryable = fields.retryable or false
  fields.message = redact(tostring(fields.message or fields.kind), secret)
  fields.body = redact(fields.body, secret)
  -- A server may echo anything into x-request-id, the key included.
  if fields.request_id ~= nil then fields.request_id = redact(tostring(fields.request_id), secret) end
  return setmetatable(fields, Error)
end

-- The error for an HTTP answer that is not a success. `decode` turns the
-- body into a table when it is JSON (NestJS bodies carry `message`, a
-- string or an array of strings).
function M.from_response(status, headers, body, decode, secret)
  local decoded = decode(body)
  local msg = type(decoded) == "table" and decoded.message or nil
  if type(msg) == "table" then
    local parts = {}
    for i, m in ipairs(msg) do parts[i] = tostring(m) end
    msg = table.concat(parts, "; ")
  elseif msg ~= nil then
    msg = tostring(msg)
  end
  return M.new({ kind = M.kind_of_status(status), status = status,
    message = msg or ("HTTP " .. status), body = decoded or body,
    request_id = headers["x-request-id"] }, secret)
end

--- True when `v` is an `Error` returned by homie.
-- @param v any value
-- @treturn boolean
-- @usage if errors.is_error(err) then print(err.kind) end
function M.is_error(v) return getmetatable(v) == Error end

--- A runtime failure, returned as the second value of a call that failed.
-- `tostring(err)` gives one line: kind, HTTP status, message, request id
-- and the number of attempts.
-- @type Error

--- What happened: one of the kinds in the table at the top of this page.
-- @tfield string kind

--- A sentence for a person: the server's `message` when it sent one
-- (several joined with "; "), else what the SDK saw.
-- @tfield string message

--- The HTTP status, when an answer came back (nil for a connection
-- failure or a timeout).
-- @tfield[opt] integer status

--- The answer's body, decoded when it was JSON (the emulator and the API
-- answer NestJS-style `{statusCode, message, error}`), else the raw text.
-- @tfield[opt] table|string body

--- The server's `x-request-id`, to quote to Homie's support.
-- @tfield[opt] string request_id

--- Whether the SDK judged the failure worth retrying (it did, up to
-- `max_retries`, before returning it).
-- @tfield boolean retryable

--- How many attempts were made, retries included (for a stream: the
-- connection attempts in a row).
-- @tfield[opt] integer attempts

--- Only on a message send and a chat creation: `false` when the server
-- provably did not act on it (nothing went out, or it answered 429, 503 or
-- another 4xx), `true` when it may have stored it (the connection broke
-- after the request went out, a 2xx cut or garbled, another 5xx). See
-- `homie.chat.Chat:ask` and the client option `reconcile` for getting that answer back.
-- @tfield[opt] boolean maybe_stored

return M
