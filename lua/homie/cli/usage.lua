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
  --mock             start the local emulator (bin/homie-mock) for this command,
                     with a key of its own (HOMIE_API_KEY is not used)
  --verbose          each request on stderr: method, path, status, time, request
                     id (the key never); HOMIE_LOG=debug does the same
  -h, --help         this help
The key comes from HOMIE_API_KEY.
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
  mock      run the local emulator until Ctrl-C and print the lines that
            point other shells at it

Run `homie COMMAND --help` for a command's options, `homie --version` for
the version; doc/cli.md has the exit statuses and examples.
]],
  chat = [[
usage: homie chat [--url PAGE] [--store ID] [--chat ID] [--chatbot ID]

An interactive conversation. Type a question; while Homie works you see the
typing indicator and its steps, then the answer as it is written, products
as a table and numbered suggestions (type the number to send one). Lines
can be edited and recalled (arrow keys) when lua-readline is installed.
Ctrl-C during an answer cancels it; at the prompt, Ctrl-C or Ctrl-D leaves.

  --url PAGE         the page the shopper is on, sent with every message
                     (default: https://store.com/, the emulator's shop)
  --store ID         the store, for multi-store shops
  --chat ID          continue this chat instead of starting a new one
  --chatbot ID       the chat bot of new chats (default: HOMIE_CHATBOT_ID)

Commands inside the chat:
  /history           the chat's messages so far
  /new               start a new chat
  /url PAGE          change the shopper's page (/url alone shows it)
  /help              these commands
  /quit              leave (so do Ctrl-C and Ctrl-D at the prompt)
]],
  send = [[
usage: homie send TEXT [--url PAGE] [--chat ID] [--store ID] [--chatbot ID] [--json]

Sends TEXT (with TEXT -, the text read from stdin) and prints Homie's
reply: the answer, products and suggestions. Without --chat a new chat is
started and its id printed on stderr. An empty TEXT is refused before
anything is sent.

  --url PAGE         the page the shopper is on (default: https://store.com/)
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

"connected" on stderr says the stream is open and the wait is for events.
--mock is refused: an emulator started for one command knows no chat (run
`homie mock` instead).
]],
  mock = [[
usage: homie mock [--port N]

Starts the local emulator (bin/homie-mock) and keeps it running until
Ctrl-C. It prints three lines to paste into other shells:
  export HOMIE_BASE_URL=http://127.0.0.1:PORT
  export HOMIE_API_KEY=homie-mock-...     (a fresh key for this emulator only)
  export HOMIE_CHATBOT_ID=5e9c1a2b-...    (the docs' example chat bot)
after which every homie command (and your own programs) talk to it, and
chats live across commands.

  --port N           the port (default: a free one)
  -h, --help         this help
]],
}

function M.text(command)
  local t = M.TEXT[command] or M.TEXT.main
  if command and M.TEXT[command] and command ~= "mock" then t = t .. "\n" .. COMMON end
  return t
end

return M
