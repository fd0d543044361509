-- The request path, one figure per run: requests per second for `seconds`
-- of list_messages (GET, keep-alive) or create_chat (POST, a fresh
-- connection each, as homie sends every non-idempotent call), by homie or by
-- LuaSocket's socket.http (its peer in Lua; it opens a connection per
-- request whatever the method). Prints "rps=N".
-- usage: lua5.4 bench/request_bench.lua homie|socket get|post BASE_URL SECONDS API_KEY
local common = require "bench.common"
local who, what, base, seconds, key = arg[1], arg[2], arg[3], tonumber(arg[4]), arg[5]
assert((who == "homie" or who == "transport" or who == "socket") and (what == "get" or what == "post") and base and seconds and key,
  "usage: request_bench.lua homie|transport|socket get|post BASE_URL SECONDS API_KEY")
local now = require("homie.sse").now
local CHAT = "a6c7f84b-1dab-4914-92d7-920f7266133d"

local one
if who == "homie" then
  local client = require("homie").new{ api_key = key, base_url = base, max_retries = 0 }
  if what == "get" then
    one = function() assert(client:list_messages(CHAT)) end
  else
    one = function() assert(client:create_chat{ chatbotId = common.BOT }) end
  end
elseif who == "transport" then
  local session = require("homie.session").new{ api_key = key, base_url = base }
  local t = session.transport
  local req = what == "get" and session:request("GET", "/v1/chats/" .. CHAT .. "/messages", nil, true)
    or session:request("POST", "/v1/chats", ('{"chatbotId":"%s"}'):format(common.BOT), false,
      { ["Content-Type"] = "application/json" })
  one = function()
    local resp = assert(t:request(req))
    assert(resp.status == 200 or resp.status == 201)
  end
else
  local http, ltn12, cjson = require "socket.http", require "ltn12", require "cjson"
  local body = cjson.encode({ chatbotId = common.BOT })
  local url = base .. (what == "get" and ("/v1/chats/" .. CHAT .. "/messages") or "/v1/chats")
  one = function()
    local out = {}
    local _, code = http.request{
      url = url, method = what == "get" and "GET" or "POST", sink = ltn12.sink.table(out),
      source = what == "post" and ltn12.source.string(body) or nil,
      headers = { ["accept"] = "application/json", ["x-api-key"] = key,
        ["content-type"] = what == "post" and "application/json" or nil,
        ["content-length"] = what == "post" and tostring(#body) or nil },
    }
    assert(code == 200 or code == 201, "socket.http: " .. tostring(code))
    assert(type(cjson.decode(table.concat(out))) == "table")
  end
end

one() -- warm up: the connection, the DNS cache, the code paths
local n, t0 = 0, now()
local t = t0
while t - t0 < seconds do
  one()
  n = n + 1
  t = now()
end
print(("rps=%.1f"):format(n / (t - t0)))
