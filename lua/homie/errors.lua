--- The runtime error model: every failure that is not a programming error is
-- returned as `nil, err` where err is one of these tables.
-- @module homie.errors
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

--- True when `v` is a `Error`.
-- @param v any value
-- @treturn boolean
-- @usage if errors.is_error(err) then print(err.kind) end
function M.is_error(v) return getmetatable(v) == Error end

--- A runtime failure. Fields: `kind` (`connection`, `timeout`,
-- `authentication`, `permission`, `not_found`, `invalid_request`,
-- `rate_limit`, `server`, `protocol`), `message`, `status` (when an HTTP
-- status came back), `body` (decoded when JSON), `request_id`, `retryable`,
-- `attempts`; on a message send or chat creation also `maybe_stored`
-- (false only when the server provably did not act on it).
-- `tostring(err)` gives one line; the API key never appears.
-- @type Error

return M
