-- The non-blocking proof: one nginx worker (nginx's Lua module) serves N
-- concurrent shoppers, each creating a chat and sending a message whose
-- reply takes about half a second on the emulator. Prints N at once
-- against one alone, for the ngx transport and, as the named peer, for
-- transport = "curl" forced (libcurl blocks the worker: shoppers queue).
-- Usage: lua5.4 bench/openresty.lua [--shoppers 200] [--curl-shoppers 20] [--chunk-delay-ms 35]
require "bench.common"  -- package paths
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"

local n, n_curl, delay = 200, 20, 35
for i = 1, #arg, 2 do
  if arg[i] == "--shoppers" then n = tonumber(arg[i + 1])
  elseif arg[i] == "--curl-shoppers" then n_curl = tonumber(arg[i + 1])
  elseif arg[i] == "--chunk-delay-ms" then delay = tonumber(arg[i + 1])
  else error("unknown option " .. arg[i]) end
end

local ASK = [[
  local homie = require "homie"
  local transport = ngx.var.arg_transport
  local client = homie.new{ api_key = "homie-test-key", base_url = os.getenv("MOCK_URL"), transport = transport,
                            timeout = 300 }
  local chat = assert(client:create_chat{ chatbotId = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f" })
  local reply = assert(chat:send("Does the blue hoodie come in size L?",
    { currentUrl = "https://store.com/products/blue-hoodie" }))
  client:close()
  ngx.print(client.transport.name, " ", reply.products[1].designation)
]]

-- N requests at once over N sockets (a select loop); returns the seconds
-- until the last full answer, and how many answers were right.
local function shoppers(port, count, transport)
  local socks, pending, answers = {}, {}, {}
  local t0 = socket.gettime()
  for _ = 1, count do
    local c = assert(socket.tcp())
    c:settimeout(10)
    assert(c:connect("127.0.0.1", port))
    assert(c:send("GET /shop/ask?transport=" .. transport .. " HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n"))
    c:settimeout(0)
    socks[#socks + 1], pending[c], answers[c] = c, true, {}
  end
  local deadline, left = t0 + 600, count
  while left > 0 and socket.gettime() < deadline do
    local ready = socket.select(socks, nil, 1)
    for _, c in ipairs(ready) do
      if pending[c] then
        local data, err, partial = c:receive(65536)
        local got = data or partial
        if got and got ~= "" then table.insert(answers[c], got) end
        if err == "closed" then pending[c], left = nil, left - 1; c:close() end
      end
    end
    local keep = {}
    for _, c in ipairs(socks) do if pending[c] then keep[#keep + 1] = c end end
    socks = keep
  end
  local elapsed = socket.gettime() - t0
  local right = 0
  for _, parts in pairs(answers) do
    if table.concat(parts):find(transport .. " Blue Hoodie", 1, true) then right = right + 1 end
  end
  for _, c in ipairs(socks) do c:close() end
  return elapsed, right
end

local server = mock.start{ chunk_delay_ms = delay }
nginx.build()
local app = nginx.start{ locations = { ["/shop/ask"] = ASK }, env = { MOCK_URL = server.url },
                         worker_connections = 4096 }
local ok, err = pcall(function()
  print(("one nginx worker; each shopper creates a chat and sends a message (emulator chunk delay %d ms)"):format(delay))
  for _, run in ipairs({ { "ngx", n }, { "curl", n_curl } }) do
    local transport, count = run[1], run[2]
    shoppers(app.port, 1, transport)  -- warm: modules loaded, connections made
    local alone, right1 = shoppers(app.port, 1, transport)
    local together, right = shoppers(app.port, count, transport)
    assert(right1 == 1 and right == count, ("%s: %d of %d answers right"):format(transport, right, count))
    print(("%-5s one alone %6.3f s   %3d at once %7.3f s   ratio %5.2fx"):format(
      transport, alone, count, together, together / alone))
  end
  print(("(target for ngx: ratio <= 1.5; curl blocks the worker, so its ratio grows with the count)"))
end)
app:stop()
server:stop()
if not ok then error(err, 0) end
