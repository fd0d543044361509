-- The client: configuration, the request cycle (headers, JSON, errors,
-- retries, logging) and the REST calls. Chats and streams build on it.
local sse = require "homie.sse"
local curl_core = require "homie.curl"
local util = require "homie.util"
local errors = require "homie.errors"
local retry = require "homie.retry"
local sched = require "homie.sched"
local curl = require "homie.transport.curl"

local M = {}
local Client = {}
Client.__index = Client
Client.__name = "homie.Client"
M.Client = Client

M.VERSION = "0.1.0"

local ENVIRONMENTS = {
  production = "https://api.yourhomie.ai",
  staging = "https://staging.api.yourhomie.ai",
}

local OPTIONS = {
  api_key = true, environment = true, base_url = true, auth = true, timeout = true,
  connect_timeout = true, headers = true, user_agent = true, max_retries = true,
  deadline = true, ca_file = true, ca_path = true, insecure = true, logger = true,
  max_body = true, getenv = true,
}

local function optional(name, v, want)
  if v ~= nil then util.check_type(name, v, want, 4) end
  return v
end

local function positive(name, v, default)
  v = optional(name, v, "number")
  if v ~= nil and v < 0 then util.fail(name .. " must not be negative", 4) end
  if v == nil then return default end
  return v
end

local function lua_version()
  return (_VERSION or "Lua"):match("%d+%.%d+") or "?"
end

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
  local extra = {}
  for name, value in pairs(optional("headers", opts.headers, "table") or {}) do
    util.check_header_value("headers name", tostring(name), 2)
    if not tostring(name):match("^[%w!#$%%&'*+%-.^_`|~]+$") then
      util.fail(("headers: %q is not a valid header name"):format(tostring(name)), 2)
    end
    util.check_header_value("headers[" .. tostring(name) .. "]", value, 2)
    extra[#extra + 1] = name .. ": " .. value
  end
  local ua = ("homie-lua/%s (Lua %s; libcurl %s)"):format(M.VERSION, lua_version(), curl_core.version())
  if opts.user_agent ~= nil then
    ua = ua .. " " .. util.check_header_value("user_agent", opts.user_agent, 2)
  end
  local logger = optional("logger", opts.logger, "function")
  if not logger and getenv("HOMIE_LOG") == "debug" then
    logger = function(line) io.stderr:write(line, "\n") end
  end
  local self = setmetatable({
    base_url = base,
    environment = env,
    timeout = positive("timeout", opts.timeout, 60),
    connect_timeout = positive("connect_timeout", opts.connect_timeout, 10),
    deadline = positive("deadline", opts.deadline, nil),
    max_retries = math.floor(positive("max_retries", opts.max_retries, 2)),
    max_body = positive("max_body", opts.max_body, 8 * 1024 * 1024),
    ca_file = optional("ca_file", opts.ca_file, "string"),
    ca_path = optional("ca_path", opts.ca_path, "string"),
    insecure = opts.insecure == true,
    user_agent = ua,
    logger = logger,
    transport = curl.new(),
  }, Client)
  -- The key lives in a closure, not a field: nothing can print it by accident.
  local auth_header = auth == "bearer" and ("Authorization: Bearer " .. key) or ("x-api-key: " .. key)
  self._auth = function() return auth_header end
  self._secret = function() return key end
  self._extra_headers = extra
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

function Client:headers(has_body, extra)
  local h = { self._auth(), "Accept: application/json" }
  if has_body then h[#h + 1] = "Content-Type: application/json" end
  h[#h + 1] = "Expect:"  -- no 100-continue round trip
  for _, x in ipairs(self._extra_headers) do h[#h + 1] = x end
  for _, x in ipairs(extra or {}) do h[#h + 1] = x end
  return h
end

function Client:request_options(method, url, headers, body, timeout, fresh)
  return {
    method = method, url = url, headers = headers, body = body, fresh_connect = fresh,
    timeout = timeout, connect_timeout = self.connect_timeout, max_body = self.max_body,
    ca_file = self.ca_file, ca_path = self.ca_path, insecure = self.insecure,
    user_agent = self.user_agent,
  }
end

local CALL_OPTIONS = { max_retries = true, timeout = true, deadline = true }
M.CALL_OPTIONS = CALL_OPTIONS

-- One API call with retries. o: query (string), body (table), idempotent,
-- and the per-call options max_retries, timeout, deadline.
-- Returns the decoded body (nil-free tables), the response; or nil, err.
function Client:call(method, path, o)
  local body = o.body and util.encode(o.body)
  local url = self.base_url .. path .. (o.query or "")
  local headers = self:headers(body ~= nil)
  local max_retries = o.max_retries or self.max_retries
  local timeout = o.timeout or self.timeout
  local span = o.deadline or self.deadline
  local deadline = span and (sse.now() + span) or nil
  local attempt = 0
  while true do
    attempt = attempt + 1
    local started = sse.now()
    local t = timeout
    if deadline then t = math.max(0.001, math.min(t > 0 and t or math.huge, deadline - started)) end
    -- A call that must not run twice goes on a new connection: on a reused
    -- one, libcurl itself would re-send it if the server closed early.
    local resp, fail = self.transport:request(
      self:request_options(method, url, headers, body, t, not o.idempotent), deadline)
    local err
    if resp and resp.status >= 200 and resp.status <= 299 then
      local data, why = util.decode(resp.body)
      if data ~= nil and type(data) == "table" then
        self:log("homie: %s %s -> %d in %.0f ms [request id %s] attempt %d", method, path,
          resp.status, (sse.now() - started) * 1000, tostring(resp.headers["x-request-id"]), attempt)
        return data, resp
      end
      err = errors.new({ kind = "protocol", status = resp.status,
        message = "response body is not a JSON object: " .. tostring(why or type(data)),
        request_id = resp.headers["x-request-id"] }, self._secret())
    elseif resp then
      err = errors.from_response(resp.status, resp.headers, resp.body, util.decode, self._secret())
    else
      err = errors.new({ kind = fail.kind, message = fail.message }, self._secret())
    end
    local wait = retry.decide(err, attempt, resp, fail, o.idempotent)
    err.retryable = wait ~= nil
    err.attempts = attempt
    local give_up = not wait or attempt > max_retries
      or (deadline and sse.now() + wait >= deadline)
    self:log("homie: %s %s -> %s in %.0f ms [request id %s] attempt %d: %s", method, path,
      tostring(err.status or err.kind), (sse.now() - started) * 1000,
      tostring(err.request_id), attempt,
      give_up and "giving up" or ("retrying in %.2f s"):format(wait))
    if give_up then return nil, err end
    sched.sleep(self.transport.multi, wait)
  end
end

function Client:gather(fns)
  util.check_type("tasks", fns, "table", 2)
  return sched.gather(self.transport.multi, fns)
end

function Client:close()
  self.transport.multi:close()
end

return M
