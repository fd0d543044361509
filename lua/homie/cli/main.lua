-- bin/homie's entry: picks the command, parses its flags, runs it, and
-- turns the outcome into one line on stderr and an exit status
-- (usage.EXIT; doc/cli.md). Nothing here exits: run returns the status.
local args = require "homie.cli.args"
local usage = require "homie.cli.usage"
local context = require "homie.cli.context"
local render = require "homie.cli.render"
local commands = require "homie.cli.commands"
local session = require "homie.cli.session"

local M = {}
local EXIT = usage.EXIT

local COMMON = { staging = "switch", ["base-url"] = "value", mock = "switch", help = "switch", verbose = "switch" }

local function flags(extra)
  local t = {}
  for k, v in pairs(COMMON) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- nargs: the positionals a command takes; on_interrupt: its exit status
-- after Ctrl-C (leaving a chat that way is normal).
local COMMANDS = {
  chat = { run = session.run, nargs = {}, on_interrupt = EXIT.ok,
    flags = flags{ url = "value", store = "value", chat = "value", chatbot = "value" } },
  send = { run = commands.send, nargs = { "TEXT" }, on_interrupt = EXIT.interrupted,
    flags = flags{ url = "value", store = "value", chat = "value", chatbot = "value", json = "switch" } },
  history = { run = commands.history, nargs = { "CHAT_ID" }, on_interrupt = EXIT.interrupted,
    flags = flags{ json = "switch" } },
  events = { run = commands.events, nargs = { "CHAT_ID" }, on_interrupt = EXIT.interrupted,
    flags = flags{ ["last-event-id"] = "value" } },
  mock = { run = commands.mock, nargs = {}, on_interrupt = EXIT.ok,
    flags = { port = "value", help = "switch" } },
}

local function exit_status(err)
  return EXIT[err.kind] or EXIT.internal
end

-- The positionals must match the command's.
local function check_positionals(name, want, got)
  if #got < #want then
    args.usage_error(("%s needs %s"):format(name, table.concat(want, " ")), name)
  elseif #got > #want then
    args.usage_error(("%s takes %s, not also '%s'"):format(name,
      #want > 0 and table.concat(want, " ") or "no arguments", got[#want + 1]), name)
  end
end

-- Runs one command. env: { getenv, root, stdout?, stderr?, stdin?, tty? }.
-- Returns the exit status.
function M.run(argv, env)
  local stdout, stderr = env.stdout or io.stdout, env.stderr or io.stderr
  local name = argv[1]
  if name == nil then
    stderr:write(usage.text())
    return EXIT.usage
  elseif name == "-h" or name == "--help" or name == "help" then
    stdout:write(usage.text(argv[2]))
    return EXIT.ok
  elseif name == "--version" or name == "-V" then
    stdout:write(("homie %s (%s)\n"):format(require("homie").VERSION, _VERSION))
    return EXIT.ok
  end
  local cmd = COMMANDS[name]
  local ctx
  local ok, result = pcall(function()
    if not cmd then
      local near = require("homie.util").nearest(name, COMMANDS)
      args.usage_error(("unknown command '%s'%s"):format(name,
        near and ("; did you mean '" .. near .. "'?") or ""))
    end
    local opts, rest = args.parse(argv, 2, cmd.flags, name)
    if opts.help then
      stdout:write(usage.text(name))
      return
    end
    check_positionals(name, cmd.nargs, rest)
    ctx = context.new(name, opts, env)
    return cmd.run(ctx, opts, rest)
  end)
  if ctx then ctx:close() end  -- stops the emulator under --mock, whatever happened

  if ok then
    if result == nil then return EXIT.ok end
    stderr:write(render.error_line(result, ctx and ctx.secret), "\n")
    return exit_status(result)
  elseif args.is_usage_error(result) then
    stderr:write("homie: ", result.message, "\n")
    stderr:write("Run 'homie ", result.command and (result.command .. " ") or "", "--help' for usage.\n")
    return EXIT.usage
  elseif type(result) == "string" and result:find("interrupted!$") then
    -- Ctrl-C: the standalone interpreter raises "interrupted!".
    if ctx then ctx:out("\n") end
    return cmd and cmd.on_interrupt or EXIT.interrupted
  end
  -- The SDK refusing what the user typed (a malformed chat id, a bad URL):
  -- its message, without the Lua position in front.
  local refused = type(result) == "string" and (result:match("^homie: .*") or result:match("^[^\n]-:%d+: (homie: .*)"))
  if refused then
    stderr:write(refused, "\n")
    return EXIT.usage
  end
  stderr:write("homie: internal error: ", tostring(result), "\n")
  return EXIT.internal
end

return M
