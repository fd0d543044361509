-- The incoming request's trace headers as the default of every call
-- (Session:trace), on the fake transport under a stand-in `ngx` global:
-- which phase, which values, which option wins. spec/integration/ngx_relay_observe_spec.lua
-- checks the same in a real nginx.
local h = require "spec.unit.helpers"

local TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
local OWN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

-- Runs fn with an `ngx` global in `phase` whose request has `headers`.
local function in_nginx(phase, headers, fn)
  local var = {}
  for k, v in pairs(headers) do var["http_" .. k] = v end
  _G.ngx = { get_phase = function() return phase end, var = var }
  local ok, err = pcall(fn)
  _G.ngx = nil
  assert(ok, err)
end

-- The trace headers the fake transport saw on a create_chat.
local function sent(client_opts, call_opts, phase, incoming)
  local client, fake = h.client(client_opts)
  fake:on("POST", "/v1/chats", { status = 201, json = { id = h.CHAT } })
  local o = { chatbotId = h.BOT }
  for k, v in pairs(call_opts or {}) do o[k] = v end
  in_nginx(phase or "content", incoming or { traceparent = TP, tracestate = "shop=1" }, function()
    assert(client:create_chat(o))
  end)
  local req = fake.log[#fake.log]
  return { req.headers["traceparent"], req.headers["tracestate"] }
end

describe("forward_trace", function()
  it("sends the incoming traceparent and tracestate in a request phase", function()
    for _, phase in ipairs({ "rewrite", "access", "content" }) do
      assert.same({ TP, "shop=1" }, sent(nil, nil, phase))
    end
  end)

  it("sends nothing outside a request, or from an invalid traceparent", function()
    assert.same({}, sent(nil, nil, "timer"))
    assert.same({}, sent(nil, nil, "content", { traceparent = "00-" .. ("0"):rep(32) .. "-00f067aa0ba902b7-01" }))
    assert.same({}, sent(nil, nil, "content", { tracestate = "shop=1" }))
  end)

  it("drops a tracestate over 512 bytes or with control bytes, keeps the traceparent", function()
    assert.same({ TP }, sent(nil, nil, "content", { traceparent = TP, tracestate = ("x"):rep(513) }))
    assert.same({ TP, ("x"):rep(512) }, sent(nil, nil, "content", { traceparent = TP, tracestate = ("x"):rep(512) }))
    assert.same({ TP }, sent(nil, nil, "content", { traceparent = TP, tracestate = "a=1\0" }))
  end)

  it("is off with forward_trace = false, on homie.new or with", function()
    assert.same({}, sent({ forward_trace = false }))
    local client, fake = h.client()
    fake:on("POST", "/v1/chats", { status = 201, json = { id = h.CHAT } })
    local quiet = client:with{ forward_trace = false }
    in_nginx("content", { traceparent = TP }, function()
      assert(quiet:create_chat{ chatbotId = h.BOT })
      assert(client:create_chat{ chatbotId = h.BOT })
    end)
    assert.is_nil(fake.log[1].headers["traceparent"])
    assert.equal(TP, fake.log[2].headers["traceparent"])
  end)

  it("yields to a call's own traceparent, whole", function()
    assert.same({ OWN }, sent(nil, { traceparent = OWN }))
    assert.same({ OWN, "own=2" }, sent({ forward_trace = false }, { traceparent = OWN, tracestate = "own=2" }))
  end)

  it("refuses a forward_trace that is not a boolean, naming it", function()
    local ok, err = pcall(h.client, { forward_trace = "no" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("forward_trace", 1, true), err)
  end)
end)
