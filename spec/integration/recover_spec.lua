-- Recovered replies (spec/support/recover_cases.lua) on every transport:
-- libcurl and LuaSocket in this process, ngx inside a real nginx, the same assertions.
local both = require "spec.support.both"
for _, transport in ipairs(both.TRANSPORTS) do
  both.run("spec.support.recover_cases", transport, { describe = describe, it = it, setup = setup, teardown = teardown })
end
