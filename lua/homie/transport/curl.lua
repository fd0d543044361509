-- The libcurl transport (doc/transport.md): one homie.curl multi handle per
-- client, every transfer of the client on it, so several are in flight at
-- once; its waiting and `gather` live in curl_sched.
local curl = require "homie.curl"
local sse = require "homie.sse"
local sched = require "homie.transport.curl_sched"

local M = {}
local Transport = {}
Transport.__index = Transport

local now = sse.now

function M.new()
  -- opts, lines, values: what options() fills in again for every transfer
  -- (multi:request copies what it needs before it returns).
  return setmetatable({ multi = curl.multi(), name = "curl", version = "libcurl " .. curl.version(),
    opts = { headers = { "Expect:" } }, lines = {}, values = {} }, Transport)
end

-- homie.curl's error kinds as the interface's failures.
local KIND = { connect = "connection", connection = "connection", tls = "connection",
  closed = "connection", timeout = "timeout", too_large = "protocol", protocol = "protocol" }
local FINAL = { tls = true, too_large = true }  -- trying again cannot help

local function failure(r)
  local kind, msg = r:error()
  return {
    kind = KIND[kind] or "connection",
    message = (kind == "tls" and "TLS: " or "") .. msg,
    -- libcurl counts the request bytes it wrote: 0 means the server never saw it.
    sent = r:info().request_bytes > 0,
    retryable = not FINAL[kind],
  }
end

-- The interface's request as homie.curl's options, in the transport's one
-- options table: filled in afresh for each transfer, no table made. A
-- header's "Name: value" line is made again only when its value changed
-- (lines and values hold one entry per header name).
local function options(self, req, stream)
  local o, lines, values = self.opts, self.lines, self.values
  local h = o.headers -- h[1] = "Expect:": no 100-continue round trip
  local n = 1
  for name, value in pairs(req.headers) do
    n = n + 1
    if values[name] ~= value or not lines[name] then
      lines[name] = name .. ": " .. value
      values[name] = value
    end
    h[n] = lines[name]
  end
  for i = n + 1, #h do h[i] = nil end
  local timeout = 0
  if req.deadline_at and not stream then timeout = math.max(0.001, req.deadline_at - now()) end
  o.method, o.url, o.body, o.stream = req.method, req.url, req.body, stream
  o.max_body = stream and 262144 or req.max_body  -- streams: buffered before back-pressure
  o.timeout, o.connect_timeout = timeout, req.connect_timeout
  o.accept_encoding, o.ca_file, o.ca_path = not stream, req.ca_file, req.ca_path
  o.insecure = req.insecure == true
  -- On a reused connection libcurl itself re-sends a request once when
  -- the server closes early: a call that must not run twice goes fresh,
  -- over HTTP/1.1, where no other transfer can share (reuse) its
  -- connection while it runs; over https the rest share one h2
  -- connection when the server offers it (doc/transport.md, "HTTP/2").
  o.fresh_connect = req.idempotent == false
  return o
end

-- What a wait waits for, given the transfer (no closure per wait).
local function is_done(r) return r:done() end
local function has_head(r) return r:headers_done() or r:done() end
local function has_bytes(r) return r:pending() > 0 or r:done() end

function Transport.now() return now() end
function Transport:sleep(seconds) sched.sleep(self.multi, seconds) end
function Transport:gather(fns) return sched.gather(self.multi, fns) end
function Transport:beside(main, side) return sched.beside(self.multi, main, side) end
function Transport:close() self.multi:close() end

function Transport:request(req)
  local r = self.multi:request(options(self, req, false))
  local finished = sched.wait(self.multi, r, is_done, req.deadline_at)
  if not finished then
    local sent = r:info().request_bytes > 0
    r:close()
    return nil, { kind = "timeout", message = "deadline exceeded", sent = sent, retryable = true }
  end
  -- { status, headers, body, new_connections } in one call; nil: it failed.
  local resp = r:response()
  if not resp then
    local f = failure(r)
    r:close()
    return nil, f
  end
  r:close()
  return resp
end

local Stream = {}
Stream.__index = Stream

function Transport:open(req)
  return setmetatable({ r = self.multi:request(options(self, req, true)), multi = self.multi }, Stream)
end

function Stream:head(deadline_at)
  local r = self.r
  local ok = sched.wait(self.multi, r, has_head, deadline_at)
  if not ok then
    return nil, { kind = "timeout", message = "no response headers in time", sent = true, retryable = true }
  end
  if r:headers_done() then return r:status(), r:headers() end
  if r:error() then return nil, failure(r) end
  return nil, { kind = "protocol", message = "connection ended without a response", sent = true, retryable = true }
end

function Stream:read(deadline_at)
  local r = self.r
  local ok = sched.wait(self.multi, r, has_bytes, deadline_at)
  if r:pending() > 0 then return r:take() end
  if not ok then
    return nil, { kind = "timeout", message = "no bytes in time", sent = true, retryable = true, idle = true }
  end
  if r:error() then return nil, failure(r) end
  return nil
end

function Stream:rest(deadline_at)
  local r = self.r
  sched.wait(self.multi, r, is_done, deadline_at)
  return r:take()
end

function Stream:close() self.r:close() end

return M
