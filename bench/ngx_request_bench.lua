-- The request path inside nginx: in one worker, a raw cosocket loop (the
-- same request text, a keep-alive pool, the head read up to its blank line
-- and the body by Content-Length, no checks), homie's ngx transport
-- (`transport:request`) and homie's client (`list_messages`, with its JSON)
-- each run list_messages GETs against the benchmark's static nginx for a
-- slice of time, taking turns, so all three see the same machine. Prints
-- its rows (bench/row.lua).
-- usage: lua5.4 bench/ngx_request_bench.lua STATIC_URL API_KEY [ROUNDS [SECONDS]]
require "bench.common"  -- package paths
local row = require "bench.row"
local nginx = require "spec.support.nginx"

local static, key, rounds, seconds = arg[1], arg[2], tonumber(arg[3] or 3), tonumber(arg[4] or 1.5)
assert(static and key, "usage: ngx_request_bench.lua STATIC_URL API_KEY [ROUNDS [SECONDS]]")
local SLICE = 0.1

local LOOP = [[
  local who, slice = ngx.var.arg_who, tonumber(ngx.var.arg_slice)
  local base, key = os.getenv("STATIC_URL"), os.getenv("API_KEY")
  local CHAT = "a6c7f84b-1dab-4914-92d7-920f7266133d"
  local path = "/v1/chats/" .. CHAT .. "/messages"
  local one
  if who == "homie" then
    local client = require("homie").new{ api_key = key, base_url = base, transport = "ngx", max_retries = 0 }
    one = function() assert(client:list_messages(CHAT)) end
  elseif who == "transport" then
    local session = require("homie.session").new{ api_key = key, base_url = base, transport = "ngx" }
    local req = session:request("GET", path, nil, true)
    local t = session.transport
    one = function()
      local resp = assert(t:request(req))
      assert(resp.status == 200)
    end
  else
    local host, port = base:match("^http://([^:/]+):(%d+)")
    port = tonumber(port)
    local text = "GET " .. path .. " HTTP/1.1\r\nhost: " .. host .. ":" .. port
      .. "\r\naccept: application/json\r\nuser-agent: raw\r\nx-api-key: " .. key .. "\r\n\r\n"
    one = function()
      local sock = ngx.socket.tcp()
      sock:settimeout(10000)
      assert(sock:connect(host, port))
      assert(sock:send(text))
      local head = assert(sock:receiveuntil("\r\n\r\n")())
      local len = tonumber(head:match("\n[Cc]ontent%-[Ll]ength:%s*(%d+)"))
      local body = assert(sock:receive(len))
      assert(head:sub(10, 12) == "200" and #body == len)
      sock:setkeepalive(30000, 32)
    end
  end
  one() -- warm: the connection, the modules
  ngx.update_time()
  local n, t0 = 0, ngx.now()
  local t = t0
  while t - t0 < slice do
    one()
    n = n + 1
    ngx.update_time()
    t = ngx.now()
  end
  ngx.print(n, " ", t - t0)
]]

nginx.build()
local app = nginx.start{ locations = { ["/loop"] = LOOP }, env = { STATIC_URL = static, API_KEY = key } }
local WHO = { "raw", "transport", "homie" }
local rps = { raw = {}, transport = {}, homie = {} }
local ok, err = pcall(function()
  for r = 1, rounds do
    local n, spent = { raw = 0, transport = 0, homie = 0 }, { raw = 0, transport = 0, homie = 0 }
    local total = 0
    while total < seconds do
      for _, who in ipairs(WHO) do
        local status, _, body = app:request("GET", ("/loop?who=%s&slice=%s"):format(who, SLICE))
        if status ~= 200 then error(who .. ": HTTP " .. tostring(status) .. "\n" .. app:error_log()) end
        local k, s = body:match("^(%d+) ([%d.]+)$")
        n[who], spent[who] = n[who] + tonumber(k), spent[who] + tonumber(s)
        total = total + tonumber(s) / #WHO
      end
    end
    for _, who in ipairs(WHO) do rps[who][r] = n[who] / spent[who] end
  end
end)
app:stop()
if not ok then error(err, 0) end
row{ name = "ngx transport:request, one worker", unit = "req/s", rounds = rps.transport,
  peer = "raw cosocket loop, same worker", peer_rounds = rps.raw, better = "higher", target = 0.9 }
row{ name = "ngx list_messages, one worker", unit = "req/s", rounds = rps.homie,
  peer = "its ngx transport:request alone", peer_rounds = rps.transport, better = "higher" }
