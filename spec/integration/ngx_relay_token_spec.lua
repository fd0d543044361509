-- The relay's tokens in a real nginx (doc/openresty.md, "Tokens"): a purpose
-- each, a bounded lifetime, secrets of 32 bytes or more, rotation, the
-- cookie form, and signatures that must match to the character. Tokens
-- are also made with openssl here: an independent reading of the format.
local nginx = require "spec.support.nginx"
local mock = require "spec.support.mock"

local CHAT = "8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
local OTHER = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
local NEW = "new-secret-0123456789abcdef0123456789"
local OLD = "old-secret-0123456789abcdef0123456789"
local DAY = 24 * 3600

-- Every location answers "error: <message>" when the call raised.
local COMMON = [[
  local relay = require "homie.ngx"
  local args = ngx.req.get_uri_args()
  local S = { new = os.getenv("NEW"), old = os.getenv("OLD"), short = string.rep("s", 31), empty = "" }
  local function secret()
    local list = {}
    for name in (args.secrets or "new"):gmatch("[^,]+") do list[#list + 1] = S[name] end
    return #list == 1 and list[1] or list
  end
  local function answer(ok, ...)
    if not ok then ngx.print("error: ", (...)) else ngx.print(tostring((...))) end
  end
]]

local LOCATIONS = {
  ["/mint"] = COMMON .. [[ answer(pcall(relay.chat_token, args.chat, secret(), args.purpose, tonumber(args.ttl))) ]],
    -- The token as sent, not URL-decoded: the bytes a shop's handler would have.
  ["/check"] = COMMON .. [[ answer(pcall(relay.check_token, args.chat, secret(), ngx.var.arg_token, args.purpose)) ]],
  ["/cookie"] = COMMON .. [[
    answer(pcall(relay.token_cookie, args.chat, secret(), "/relay/" .. args.chat, { secure = args.secure ~= "no" })) ]],
  ["/relay"] = COMMON .. [[
    local client = require("homie").new{ api_key = "homie-test-key",
      base_url = "http://127.0.0.1:" .. ngx.var.server_port .. "/up" }
    local opts = { secret = secret(), token = ngx.var.arg_token }
    if args.mode == "cookie" then opts.token, opts.cookie = nil, true end
    if args.mode == "authorize" then
      local ANSWERS = { ["true"] = true, ["false"] = false, ["nil"] = nil, yes = "yes", one = 1 }
      opts.secret, opts.token = nil, nil
      opts.authorize = function()
        if args.answer == "raise" then error("authorize broke") end
        return ANSWERS[args.answer]
      end
    end
    local ok, err = pcall(relay.relay_events, client, args.chat, opts)
    if not ok then ngx.status = 500 ngx.print("error: ", err) end
  ]],
}

-- A chat with nothing to stream: an allowed relay answers 204.
local UPSTREAM = [[ ngx.status = 204 ]]

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function b64url(s) return (s:gsub("[+/=]", { ["+"] = "-", ["/"] = "_", ["="] = "" })) end

-- The mac of the spec, by openssl, as standard base64.
local function openssl_mac(secret, purpose, chat, expires)
  return mock.sh(("printf 'homie-token/v1\\n%%s\\n%%s\\n%%s' %s %s %s | openssl dgst -sha1 -hmac %s -binary | base64")
    :format(purpose, chat, expires, mock.shq(secret)))
end

local function openssl_token(secret, purpose, chat, expires)
  return "v1." .. purpose .. "." .. expires .. "." .. b64url(openssl_mac(secret, purpose, chat, expires))
end

describe("homie.ngx tokens", function()
  local app

  setup(function()
    nginx.build()
    app = nginx.start{ locations = LOCATIONS, env = { NEW = NEW, OLD = OLD },
      server = "location /up/ {\n content_by_lua_block {\n" .. UPSTREAM .. "\n }\n}" }
  end)
  teardown(function() if app then app:stop() end end)

  local function get(path) return select(3, app:request("GET", path)) end
  local function mint(q) return get("/mint?chat=" .. CHAT .. "&" .. q) end
  local function check(token, q) return get("/check?chat=" .. CHAT .. "&token=" .. token .. "&" .. (q or "purpose=events")) end
  local function relay_status(q, headers) return (app:request("GET", "/relay?chat=" .. CHAT .. "&" .. q, nil, headers)) end

  it("follows the format of the spec: openssl makes the same token", function()
    local token = mint("purpose=events&ttl=600")
    local expires = token:match("^v1%.events%.(%d+)%.[%w_-]+$")
    assert.truthy(expires, token)
    assert.equal(openssl_token(NEW, "events", CHAT, expires), token)
    assert.equal("true", check(openssl_token(NEW, "post", CHAT, os.time() + 60), "purpose=post"))
  end)

  it("a token is good for its own purpose and chat only", function()
    local events, post = mint("purpose=events"), mint("purpose=post")
    assert.equal("true", check(events, "purpose=events"))
    assert.equal("true", check(post, "purpose=post"))
    assert.equal("false", check(events, "purpose=post"))
    assert.equal("false", check(post, "purpose=events"))
    assert.equal("false", get("/check?purpose=events&chat=" .. OTHER .. "&token=" .. events))
    assert.equal(204, relay_status("token=" .. events))
    assert.equal(403, relay_status("token=" .. post))
    assert.truthy(get("/check?chat=" .. CHAT .. "&token=" .. events):find("^error: .*purpose must be"))
    assert.truthy(mint("purpose=read"):find('^error: .*purpose must be "events" or "post", got "read"'))
  end)

  it("lives 1 hour by default and never more than 7 days", function()
    local expires = tonumber(mint("purpose=events"):match("^v1%.events%.(%d+)%."))
    assert.truthy(math.abs(expires - (os.time() + 3600)) <= 5)
    assert.truthy(mint("purpose=events&ttl=" .. 7 * DAY):find("^v1%."))
    assert.truthy(mint("purpose=events&ttl=" .. 7 * DAY + 1):find("^error: .*ttl must be"))
    assert.truthy(mint("purpose=events&ttl=1e13"):find("^error: .*ttl must be"))
    assert.equal("false", check(openssl_token(NEW, "events", CHAT, os.time() + 8 * DAY)))
    assert.equal("false", check(openssl_token(NEW, "events", CHAT, os.time() - 1)))
    assert.equal("false", check(openssl_token(NEW, "events", CHAT, 10 ^ 13)))
    assert.equal(403, relay_status("token=" .. openssl_token(NEW, "events", CHAT, os.time() + 8 * DAY)))
  end)

  it("refuses secrets shorter than 32 bytes everywhere", function()
    local token = mint("purpose=events")
    for _, q in ipairs({ "secrets=short", "secrets=empty", "secrets=new,short" }) do
      assert.truthy(mint("purpose=events&" .. q):find("^error: .*at least 32 bytes"), q)
      assert.truthy(check(token, "purpose=events&" .. q):find("^error: .*at least 32 bytes"), q)
      assert.equal(500, relay_status("token=" .. token .. "&" .. q), q)
    end
    -- Under "" anyone could sign: the attack of the review.
    local forged = openssl_token("", "events", CHAT, os.time() + 60)
    assert.truthy(check(forged, "purpose=events&secrets=empty"):find("^error: "))
  end)

  it("rotates: the first secret signs, every listed one verifies", function()
    local old = mint("purpose=events&secrets=old")
    local both = mint("purpose=events&secrets=new,old")
    local expires = both:match("^v1%.events%.(%d+)%.")
    assert.equal(openssl_token(NEW, "events", CHAT, expires), both)
    assert.equal("true", check(old, "purpose=events&secrets=new,old"))
    assert.equal("false", check(old, "purpose=events&secrets=new"))
    assert.equal(204, relay_status("secrets=new,old&token=" .. old))
    assert.equal(403, relay_status("secrets=new&token=" .. old))
  end)

  it("rejects a signature that is shortened, lengthened or encoded another way", function()
    local expires = os.time() + 600
    local std = openssl_mac(NEW, "events", CHAT, expires)   -- standard base64, with its padding
    local mac = b64url(std)
    local last = mac:sub(-1)
    local prefix = "v1.events." .. expires .. "."
    assert.equal("true", check(prefix .. mac))
    local variants = {
      shortened = mac:sub(1, -2),
      lengthened = mac .. "A",
      padded = mac .. "=",
      standard = std,
      -- The last character holds 4 bits of the mac and 2 spare ones: a
      -- lenient decoder would read this one as the same bytes.
      spare_bits = mac:sub(1, -2) .. ALPHABET:sub(((ALPHABET:find(last, 1, true) - 1) ~ 1) + 1):sub(1, 1),
      percent = mac:sub(1, 10) .. "%" .. ("%02X"):format(mac:byte(11)) .. mac:sub(12),
      other_chat = b64url(openssl_mac(NEW, "events", OTHER, expires)),
    }
    for name, v in pairs(variants) do
      assert.are_not.equal(mac, v, name)
      assert.equal("false", check(prefix .. v), name)
    end
    assert.equal("false", check("v1.events." .. expires .. "0." .. mac))
    assert.equal("false", check(prefix .. mac .. "." .. mac))
  end)

  it("denies unless authorize answers exactly true", function()
    assert.equal(204, relay_status("mode=authorize&answer=true"))
    for _, a in ipairs({ "false", "nil", "yes", "one", "raise" }) do
      assert.equal(403, relay_status("mode=authorize&answer=" .. a), a)
    end
  end)

  it("carries the token in a cookie for the chat's relay path only", function()
    local cookie = get("/cookie?chat=" .. CHAT)
    local token = cookie:match("^homie_events=([^;]+); Path=/relay/" .. CHAT:gsub("%-", "%%-")
      .. "; Max%-Age=3600; HttpOnly; SameSite=Strict; Secure$")
    assert.truthy(token, cookie)
    assert.truthy(get("/cookie?secure=no&chat=" .. CHAT):find("SameSite=Strict$"))
    assert.equal("true", check(token, "purpose=events"))
    assert.equal(204, relay_status("mode=cookie", { Cookie = "homie_events=" .. token }))
    assert.equal(403, relay_status("mode=cookie&token=" .. token))  -- the query is not read
    assert.equal(403, relay_status("mode=cookie", { Cookie = "homie_events=" .. mint("purpose=post") }))
  end)
end)
