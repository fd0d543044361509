-- Loaded inside the spec nginx (spec/support/nginx.lua): small helpers for
-- the code the specs run there. LuaJIT.
-- luacheck: globals ngx
local cjson = require "cjson"

local T = {}

T.KEY = "homie-test-key"
T.BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"

function T.mock_url() return os.getenv("MOCK_URL") end

function T.transport(opts) return require("homie.transport.ngx").new(opts) end

-- A transport request against the emulator: path, and fields to override.
function T.req(t, method, path, fields)
  local req = {
    method = method, url = (fields and fields.base or T.mock_url()) .. path,
    headers = { ["x-api-key"] = T.KEY, ["user-agent"] = "homie-spec", accept = "application/json" },
    deadline_at = t:now() + 10, connect_timeout = 5, max_body = 1048576, idempotent = true,
  }
  for k, v in pairs(fields or {}) do if k ~= "base" then req[k] = v end end
  if req.body then req.headers["content-type"] = "application/json" end
  return req
end

function T.create_chat(t)
  local resp = assert(t:request(T.req(t, "POST", "/v1/chats",
    { body = cjson.encode({ chatbotId = T.BOT }), idempotent = false })))
  return cjson.decode(resp.body).id, resp
end

-- Answers the spec: a JSON object (cjson.null for nil fields is not needed:
-- absent keys are absent).
function T.reply(value)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(value))
end

-- A fail or an error as a plain table for the spec to look at.
function T.failure(f)
  if type(f) ~= "table" then return { error = tostring(f) } end
  return { kind = f.kind, message = f.message, sent = f.sent, retryable = f.retryable, idle = f.idle }
end

return T
