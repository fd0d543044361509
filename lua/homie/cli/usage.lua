-- The help texts of bin/homie and its exit statuses (doc/cli.md has the
-- same table; keep them together).
local M = {}

-- Exit status per outcome: 0 success, 2 usage, then one per error kind.
M.EXIT = {
  ok = 0, internal = 1, usage = 2,
  connection = 3, timeout = 4, authentication = 5, permission = 6, not_found = 7,
  invalid_request = 8, rate_limit = 9, server = 10, protocol = 11,
  emulator = 12, interrupted = 130,
}

local COMMON = [[
Connection (every command):
  --base-url URL     the API's base URL (default: HOMIE_BASE_URL, else production)
  --staging          the staging API (https://staging.api.yourhomie.ai)
  --mock             start the local emulator (bin/homie-mock) for this command
  -h, --help         this help
The key comes from HOMIE_API_KEY (with --mock, any key works).
]]

M.TEXT = {
  main = [[
usage: homie COMMAND [OPTIONS]

A terminal client for the Homie AI chat API.

Commands:
  chat      an interactive conversation (streamed answers, product cards)
  send      send one message and print the reply
  history   print a chat's messages
  events    follow a chat's event stream as JSON lines

Run `homie COMMAND --help` for a command's options; doc/cli.md has the
exit statuses and examples.
]],
  chat = [[
usage: homie chat [--url PAGE] [--store ID] [--chat ID] [--chatbot ID]

An interactive conversation. Type a question; while Homie works you see the
typing indicator and its steps, then the answer as it is written, products
as a table and numbered suggestions (type the number to send one).

  --url PAGE         the page the shopper is on (sent with every message)
  --store ID         the store, for multi-store shops
  --chat ID          continue this chat instead of starting a new one
  --chatbot ID       the chat bot of new chats (default: HOMIE_CHATBOT_ID)

Commands inside the chat:
  /history           the chat's messages so far
  /new               start a new chat
  /url PAGE          change the shopper's page (/url alone shows it)
  /help              these commands
  /quit              leave (so do Ctrl-C and Ctrl-D)
]],
  send = [[
usage: homie send TEXT --url PAGE [--chat ID] [--store ID] [--chatbot ID] [--json]

Sends TEXT and prints Homie's reply: the answer, products and suggestions.
Without --chat a new chat is started and its id printed on stderr.

  --url PAGE         the page the shopper is on (required)
  --chat ID          send in this chat
  --store ID         the store, for multi-store shops
  --chatbot ID       the chat bot of a new chat (default: HOMIE_CHATBOT_ID)
  --json             print the reply as one line of JSON
]],
  history = [[
usage: homie history CHAT_ID [--json]

Prints every message of the chat, oldest first.

  --json             print the messages as one JSON array
]],
  events = [[
usage: homie events CHAT_ID [--last-event-id N]

Follows the chat's event stream and prints each event as one line of JSON,
{"data":...,"id":"N","type":"..."}, until the stream ends or Ctrl-C. A
dropped connection is resumed from the last event seen; --last-event-id
resumes an earlier run (pass the last "id" it printed).

  --last-event-id N  start after event N
]],
}

function M.text(command)
  local t = M.TEXT[command] or M.TEXT.main
  if command and M.TEXT[command] then t = t .. "\n" .. COMMON end
  return t
end

return M
