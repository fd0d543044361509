-- TLS session resumption on the fresh connection every send opens
-- (doc/openresty.md, "TLS"; doc/transport.md). Counted by the server: a
-- real nginx logs `$ssl_session_reused` per request, one listener TLS 1.2
-- only, one TLS 1.3 only (spec/support/tls_handshakes.lua). Of N sends in
-- a row, only the first may cost a full handshake on either transport.
local hs = require "spec.support.tls_handshakes"

local N = 10

describe("TLS session resumption on sends", function()
  local lab

  setup(function()
    -- Debian 12's ngx_lua offers TLS 1.2 at most unless told otherwise;
    -- a session cache on the server, as most HTTPS servers keep one (libcurl
    -- 7.88 resumes TLS 1.2 by session id only, not by ticket).
    lab = hs.start{ client_protocols = "TLSv1.2 TLSv1.3", session_cache = "shared:hs:1m" }
  end)

  teardown(function() if lab then lab:stop() end end)

  local function check(full, resumed, protocols, want)
    assert.is_true(protocols[want], "the server spoke " .. want)
    assert.are.equal(N, full + resumed, "every send made one connection")
    assert.is_true(full <= 1, ("%d full handshakes for %d sends (%d resumed): only the first may be full")
      :format(full, N, resumed))
  end

  it("ngx transport: never resumes a session where another CA is trusted", function()
    -- Sessions made in /t/sends, where the test certificate is trusted; a
    -- resumed handshake verifies nothing, so offering them here would let
    -- the untrusted server through.
    lab:ngx_sends(lab.v12, 2)
    local failures = lab:ngx_try(lab.v12, 3, "/t/sends_elsewhere")
    assert.are.equal(3, #failures, "every send refused")
    for _, message in ipairs(failures) do assert.matches("certificate", message) end
  end)

  for _, case in ipairs({ { "v12", "TLSv1.2" }, { "v13", "TLSv1.3" } }) do
    local port_of, protocol = case[1], case[2]

    it("ngx transport: sends over " .. protocol .. " resume the session of the previous one", function()
      local full, resumed, protocols = lab:ngx_sends(lab[port_of], N)
      check(full, resumed, protocols, protocol)
    end)

    it("curl transport: sends over " .. protocol .. " resume the session of the previous one", function()
      local full, resumed, protocols = lab:curl_sends(lab[port_of], N)
      check(full, resumed, protocols, protocol)
    end)
  end
end)
