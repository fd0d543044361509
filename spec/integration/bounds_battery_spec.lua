-- The stall/drip battery over real sockets (curl transport): a hostile
-- server stalls or drips at every phase of a response, and every call
-- returns well within its documented bound (spec/unit/bounds_spec.lua
-- asserts the exact bounds on the virtual clock; here a generous margin
-- makes this a hang detector, not a timing benchmark).
local homie = require "homie"
local socket = require "socket"
local adversary = require "spec.support.adversary"

local CHAT = "0f4b1c2d-3d4e-4f60-b2f2-9f4b1c2d3e4f"
local BOT = "5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f"
local PAGE = "https://store.com/products/blue-hoodie"
local SLACK = 2.5  -- seconds over the bound before it counts as a hang
local B = { timeout = 0.5, deadline = 1, max_retries = 0 }

local function with(extra)
  local o = {}
  for k, v in pairs(B) do o[k] = v end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- Each call: what it does, and its bound in seconds.
local CALLS = {
  { "create_chat", 1, function(c) return c:create_chat(with{ chatbotId = BOT }) end },
  { "send_message", 1, function(c) return c:send_message(CHAT, "L?", with{ currentUrl = PAGE }) end },
  { "list_messages", 1, function(c) return c:list_messages(CHAT, with()) end },
  { "send with reconcile", 1, function(c)
    return c:send_message(CHAT, "L?", with{ currentUrl = PAGE, reconcile = true })
  end },
  { "stream open", 1, function(c)
    local s = c:events(CHAT)  -- connect_timeout: the client's 30 s; the call bounds it
    local a, b = s:open(1)
    s:close()
    return a, b
  end },
  { "next_event", 1, function(c)
    local s = c:events(CHAT)  -- connect_timeout: the client's 30 s; the call bounds it
    local a, b = s:next_event(1)
    if a then a, b = s:next_event(1) end  -- the phase's event came: the next one stalls
    s:close()
    return a, b
  end },
  { "ask", 1, function(c)
    return c:chat(CHAT):ask("L?", with{ currentUrl = PAGE, final_wait = 0.5 })
  end },
}

describe("every call is bounded against a hostile server (curl)", function()
  local names = {}
  for name in pairs(adversary.PHASES) do names[#names + 1] = name end
  table.sort(names)
  for _, phase in ipairs(names) do
    it(phase, function()
      local srv = adversary.start(adversary.PHASES[phase])
      local client = homie.new{ api_key = "k", base_url = srv.url, connect_timeout = 0.5, timeout = 30 }
      local ok, err = pcall(function()
        for _, call in ipairs(CALLS) do
          local t0 = socket.gettime()
          local got = call[3](client)
          local took = socket.gettime() - t0
          assert.is_true(took < call[2] + SLACK,
            ("%s against %q took %.2f s (bound %g s)"):format(call[1], phase, took, call[2]))
          if call[1] ~= "next_event" then
            assert.is_falsy(got and type(got) == "table" and got.id, call[1] .. " got an answer from " .. phase)
          end
        end
      end)
      client:close()
      srv:stop()
      assert(ok, err)
    end)
  end
end)
