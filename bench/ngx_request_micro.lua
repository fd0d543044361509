-- The Lua cost of one ngx transport:request with no network: a fake ngx
-- (clock, phase, cosocket) hands back a canned nginx answer, so what is
-- timed is homie's own work per exchange (ngx.lua, h1.lua, http1.lua), as
-- bench/ngx_request_bench.lua's worker would run it. Run under LuaJIT
-- (nginx's Lua); the body arrives in lua_socket_buffer_size pieces (4 KB).
-- usage: luajit bench/ngx_request_micro.lua [N [ROUNDS]]
package.path = "./lua/?.lua;./lua/?/init.lua;./?.lua;" .. package.path
local N, ROUNDS = tonumber(arg[1] or 200000), tonumber(arg[2] or 5)

local body = assert(io.open("bench/static/messages.json")):read("*a")
local answer = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 18:00:00 GMT\r\n"
  .. "Content-Type: application/json\r\nContent-Length: " .. #body .. "\r\n"
  .. "Last-Modified: Sun, 06 Dec 2026 10:00:00 GMT\r\nConnection: keep-alive\r\n"
  .. 'ETag: "6932f2a0-10d9"\r\nAccept-Ranges: bytes\r\n\r\n' .. body
local PIECE = 4096
local pieces = {}
for i = 1, #answer, PIECE do pieces[#pieces + 1] = answer:sub(i, i + PIECE - 1) end

local clock = 1e9
local Sock = {}
Sock.__index = Sock
function Sock.settimeout() end
function Sock.connect() return 1 end
function Sock.getreusedtimes() return 1 end
function Sock.send(_, data) return #data end
function Sock:receiveany()
  local i = self.i + 1
  self.i = i
  return pieces[i], pieces[i] == nil and "timeout" or nil
end
function Sock.setkeepalive() return 1 end
function Sock.close() return 1 end
_G.ngx = {
  now = function() return clock end, update_time = function() end,
  get_phase = function() return "content" end,
  socket = { tcp = function() return setmetatable({ i = 0 }, Sock) end },
  config = { ngx_lua_version = 10025 },
}

local transport = require("homie.transport.ngx").new()
local req = { method = "GET", url = "http://127.0.0.1:8080/v1/chats/a6c7f84b-1dab-4914-92d7-920f7266133d/messages",
  headers = { Accept = "application/json", ["User-Agent"] = "homie-lua/0.1", ["x-api-key"] = "k_0123456789abcdef" },
  idempotent = true, connect_timeout = 10, max_body = 8 * 1024 * 1024 }
-- In nginx every request runs in a coroutine (a connection is owned by one).
local function main()
  local resp = assert(transport:request(req))
  assert(resp.status == 200 and resp.body == body, "wrong answer")
  local times = {}
  for r = 1, ROUNDS do
    local t0 = os.clock()
    for _ = 1, N do
      local got = transport:request(req)
      if got.status ~= 200 then error("status") end
    end
    times[r] = (os.clock() - t0) / N * 1e6
  end
  table.sort(times)
  print(("us per request: median %.2f (min %.2f, max %.2f, %d rounds of %d)"):format(
    times[math.floor((ROUNDS + 1) / 2)], times[1], times[ROUNDS], ROUNDS, N))
end
assert(coroutine.resume(coroutine.create(main)))
