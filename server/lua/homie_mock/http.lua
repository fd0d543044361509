-- Response and request helpers. Every answer of the emulator goes through
-- M.send, which is also where post-handling faults (delay, truncate,
-- malformed, drip, mid-body reset) shape the bytes on the wire.
local json = require "homie_mock.json"

local M = {}

M.MAX_BODY = 64 * 1024

M.REASONS = {
  [200] = "OK", [201] = "Created", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [408] = "Request Timeout",
  [409] = "Conflict", [413] = "Payload Too Large", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout", [507] = "Insufficient Storage",
}

-- NestJS's default exception body.
function M.error_table(status, message)
  return { statusCode = status, message = message, error = M.REASONS[status] or "Error" }
end

-- Closes the connection with nothing more written (nginx's special 444).
function M.abort()
  return ngx.exit(444)
end

local function drip(body, ms)
  ngx.header["Content-Length"] = #body
  ngx.send_headers()
  -- About ten pieces: slow enough to be seen, short enough for tests.
  local step = math.max(8, math.ceil(#body / 10))
  for i = 1, #body, step do
    if i > 1 then ngx.sleep(ms / 1000) end
    ngx.print(body:sub(i, i + step - 1))
    local ok = ngx.flush(true)
    if not ok then return M.abort() end
  end
  return ngx.exit(ngx.OK)
end

-- Sends a complete response. headers: optional table of extra headers.
function M.send(status, body, headers)
  local f = ngx.ctx.post_fault
  if f and f.delay_ms then ngx.sleep(f.delay_ms / 1000) end
  ngx.status = status
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  if f then
    if f.malformed then
      body = "not json at all"
    elseif f.truncate then
      body = body:sub(1, math.floor(#body / 2))
    end
    if f.reset == "mid_body" then
      -- Promise more than we send, then drop the connection.
      ngx.header["Content-Length"] = #body + 1024
      ngx.send_headers()
      ngx.print(body:sub(1, math.floor(#body / 2)))
      ngx.flush(true)
      return M.abort()
    end
    if f.drip_ms then return drip(body, f.drip_ms) end
  end
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.OK)
end

function M.json(status, value, headers)
  return M.send(status, json.encode(value), headers)
end

function M.error(status, message, headers)
  return M.json(status, M.error_table(status, message), headers)
end

-- Reads the request body as a JSON object. Returns the table, or sends the
-- 400/413 error itself (never returns in that case).
function M.read_json()
  local declared = tonumber(ngx.var.http_content_length)
  if declared and declared > M.MAX_BODY then
    ngx.req.discard_body()
    return M.error(413, "request entity too large: the limit is 65536 bytes")
  end
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  -- nginx spills bodies larger than client_body_buffer_size (> 64 KiB) to a file.
  if (not data and ngx.req.get_body_file()) or (data and #data > M.MAX_BODY) then
    return M.error(413, "request entity too large: the limit is 65536 bytes")
  end
  if not data or data == "" then
    return M.error(400, "request body must be a JSON object")
  end
  local value = json.decode(data)
  if type(value) ~= "table" or value[1] ~= nil then
    return M.error(400, "request body is not valid JSON: expected a JSON object")
  end
  return value
end

-- error_page target for bodies nginx itself refuses (over client_max_body_size).
-- The headers every response carries: its id, and the connection and the
-- protocol (HTTP/1.1, HTTP/2.0) that carried it.
function M.stamp()
  ngx.header["x-request-id"] = ngx.var.request_id
  ngx.header["x-homie-mock-connection"] = ngx.var.connection
  ngx.header["x-homie-mock-protocol"] = ngx.var.server_protocol
end

function M.too_large()
  M.stamp()
  return M.error(413, "request entity too large: the limit is 65536 bytes")
end

return M
