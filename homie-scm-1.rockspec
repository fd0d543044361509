rockspec_format = "3.0"
package = "homie"
version = "scm-1"
source = { url = "git+file:///dev/null" }
description = {
  summary = "Lua SDK for the Homie AI chat API, with a C core over libcurl",
  detailed = [[
Create chats, send shoppers' messages, read replies with product cards, page
through history and follow a chat's event stream, with retries that honour
the server, typed errors and many chats in flight from one Lua thread.
]],
  license = "MIT",
}
dependencies = { "lua >= 5.1", "lua-cjson" }
-- The library only: Debian keeps curl/curl.h in a multiarch folder that
-- luarocks does not search but the compiler does.
external_dependencies = { CURL = { library = "curl" } }
build = {
  type = "builtin",
  install = { bin = { homie = "bin/homie" } },
  modules = {
    ["homie"] = "lua/homie/init.lua",
    ["homie.client"] = "lua/homie/client.lua",
    ["homie.chat"] = "lua/homie/chat.lua",
    ["homie.errors"] = "lua/homie/errors.lua",
    ["homie.session"] = "lua/homie/session.lua",
    ["homie.api"] = "lua/homie/api.lua",
    ["homie.clock"] = "lua/homie/clock.lua",
    ["homie.policy"] = "lua/homie/policy.lua",
    ["homie.observe"] = "lua/homie/observe.lua",
    ["homie.stream"] = "lua/homie/stream.lua",
    ["homie.ask"] = "lua/homie/ask.lua",
    ["homie.util"] = "lua/homie/util.lua",
    ["homie.message"] = "lua/homie/message.lua",
    ["homie.reconcile"] = "lua/homie/reconcile.lua",
    ["homie.transport"] = "lua/homie/transport/init.lua",
    ["homie.transport.curl"] = "lua/homie/transport/curl.lua",
    ["homie.transport.curl_sched"] = "lua/homie/transport/curl_sched.lua",
    ["homie.transport.ngx"] = "lua/homie/transport/ngx.lua",
    ["homie.transport.ngx_phase"] = "lua/homie/transport/ngx_phase.lua",
    ["homie.transport.http1"] = "lua/homie/transport/http1.lua",
    ["homie.transport.h1"] = "lua/homie/transport/h1.lua",
    ["homie.ngx"] = "lua/homie/ngx.lua",
    -- bin/homie, the terminal client (doc/cli.md)
    ["homie.cli.args"] = "lua/homie/cli/args.lua",
    ["homie.cli.commands"] = "lua/homie/cli/commands.lua",
    ["homie.cli.context"] = "lua/homie/cli/context.lua",
    ["homie.cli.json"] = "lua/homie/cli/json.lua",
    ["homie.cli.main"] = "lua/homie/cli/main.lua",
    ["homie.cli.mock"] = "lua/homie/cli/mock.lua",
    ["homie.cli.render"] = "lua/homie/cli/render.lua",
    ["homie.cli.session"] = "lua/homie/cli/session.lua",
    ["homie.cli.term"] = "lua/homie/cli/term.lua",
    ["homie.cli.usage"] = "lua/homie/cli/usage.lua",
    ["homie.cli.input"] = "lua/homie/cli/input.lua",
    ["homie.cli.wrap"] = "lua/homie/cli/wrap.lua",
    -- The C sources repeat mk/sources.mk (scripts/check-rock compares them).
    ["homie.sse"] = {
      sources = { "csrc/lsse_module.c", "csrc/lsse.c", "csrc/sse.c", "csrc/ljson.c", "csrc/lbind.c" },
      incdirs = { "csrc" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
    ["homie.curl"] = {
      sources = { "csrc/lcurl.c", "csrc/lrequest.c", "csrc/transport.c", "csrc/lbind.c" },
      libraries = { "curl" },
      incdirs = { "csrc" },
      libdirs = { "$(CURL_LIBDIR)" },
      defines = { "_POSIX_C_SOURCE=200809L" },
    },
  },
}
