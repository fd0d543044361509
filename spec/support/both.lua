-- Runs a list of shared cases (spec/support/reliability_cases.lua is the
-- shape) on one transport, as busted `it`s:
--   require("spec.support.both").run("spec.support.reliability_cases", "curl",
--     { describe = describe, it = it, setup = setup, teardown = teardown })
-- (busted's functions are globals of the spec file only, so it hands them over.)
-- "socket": the LuaSocket test transport over homie.transport.h1, in this process.
-- "curl": each case runs in this process. "ngx": each case runs inside a
-- real nginx (spec/support/nginx.lua), which answers whether it held and,
-- if not, the failed assertion with its traceback. Either way the case gets
-- the same env (spec/support/case_env.lua) and makes the same assertions.
-- The list may carry `mock` (options for the emulator), `title`, and
-- `tls = false` when no case needs the https emulator.
local assert = require "luassert"
local case_env = require "spec.support.case_env"
local mock = require "spec.support.mock"

local M = {}

local sh, shq = mock.sh, mock.shq

-- The emulator, a port nobody listens on, and (when `tls`) the emulator
-- over https with a fresh self-signed certificate for 127.0.0.1, which
-- nobody trusts unless told.
local function start_servers(mock_opts, tls)
  local s = { dir = sh("mktemp -d /tmp/homie-cases.XXXXXX") }
  assert(s.dir ~= "", "mktemp failed")
  s.server = mock.start(mock_opts or {})
  s.dead_url = "http://127.0.0.1:" .. mock.dead_port()
  if not tls then return s end
  s.cert, s.key = mock.self_signed(s.dir .. "/cert.pem", s.dir .. "/key.pem")
  s.tls = mock.start{ tls_cert = s.cert, tls_key = s.key }
  return s
end

local function stop_servers(s)
  if not s then return end
  if s.server then s.server:stop() end
  if s.tls then s.tls:stop() end
  sh("rm -rf " .. shq(s.dir))
end

-- Each transport: start(servers, module name) -> run(i, case), stop().
local TRANSPORTS = {}

function TRANSPORTS.curl(s, modname)
  local cases = require(modname)
  local now = require("homie.sse").now
  return function(i)
    cases[i].run(case_env{ transport = "curl", server = s.server, tls_url = s.tls and s.tls.url, ca_file = s.cert,
      dead_url = s.dead_url, trust = { ca_file = s.cert }, now = now })
  end, function() end
end

-- The LuaSocket test transport (spec/support/socket_transport.lua), in this
-- process: every client of the case gets a fresh one.
function TRANSPORTS.socket(s, modname)
  local cases = require(modname)
  local socket_transport = require "spec.support.socket_transport"
  local now = require("homie.sse").now
  return function(i)
    local env = case_env{ transport = "socket", server = s.server, tls_url = s.tls and s.tls.url, ca_file = s.cert,
      dead_url = s.dead_url, trust = { ca_file = s.cert }, now = now }
    local new_client = env.new_client
    function env.new_client(opts, bare)
      local o = {}
      for k, v in pairs(opts or {}) do o[k] = v end
      if o.transport == nil then o.transport = socket_transport.new() end
      return new_client(o, bare)
    end
    cases[i].run(env)
  end, function() end
end

-- The code of the location that runs case ?i= of module ?module= in nginx.
local IN_NGINX = [[
  local T = require "spec.support.ngx_t"
  local assert = require "luassert"
local case_env = require "spec.support.case_env"
  local cases = require(ngx.var.arg_module)
  local env = case_env{ transport = "ngx", server = T.emulator(T.mock_url()), tls_url = os.getenv("TLS_URL"),
    dead_url = os.getenv("DEAD_URL"), ca_file = os.getenv("CA_FILE"), trust = {}, now = function() ngx.update_time(); return ngx.now() end }
  local ok, err = xpcall(cases[tonumber(ngx.var.arg_i)].run, debug.traceback, env)
  T.reply({ ok = ok, error = not ok and tostring(err) or nil })
]]

function TRANSPORTS.ngx(s, modname)
  local nginx = require "spec.support.nginx"
  nginx.build()
  local app = nginx.start{
    env = { MOCK_URL = s.server.url, TLS_URL = s.tls and s.tls.url or "", CA_FILE = s.cert or "", DEAD_URL = s.dead_url },
    -- A case marked `trusted` runs where nginx trusts the https emulator's CA.
    locations = { ["/case"] = IN_NGINX,
                  ["/case/trusted"] = s.cert and { conf = "lua_ssl_trusted_certificate " .. s.cert .. ";", lua = IN_NGINX } },
  }
  return function(i, case)
    local r = app:json(("%s?module=%s&i=%d"):format(case.trusted and "/case/trusted" or "/case", modname, i))
    assert.is_true(r.ok, "in nginx: " .. tostring(r.error))
  end, function() app:stop() end
end

M.TRANSPORTS = { "curl", "ngx", "socket" }

function M.run(modname, transport, busted)
  local cases = require(modname)
  local describe, it, setup, teardown = busted.describe, busted.it, busted.setup, busted.teardown
  describe(("%s (%s transport)"):format(cases.title or modname, transport), function()
    local servers, run, stop
    setup(function()
      servers = start_servers(cases.mock, cases.tls ~= false)
      run, stop = TRANSPORTS[transport](servers, modname)
    end)
    teardown(function()
      if stop then stop() end
      stop_servers(servers)
    end)
    for i, case in ipairs(cases) do
      it(case.name, function() run(i, case) end)
    end
  end)
end

return M
