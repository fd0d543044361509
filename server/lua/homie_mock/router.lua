-- Entry point of every request (content_by_lua): common headers, request
-- counting, fault injection, routing, method check, authentication, ids.
local chats = require "homie_mock.chats"
local config = require "homie_mock.config"
local control = require "homie_mock.control"
local faults = require "homie_mock.faults"
local http = require "homie_mock.http"
local messages = require "homie_mock.messages"
local stream = require "homie_mock.stream"
local util = require "homie_mock.util"

local M = {}

local ROUTES = {
  { "^/v1/chats$", "/v1/chats", { POST = chats.create } },
  { "^/v1/chats/([^/]+)/messages$", "/v1/chats/:id/messages", { POST = messages.create, GET = messages.list } },
  { "^/v1/chats/([^/]+)/messages/events$", "/v1/chats/:id/messages/events", { GET = stream.serve }, true },
  { "^/v1/chats/([^/]+)/events$", "/v1/chats/:id/events", { GET = stream.serve }, true },
}

local function find_route(uri)
  for _, r in ipairs(ROUTES) do
    local id = uri:match(r[1])
    if id then return r, id ~= uri and id or nil end
  end
end

local function authenticate()
  local keys = config.get().keys
  local key = ngx.var.http_x_api_key
  if key and keys[key] then return key end
  local auth = ngx.var.http_authorization
  key = auth and auth:match("^[Bb]earer%s+(%S+)%s*$")
  if key and keys[key] then return key end
  return nil
end

-- Faults that answer instead of the application: nothing gets stored.
local function apply_pre_fault(f)
  if f.status then
    local body = f.body
    if body == nil then body = http.error_table(f.status, "Injected fault: " .. (http.REASONS[f.status] or "error")) end
    local headers = f.headers
    if type(body) == "table" then
      body = require("homie_mock.json").encode(body)
    else
      -- A text body is labelled as text, unless the fault names a type.
      headers = {}
      local typed = false
      for k, v in pairs(f.headers or {}) do
        headers[k] = v
        typed = typed or k:lower() == "content-type"
      end
      if not typed then headers["Content-Type"] = "text/plain; charset=utf-8" end
    end
    return http.send(f.status, body, headers)
  elseif f.stall then
    local aborted = false
    ngx.on_abort(function() aborted = true end)
    local until_t = ngx.now() + 120
    while not aborted and ngx.now() < until_t and not ngx.worker.exiting() do ngx.sleep(0.1) end
    return http.abort()
  elseif f.reset == "before_headers" then
    return http.abort()
  end
  ngx.ctx.post_fault = f  -- applied by http.send / the stream
end

local function handle()
  http.stamp()
  local uri, method = ngx.var.uri, ngx.req.get_method()
  if uri:sub(1, 8) == "/__mock/" then return control.handle(uri, method) end

  local route, chat_id = find_route(uri)
  faults.count_request(method, route and route[2] or "(unmatched)")
  local fault = faults.take(method, uri, route and route[4])
  if fault then apply_pre_fault(fault) end

  if not route then return http.error(404, "Cannot " .. method .. " " .. uri) end
  local handler = route[3][method]
  if not handler then
    local allow = {}
    for m in pairs(route[3]) do allow[#allow + 1] = m end
    table.sort(allow)
    return http.error(405, "Method " .. method .. " not allowed on " .. route[2],
      { Allow = table.concat(allow, ", ") })
  end
  local key = authenticate()
  if not key then return http.error(401, "Missing or invalid API key") end
  if chat_id and not util.is_uuid(chat_id) then
    return http.error(400, "chatId must be a UUID")
  end
  local req = { org = util.uuid_from(key), chat_id = chat_id }
  if route[4] then
    -- A delay fault on a stream holds back the headers.
    if fault and fault.delay_ms then
      ngx.sleep(fault.delay_ms / 1000)
      ngx.ctx.post_fault = nil  -- spent: a 404 from the stream must not wait again
    end
    return stream.serve(req, fault)
  end
  return handler(req)
end

-- A bug in a handler answers a JSON 500 (when headers are still unsent)
-- instead of nginx's HTML page. ngx.exit/ngx.sleep yield through pcall
-- under LuaJIT, so only real errors land here.
function M.handle()
  local ok, err = pcall(handle)
  if ok then return end
  local full = type(err) == "table" and err.state_full
  ngx.log(ngx.ERR, "homie-mock handler error: ", full and ("state full: " .. full) or err)
  if ngx.headers_sent then return ngx.exit(444) end
  ngx.ctx.post_fault = nil
  if full then
    -- 507: the server ran out of room. Part of the request may be stored,
    -- so it is not one of the statuses a client may retry a send after.
    return http.error(507, "homie-mock: its state is full (" .. full .. "; --state-mb "
      .. (os.getenv("HOMIE_MOCK_STATE_MB") or "?") .. "): restart it, or start it with a larger --state-mb")
  end
  return http.error(500, "Internal emulator error")
end

return M
