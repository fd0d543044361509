-- The API key never shows, in any form a server may echo it: upper- or
-- lower-cased, URL-encoded, as a JSON object key. Checked on the curl
-- transport (here) and the ngx one (in a real nginx) against the emulator,
-- in err.body, err.message, tostring(err), the client's log lines, and
-- the relay's lines in nginx's error.log.
local mock = require "spec.support.mock"
local nginx = require "spec.support.nginx"
local errors = require "homie.errors"

local KEY = "sk-Live/abc+9-0123456789"
local CHAT = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

local function every_char_encoded(s)
  return (s:gsub(".", function(c) return ("%%%02x"):format(c:byte()) end))
end

-- The forms the emulator echoes (in a 401's body and request id).
local ECHOES = {
  KEY:upper(), KEY:lower(),
  "sk-Live%2Fabc%2B9-0123456789", "sk-live%2fabc%2b9-0123456789",
  every_char_encoded(KEY),
}
local FAULT = { method = "GET", path = "/messages$", fault = { status = 401,
  headers = { ["x-request-id"] = KEY:upper() },
  body = { message = "bad key " .. table.concat(ECHOES, " "), [KEY:upper()] = { [KEY:lower()] = ECHOES[3] } } } }

-- The same call in both places: the outputs that must hold no form of the key.
local CALL = [[
  local lines = {}
  local c = require("homie").new{ api_key = KEY, base_url = MOCK_URL, max_retries = 0,
    logger = function(line) lines[#lines + 1] = line end }
  local _, err = c:list_messages(CHAT)
  return { tostring = tostring(err), message = err.message, request_id = err.request_id,
    body = require("cjson").encode(err.body), lines = table.concat(lines, "\n") }
]]

local function run_call(mock_url)
  local f = assert(load("local KEY, CHAT, MOCK_URL = ...\n" .. CALL))
  return f(KEY, CHAT, mock_url)
end

local function assert_clean(out, where)
  for name, text in pairs(out) do
    for _, form in ipairs({ KEY, KEY:upper(), KEY:lower(), ECHOES[3]:lower(), every_char_encoded(KEY):upper() }) do
      assert.is_nil(text:lower():find(form:lower(), 1, true), where .. " " .. name .. ": " .. text)
    end
  end
  assert.truthy(out.message:find("[redacted]", 1, true), out.message)
  assert.equal("[redacted]", out.request_id)
  assert.truthy(out.body:find('"[redacted]":{"[redacted]":"[redacted]"}', 1, true), out.body)
end

describe("redaction of the key", function()
  local server, app

  setup(function()
    server = mock.start{}
    nginx.build()
    app = nginx.start{ env = { MOCK_URL = server.url, KEY = KEY },
      locations = {
        ["/call"] = "local cjson = require 'cjson'\nlocal f = assert(load('local KEY, CHAT, MOCK_URL = ...\\n' .. "
          .. ("%q"):format(CALL) .. "))\nngx.print(cjson.encode(f(os.getenv('KEY'), '" .. CHAT .. "', os.getenv('MOCK_URL'))))",
        ["/relay"] = [[
          local client = require("homie").new{ api_key = os.getenv("KEY"), base_url = os.getenv("MOCK_URL") }
          require("homie.ngx").relay_events(client, "]] .. CHAT .. [[", { public = true })
        ]],
      } }
  end)
  teardown(function()
    if app then app:stop() end
    if server then server:stop() end
  end)

  it("on the curl transport", function()
    server:fault(FAULT)
    assert_clean(run_call(server.url), "curl")
  end)

  it("on the ngx transport", function()
    server:fault(FAULT)
    assert_clean(app:json("/call"), "ngx")
  end)

  it("in the relay's error.log lines", function()
    server:fault({ method = "GET", path = "/events$", fault = FAULT.fault })
    local status = app:request("GET", "/relay")
    assert.equal(502, status)
    local log = app:error_log()
    assert.truthy(log:find("relay's upstream stream refused", 1, true), log)
    for _, form in ipairs({ KEY, KEY:upper(), KEY:lower(), ECHOES[3]:lower() }) do
      assert.is_nil(log:lower():find(form:lower(), 1, true), log)
    end
  end)

  it("leaves text without the key alone", function()
    assert.equal("sk-Live/abc+8", errors.redact("sk-Live/abc+8", KEY))
  end)
end)
