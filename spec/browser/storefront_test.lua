-- The storefront demo in headless Chromium: `make test-browser` (needs
-- Debian's chromium and spec/browser/node_modules; not part of the default
-- spec pattern). Starts scripts/openresty-demo on free ports, runs
-- storefront.mjs against it and checks what the shopper saw.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local socket = require "socket"
local cjson = require "cjson"

local read_file = mock.read_file

describe("the OpenResty storefront in a browser", function()
  local demo, log, port

  setup(function()
    nginx.build()
    port = mock.free_port()
    log = os.tmpname()
    -- The demo stops by itself when this process ($PPID of the shell) ends.
    demo = assert(io.popen("echo $$ >" .. log .. ".pid; HOMIE_DEMO_WATCH_PID=$PPID exec " .. mock.root
      .. "/scripts/openresty-demo --port " .. port .. " >" .. log .. " 2>&1", "r"))
    local deadline = socket.gettime() + 15
    while socket.gettime() < deadline and not (read_file(log) or ""):find("storefront: ", 1, true) do
      socket.sleep(0.05)
    end
    assert((read_file(log) or ""):find("storefront: ", 1, true), read_file(log))
  end)

  teardown(function()
    local pid = tonumber(read_file(log .. ".pid") or "")
    if pid then os.execute("kill -TERM " .. pid .. " 2>/dev/null") end
    if demo then demo:close() end
    os.remove(log)
    os.remove(log .. ".pid")
  end)

  it("asks the hoodie question and shows the answer streaming in, then the Blue Hoodie card", function()
    local p = assert(io.popen("cd " .. mock.root .. "/spec/browser && node storefront.mjs http://127.0.0.1:" .. port .. "/"))
    local out = p:read("a")
    p:close()
    local ok, seen = pcall(cjson.decode, out)
    assert(ok and type(seen) == "table", "storefront.mjs said: " .. out)
    assert.is_nil(seen.error, seen.error)
    assert.equal("Does the blue hoodie come in size L?", seen.question)
    assert.truthy(seen.answer:find("Size L is in stock", 1, true), seen.answer)
    assert.same({ "Blue Hoodie" }, seen.cards)
    assert.is_true(seen.typing)
    -- Streamed: the shopper saw the answer grow, part by part, before it was complete.
    local partial = 0
    for _, text in ipairs(seen.partials) do
      if #text > 0 and #text < #seen.answer and seen.answer:sub(1, #text) == text then partial = partial + 1 end
    end
    assert.is_true(partial >= 2, "partial answers seen: " .. partial)
    assert.same({}, seen.refused)  -- the page needed nothing beyond the shop's origin
  end)
end)
