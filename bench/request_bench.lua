-- The request path: requests per second of list_messages (GET,
-- keep-alive) or create_chat (POST, a fresh connection each, as homie sends
-- every non-idempotent call), by homie's client, its transport alone, or
-- LuaSocket's socket.http (its peer in Lua; a connection per request
-- whatever the method), or `decode`: the transport followed by lua-cjson's
-- decode of the body and nothing else, the floor for list_messages with the
-- JSON library we stand on. Several WHO (comma-separated) take turns in slices
-- of SLICE seconds (default 0.05) for SECONDS in all, so each sees the same
-- machine: on shared cores, figures from separate runs differ by 2x.
-- Prints "WHO=rps ..." per WHO.
-- usage: lua5.4 bench/request_bench.lua homie,transport,decode,socket get|post BASE_URL SECONDS API_KEY [SLICE]
local common = require "bench.common"
local whos, what, base, seconds, key, slice = arg[1], arg[2], arg[3], tonumber(arg[4]), arg[5], tonumber(arg[6] or 0.05)
assert(whos and (what == "get" or what == "post") and base and seconds and key,
  "usage: request_bench.lua homie,transport,decode,socket get|post BASE_URL SECONDS API_KEY [SLICE]")
local now = require("homie.sse").now
local CHAT = "a6c7f84b-1dab-4914-92d7-920f7266133d"

local function make(who)
  local one
  if who == "homie" then
    local client = require("homie").new{ api_key = key, base_url = base, max_retries = 0 }
    if what == "get" then
      one = function() assert(client:list_messages(CHAT)) end
    else
      one = function() assert(client:create_chat{ chatbotId = common.BOT }) end
    end
  elseif who == "transport" or who == "decode" then
    local cjson = require "cjson"
    local session = require("homie.session").new{ api_key = key, base_url = base }
    local t = session.transport
    local req = what == "get" and session:request("GET", "/v1/chats/" .. CHAT .. "/messages", nil, true)
      or session:request("POST", "/v1/chats", ('{"chatbotId":"%s"}'):format(common.BOT), false,
        { ["Content-Type"] = "application/json" })
    one = function()
      local resp = assert(t:request(req))
      assert(resp.status == 200 or resp.status == 201)
      if who == "decode" then assert(type(cjson.decode(resp.body)) == "table") end
    end
  elseif who == "socket" then
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
  else
    error("unknown WHO " .. who)
  end
  one() -- warm up: the connection, the DNS cache, the code paths
  return one
end

local list, ones, n, spent = {}, {}, {}, {}
for who in whos:gmatch("[^,]+") do
  list[#list + 1] = who
  ones[who], n[who], spent[who] = make(who), 0, 0
end
local total = 0
while total < seconds do
  for _, who in ipairs(list) do
    local one, k, t0 = ones[who], 0, now()
    local t = t0
    while t - t0 < slice do
      one()
      k = k + 1
      t = now()
    end
    n[who], spent[who] = n[who] + k, spent[who] + (t - t0)
    total = total + (t - t0) / #list
  end
end
local out = {}
for i, who in ipairs(list) do out[i] = ("%s=%.1f"):format(who, n[who] / spent[who]) end
print(table.concat(out, " "))
