-- The reliability cases (spec/support/reliability_cases.lua) on the LuaSocket
-- test transport (spec/support/socket_transport.lua), which reuses the
-- HTTP/1.1 exchange of homie.transport.h1 outside nginx.
require("spec.support.both").run("spec.support.reliability_cases", "socket",
  { describe = describe, it = it, setup = setup, teardown = teardown })
