-- The session under a client: what every call shares. It owns the
-- transport, request building, the key (in closures, never a field),
-- errors and their redaction, the logger, the clock and the retry policy.
-- `homie.client` is the public facade over it; chat, stream, ask and
-- reconcile receive the session, never the client's private fields.
local util = require "homie.util"
local errors = require "homie.errors"
local policy = require "homie.policy"
local clock = require "homie.clock"
local transports = require "homie.transport"
local ngx_phase = require "homie.transport.ngx_phase"
local observe = require "homie.observe"

local M = {}

local Session = {}
Session.__index = Session

M.VERSION = "0.2.0"

local ENVIRONMENTS = {
  production = "https://api.yourhomie.ai",
  staging = "https://staging.api.yourhomie.ai",
}

-- Every option homie.new takes.
M.OPTIONS = {
  api_key = true, environment = true, base_url = true, auth = true, timeout = true,
  connect_timeout = true, headers = true, user_agent = true, max_retries = true,
  deadline = true, ca_file = true, ca_path = true, insecure = true, logger = true,
  max_body = true, getenv = true, transport = true, reconcile = true, retry = true,
  observe = true, forward_trace = true,
}

M.REDIRECTS = 5  -- hops a read or a stream follows before a redirect is an error
local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }
M.REDIRECT = REDIRECT

-- Where a redirect from `url` leads, or nil, why; the third value says
-- whether it stays on the same origin (which alone keeps the key). https
-- never goes down to http.
function M.follow(url, location)
  if not location or location == "" then return nil, "a redirect without a Location" end
  local origin = url:match("^(https?://[^/]+)")
  local to = location
  if to:sub(1, 2) == "//" then to = url:match("^(https?:)") .. to
  elseif to:sub(1, 1) == "/" then to = origin .. to
  elseif not to:match("^https?://") then
    return nil, "a redirect to an unsupported location " .. ("%q"):format(to:sub(1, 200))
  end
  if url:match("^https:") and to:match("^http:") then
    return nil, "a redirect from https to http refused: " .. to:sub(1, 200)
  end
  return to, nil, to:match("^(https?://[^/]+)") == origin
end

-- A copy of request headers without the key: what another origin gets
-- (a read's redirect, a stream of another origin).
function M.keyless(headers)
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  h["x-api-key"], h["Authorization"] = nil, nil
  return h
end

-- The per-call options every sending call takes.
M.CALL_OPTIONS = { "max_retries", "timeout", "deadline", "retry", "on_response", "observe",
  "traceparent", "tracestate" }

-- A traceparent option, checked: a W3C version-00 value (homie.observe).
function M.check_traceparent(v)
  util.check_header_value("traceparent", v)
  if not observe.trace_id(v) then
    util.fail(("traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got %q")
      :format(v:sub(1, 80)))
  end
  return v
end

local function optional(name, v, want)
  if v ~= nil then util.check_type(name, v, want) end
  return v
end

local function span(name, v, default)
  if v == nil then return default end
  return util.check_span(name, v)
end

-- Checks the per-call options of `opts` (raising at the user's line).
function M.check_call_options(opts)
  for _, k in ipairs(M.CALL_OPTIONS) do
    local v = opts[k]
    if v ~= nil then
      if k == "retry" then policy.check(v)
      elseif k == "on_response" or k == "observe" then util.check_type(k, v, "function")
      elseif k == "traceparent" then M.check_traceparent(v)
      elseif k == "tracestate" then util.check_header_value(k, v)
      else util.check_span(k, v) end
    end
  end
  return opts
end

-- Extra headers from the user, checked.
local function user_headers(list)
  local extra = {}
  for name, value in pairs(optional("headers", list, "table") or {}) do
    name = tostring(name)
    util.check_header_value("headers name", name)
    if not name:match("^[%w!#$%%&'*+%-.^_`|~]+$") then
      util.fail(("headers: %q is not a valid header name"):format(name))
    end
    extra[name] = util.check_header_value("headers[" .. name .. "]", value)
  end
  return extra
end

local function lua_version()
  return (_VERSION or "Lua"):match("%d+%.%d+") or "?"
end

-- A session from homie.new's options; raises (at the user's line) on any
-- wrong one.
function M.new(opts)
  opts = util.check_opts("homie.new", opts, M.OPTIONS)
  local getenv = optional("getenv", opts.getenv, "function") or os.getenv
  local key = optional("api_key", opts.api_key, "string") or getenv("HOMIE_API_KEY")
  if not key or key == "" then
    util.fail("no API key: pass api_key to homie.new or set HOMIE_API_KEY")
  end
  util.check_header_value("api_key", key)
  local env = optional("environment", opts.environment, "string") or "production"
  if not ENVIRONMENTS[env] then
    util.fail(("environment must be \"production\" or \"staging\", got %q"):format(env))
  end
  local base = optional("base_url", opts.base_url, "string") or getenv("HOMIE_BASE_URL")
  if base == "" then base = nil end
  base = (base or ENVIRONMENTS[env]):gsub("/+$", "")
  if not base:match("^https?://[^/]") then
    util.fail(("base_url must start with http:// or https://, got %q"):format(base))
  end
  local auth = optional("auth", opts.auth, "string") or "x-api-key"
  if auth ~= "x-api-key" and auth ~= "bearer" then
    util.fail(("auth must be \"x-api-key\" or \"bearer\", got %q"):format(auth))
  end
  local extra = user_headers(opts.headers)
  if opts.user_agent ~= nil then util.check_header_value("user_agent", opts.user_agent) end
  local logger = optional("logger", opts.logger, "function")
  if not logger and getenv("HOMIE_LOG") == "debug" then
    logger = function(line) io.stderr:write(line, "\n") end
  end
  local max_body = span("max_body", opts.max_body, 8 * 1024 * 1024)
  if max_body < 1 or max_body > 2 ^ 32 or max_body % 1 ~= 0 then
    util.fail("max_body must be a whole number of bytes from 1 to 2^32")
  end
  local self = setmetatable({
    base_url = base,
    environment = env,
    timeout = span("timeout", opts.timeout, 60),
    connect_timeout = span("connect_timeout", opts.connect_timeout, 10),
    deadline = span("deadline", opts.deadline, nil),
    max_retries = math.floor(span("max_retries", opts.max_retries, 2)),
    max_body = max_body,
    ca_file = optional("ca_file", opts.ca_file, "string"),
    ca_path = optional("ca_path", opts.ca_path, "string"),
    insecure = optional("insecure", opts.insecure, "boolean") or false,
    reconcile = optional("reconcile", opts.reconcile, "boolean") or false,
    policy = policy.new(opts.retry ~= nil and policy.check(opts.retry) or nil),
    logger = logger,
    observe = optional("observe", opts.observe, "function"),
    forward_trace = optional("forward_trace", opts.forward_trace, "boolean") ~= false,
    events_intro = false,  -- the introduction's stream path answered (stream.lua)
  }, Session)
  local transport = transports.resolve(opts.transport)
  self.transport = transport
  local ua = ("homie-lua/%s (Lua %s; %s)"):format(M.VERSION, lua_version(), transport.version)
  if opts.user_agent ~= nil then ua = ua .. " " .. opts.user_agent end
  self.user_agent = ua
  -- The key lives in closures, not fields: nothing can print it by accident.
  -- The headers every request carries are built here, once.
  local base_headers = { ["Accept"] = "application/json", ["User-Agent"] = ua }
  for k, v in pairs(extra) do base_headers[k] = v end
  if auth == "bearer" then
    base_headers["Authorization"] = "Bearer " .. key
  else
    base_headers["x-api-key"] = key
  end
  self.headers = function(more)
    local h = {}
    for k, v in pairs(base_headers) do h[k] = v end
    for k, v in pairs(more or {}) do h[k] = v end
    return h
  end
  self.secret = function() return key end
  return self
end

-- The options a derived session (client:with) may change.
M.WITH_OPTIONS = { timeout = true, connect_timeout = true, max_retries = true, deadline = true,
  retry = true, headers = true, observe = true, logger = true, reconcile = true, forward_trace = true }

-- A session sharing this one's transport (so its connection pools), key and
-- base URL, with `opts` changed; this one is untouched. `headers` are added
-- to this session's own; the key header always stays the key.
function Session:derive(opts)
  opts = util.check_opts("with", opts, M.WITH_OPTIONS)
  local d = {}
  for k, v in pairs(self) do d[k] = v end
  setmetatable(d, Session)
  for _, k in ipairs({ "timeout", "connect_timeout", "deadline" }) do
    if opts[k] ~= nil then d[k] = util.check_span(k, opts[k]) end
  end
  if opts.max_retries ~= nil then d.max_retries = math.floor(util.check_span("max_retries", opts.max_retries)) end
  if opts.retry ~= nil then d.policy = policy.new(policy.check(opts.retry), self.policy) end
  if opts.reconcile ~= nil then d.reconcile = optional("reconcile", opts.reconcile, "boolean") end
  if opts.observe ~= nil then d.observe = optional("observe", opts.observe, "function") end
  if opts.forward_trace ~= nil then d.forward_trace = optional("forward_trace", opts.forward_trace, "boolean") end
  if opts.logger ~= nil then d.logger = optional("logger", opts.logger, "function") end
  if opts.headers ~= nil then
    local extra, parent = user_headers(opts.headers), self.headers
    d.headers = function(more)
      local h = parent()
      local auth, bearer = h["x-api-key"], h["Authorization"]
      for k, v in pairs(extra) do h[k] = v end
      for k, v in pairs(more or {}) do h[k] = v end
      if auth then h["x-api-key"] = auth end
      if bearer then h["Authorization"] = bearer end
      return h
    end
  end
  return d
end

function Session:now() return self.transport:now() end

function Session:log(fmt, ...)
  if self.logger then
    self.logger(errors.redact(fmt:format(...), self.secret()))
  end
end

-- An error table for this session: the key is redacted from it.
function Session:error(fields)
  return errors.new(fields, self.secret())
end

-- The error for an HTTP answer that is not a success (a redirect's carries
-- its `location`).
function Session:error_from(status, headers, body)
  local err = errors.from_response(status, headers, body or "", util.decode, self.secret())
  if REDIRECT[status] then err.location = headers["location"] end
  return err
end

-- The trace headers of a call, decided here only: its `traceparent` and
-- `tracestate` options (checked by check_call_options); else, inside an
-- nginx request and unless `forward_trace = false`, the incoming request's
-- (homie.transport.ngx_phase.incoming_trace), forwarded unchanged.
function Session:trace(o)
  if o and o.traceparent then return o.traceparent, o.tracestate end
  if self.forward_trace then return ngx_phase.incoming_trace() end
end

-- The transport request for `path` (with its query string); see
-- doc/transport.md. `deadline_at` may be set by the caller afterwards.
-- `o`: the call's options, for its trace headers.
function Session:request(method, path, body, idempotent, more_headers, o)
  local headers = self.headers(more_headers)
  local traceparent, tracestate = self:trace(o)
  if traceparent then
    headers["traceparent"] = traceparent
    headers["tracestate"] = tracestate
  end
  return {
    method = method, url = self.base_url .. path, body = body, idempotent = idempotent,
    headers = headers, connect_timeout = self.connect_timeout,
    max_body = self.max_body, ca_file = self.ca_file, ca_path = self.ca_path,
    insecure = self.insecure,
  }
end

-- The observe hook of a call: its own `observe` option, else the client's.
function Session:hook(o)
  return o and o.observe or self.observe
end

-- Hands a record to `hook` (homie.observe.emit: a failing hook is logged).
function Session:emit(hook, record)
  observe.emit(hook, record, function(...) self:log(...) end)
end

-- A call's bounds (homie.clock) from its per-call options over the
-- client's: `timeout` per attempt, `deadline` for the whole call.
function Session:bounds(o)
  return clock.bounds(self.transport, o.timeout or self.timeout, o.deadline or self.deadline)
end

-- The policy of one call: the client's, or the per-call `retry` over it.
function Session:policy_for(o)
  if o.retry then return policy.new(o.retry, self.policy) end
  return self.policy
end

-- What a call's on_response sees: its last attempt's answer.
local function report(fn, resp, err, attempts, seconds, durations)
  fn({ status = resp and resp.status, headers = resp and resp.headers or {},
    request_id = err and err.request_id or (resp and resp.headers["x-request-id"]),
    attempts = attempts, seconds = seconds, durations = durations })
end

-- The record of one attempt (doc/observe.md), built only when a hook is set.
local function attempt_record(req, path, resp, err, attempt, wait, seconds)
  return { type = "attempt", method = req.method, route = observe.route(path),
    status = resp and resp.status, kind = err and err.kind, attempt = attempt, retry_in = wait,
    duration = seconds,
    request_id = err and err.request_id or (resp and resp.headers["x-request-id"]),
    bytes_in = resp and #(resp.body or "") or 0, bytes_out = req.body and #req.body or 0,
    trace_id = observe.trace_id(req.headers["traceparent"]) }
end

-- One API call with retries. o: query (string), body (table), idempotent,
-- `expect` ("object", the default: a JSON object; "nothing": a 2xx with an
-- empty body is success and returns true), `bounds` (a homie.clock bounds
-- shared with the caller) or the per-call options; `on_response(info)`, when
-- given, sees the last attempt's answer: `status`, `headers`, `request_id`,
-- `attempts`, `seconds` (the whole call), `durations` (seconds of each
-- attempt). With an observe hook (the call's, else the client's), each
-- attempt is recorded. Returns the decoded body (or true), the response;
-- or nil, err.
function Session:call(method, path, o)
  local t = self.transport
  local req = self:request(method, path .. (o.query or ""), o.body and util.encode(o.body),
    o.idempotent, o.body and { ["Content-Type"] = "application/json" }, o)
  local hook = self:hook(o)
  local durations = o.on_response and {}
  local max_retries = o.max_retries or self.max_retries
  local b = o.bounds or self:bounds(o)
  local pol = self:policy_for(o)
  local attempt = 0
  while true do
    attempt = attempt + 1
    local started_at = t:now()
    req.deadline_at = b:attempt_at()
    local resp, fail = t:request(req)
    local err
    if resp and REDIRECT[resp.status] and o.idempotent then
      resp, fail = self:redirect(req, resp, b)
    end
    if resp and resp.status >= 200 and resp.status <= 299 then
      local data, why
      if o.expect == "nothing" and (resp.body == "" or resp.status == 204) then
        data = true
      elseif resp.status == 204 or resp.body == "" then
        why = "an empty answer (HTTP " .. resp.status .. ")"
      else
        data, why = util.decode(resp.body)
      end
      if data == true or type(data) == "table" then
        if hook or durations or self.logger then
          local took = t:now() - started_at
          self:log("homie: %s %s -> %d in %.0f ms [request id %s] attempt %d", method, path,
            resp.status, took * 1000, tostring(resp.headers["x-request-id"]), attempt)
          if hook then self:emit(hook, attempt_record(req, path, resp, nil, attempt, nil, took)) end
          if durations then
            durations[attempt] = took
            report(o.on_response, resp, nil, attempt, t:now() - b.started_at, durations)
          end
        end
        return data, resp
      end
      err = self:error({ kind = "protocol", status = resp.status,
        message = "response body is not a JSON object: " .. tostring(why or type(data)),
        request_id = resp.headers["x-request-id"] })
    elseif resp then
      err = self:error_from(resp.status, resp.headers, resp.body)
    else
      err = self:error({ kind = fail.kind, message = fail.message })
    end
    local wait = pol:decide(attempt, resp, fail, o.idempotent)
    err.retryable = wait ~= nil
    err.attempts = attempt
    -- Only the last attempt can have been stored: an earlier one was
    -- retried, so the server provably did not act on it.
    if o.idempotent == false then err.maybe_stored = policy.maybe_acted(resp, fail) end
    local give_up = not wait or attempt > max_retries or not b:allows(wait)
    local took = t:now() - started_at
    self:log("homie: %s %s -> %s in %.0f ms [request id %s] attempt %d: %s", method, path,
      tostring(err.status or err.kind), took * 1000,
      tostring(err.request_id), attempt,
      give_up and "giving up" or ("retrying in %.2f s"):format(wait))
    if hook then
      self:emit(hook, attempt_record(req, path, resp, err, attempt, not give_up and wait or nil, took))
    end
    if durations then durations[attempt] = took end
    if give_up then
      if durations then report(o.on_response, resp, err, attempt, t:now() - b.started_at, durations) end
      return nil, err
    end
    b:sleep(wait)
  end
end

-- Follows a read's redirects (up to REDIRECTS hops, each an attempt of
-- its own inside the bounds `b`). Returns the final answer, or nil, fail.
-- A request that is not idempotent never gets here: a send or a chat
-- creation fails on a 3xx with its status and `location`.
function Session:redirect(req, resp, b)
  local hop_req = {}
  for k, v in pairs(req) do hop_req[k] = v end
  local hops, cross = 0, false
  while resp and REDIRECT[resp.status] do
    hops = hops + 1
    local to, why, same = M.follow(hop_req.url, resp.headers["location"])
    if to and hops > M.REDIRECTS then to, why = nil, "more than " .. M.REDIRECTS .. " redirects" end
    if not to then
      return nil, { kind = "protocol", message = why .. " (HTTP " .. resp.status .. ")", sent = true,
        retryable = false }
    end
    self:log("homie: %s %s -> %d, following to %s", req.method, hop_req.url, resp.status, to)
    cross = cross or not same
    hop_req.url = to
    if cross then hop_req.headers = M.keyless(req.headers) end
    hop_req.deadline_at = b:attempt_at()
    local f
    resp, f = self.transport:request(hop_req)
    if not resp then return nil, f end
  end
  return resp
end

function Session:close() self.transport:close() end

return M
