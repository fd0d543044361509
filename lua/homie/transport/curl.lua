-- The libcurl transport: one homie.curl multi per client. The interface
-- (request, open) is what an OpenResty transport would implement too.
local curl = require "homie.curl"
local sched = require "homie.sched"

local M = {}
local Transport = {}
Transport.__index = Transport

function M.new()
  return setmetatable({ multi = curl.multi() }, Transport)
end

local TRANSPORT_KIND = { connect = "connection", connection = "connection", tls = "connection",
  closed = "connection", timeout = "timeout", too_large = "protocol", protocol = "protocol" }

local function failure(r)
  local kind, msg = r:error()
  local info = r:info()
  return {
    kind = TRANSPORT_KIND[kind] or "connection",
    detail = kind,
    message = (kind == "tls" and "TLS: " or "") .. msg,
    sent = info.request_bytes > 0,      -- false: the server provably never saw it
  }
end

-- req: method, url, headers (array of "Name: value"), body, timeout,
-- connect_timeout, max_body, ca_file, ca_path, insecure, user_agent.
-- Returns {status, headers, body, new_connections} or nil, failure.
function Transport:request(req, deadline)
  local r = self.multi:request(req)
  local finished = sched.wait(self.multi, function() return r:done() end, deadline)
  if not finished then
    local sent = r:info().request_bytes > 0
    r:close()
    return nil, { kind = "timeout", detail = "deadline", message = "deadline exceeded", sent = sent }
  end
  if r:error() then
    local f = failure(r)
    r:close()
    return nil, f
  end
  local resp = { status = r:status(), headers = r:headers(), body = r:body(),
                 new_connections = r:info().new_connections }
  r:close()
  return resp
end

local Stream = {}
Stream.__index = Stream

-- Opens a streaming transfer; bytes are read with :read as they arrive.
function Transport:open(req)
  req.stream = true
  req.max_body = req.max_body or 262144  -- buffered before back-pressure
  req.accept_encoding = false
  return setmetatable({ r = self.multi:request(req), multi = self.multi }, Stream)
end

-- Waits for the response head: status, headers, or nil, failure.
function Stream:head(deadline)
  local r = self.r
  local ok = sched.wait(self.multi, function() return r:headers_done() or r:done() end, deadline)
  if not ok then return nil, { kind = "timeout", message = "no response headers in time", sent = true } end
  if r:headers_done() then return r:status(), r:headers() end
  if r:error() then return nil, failure(r) end
  return nil, { kind = "protocol", message = "connection ended without a response" }
end

-- The next bytes: a string; or nil, "idle" when nothing came before the
-- deadline; or nil, "eof" at a clean end; or nil, failure.
function Stream:read(deadline)
  local r = self.r
  local ok = sched.wait(self.multi, function() return r:pending() > 0 or r:done() end, deadline)
  if r:pending() > 0 then return r:take() end
  if not ok then return nil, "idle" end
  if r:error() then return nil, failure(r) end
  return nil, "eof"
end

-- The whole body of a non-streaming answer on this transfer (error pages).
function Stream:rest(deadline)
  local r = self.r
  sched.wait(self.multi, function() return r:done() end, deadline)
  return r:take()
end

function Stream:close() self.r:close() end

return M
