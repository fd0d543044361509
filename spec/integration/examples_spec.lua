-- The examples are programs users copy: each runs here against the emulator.
local mock = require "spec.support.mock"

-- The interpreter running this suite: under `make asan` that is the
-- sanitizer-linked host, the only one that can load that build of the core.
local LUA = (arg and arg[-1]) or "lua5.4"

local function run(server, script)
  local p = assert(io.popen(("HOMIE_API_KEY=%s HOMIE_BASE_URL=%s LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' "
    .. "LUA_CPATH='./?.so;;' %s %s 2>&1; echo \"exit=$?\""):format(server.api_key, server.url, LUA, script)))
  local out = p:read("a")
  p:close()
  return out
end

describe("examples", function()
  local server
  setup(function() server = mock.start{ chunk_delay_ms = 5 } end)
  teardown(function() server:stop() end)

  it("quickstart asks about the hoodie, shows products and the history", function()
    local out = run(server, "examples/quickstart.lua")
    assert.matches("exit=0", out)
    assert.matches("homie:   Yes! Size L is in stock", out)
    assert.matches("\nBlue Hoodie%s+59%.99 EUR%s+in_stock %(12%)", out)
    assert.matches("%[question%] Does the blue hoodie come in size L%?", out)
    assert.matches("%[answer%] Yes!", out)
  end)

  it("live prints the typing indicator, the tool step, the streamed text and the products", function()
    local out = run(server, "examples/live.lua")
    assert.matches("exit=0", out)
    assert.matches("homie is typing", out)
    assert.matches("%[product_search completed%]", out)
    assert.matches("homie:   Yes! Size L is in stock", out)
    assert.matches("• Blue Hoodie — 59%.99 EUR %(in_stock%)", out)
  end)
end)
